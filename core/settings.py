"""Settings: config.toml plus environment overrides, validated once at start-up.

Every key can be overridden as ``SALESBOT_<SECTION>__<KEY>``; a few short names exist for the
settings operators change most (see ``SHORT_ENV_NAMES``).
"""

from __future__ import annotations

import os
import re
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.workcalendar import china_says

CONFIG_ENV = "SALESBOT_CONFIG"
DEFAULT_CONFIG = Path("config.toml")

# Short environment names -> dotted setting path.
SHORT_ENV_NAMES: dict[str, tuple[str, ...]] = {
    "SALESBOT_TOKEN": ("telegram", "token"),
    "SALESBOT_API_URL": ("telegram", "api_url"),
    "SALESBOT_FILE_URL": ("telegram", "file_url"),
    "SALESBOT_DATABASE_URL": ("database", "url"),
    "SALESBOT_ADMINS": ("access", "admins"),
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Language = Literal["en", "zh"]
# `[defaults] language` when config.toml does not set it: the language of a person who chose
# none and whose Telegram client's language the bot does not speak. The one default language;
# core.i18n.FALLBACK_LANGUAGE only supplies texts missing in a catalogue.
DEFAULT_LANGUAGE: Language = "zh"


def _monday_to_friday() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the key in one line."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org/bot"
    file_url: str = "https://api.telegram.org/file/bot"
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0)
    poll_timeout: int = Field(default=30, ge=0, le=50)


class DatabaseSettings(_Section):
    url: str | None = None
    echo: bool = False


class AccessSettings(_Section):
    admins: Annotated[list[int], NoDecode] = Field(default_factory=list)
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class RuntimeSettings(_Section):
    max_concurrent_updates: int = Field(default=64, ge=1, le=1024)
    form_ttl_hours: int = Field(default=72, ge=1)


class LimitsSettings(_Section):
    """A token bucket per person: ``burst`` updates at once, then ``per_second`` more."""

    burst: int = Field(default=20, ge=1, le=100_000)
    per_second: float = Field(default=1.0, gt=0, le=1000)


MIN_SECRET_LENGTH = 32


class WebhookSettings(_Section):
    """Serving Telegram's webhook instead of long polling (several instances behind a proxy)."""

    enabled: bool = False
    # The public HTTPS address Telegram posts to (the reverse proxy in front of the instances).
    url: str = ""
    # Where this instance listens; the proxy forwards to it.
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    path: str = "/telegram"
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; requests without it get 403.
    secret_token: SecretStr | None = None
    max_connections: int = Field(default=40, ge=1, le=100)
    # A request body larger than this is refused (413): an update is a few kilobytes.
    max_body_bytes: int = Field(default=1_048_576, ge=16_384, le=16_777_216)
    # A client that takes longer than this to send its body is cut off (408).
    read_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Connections served at once by this instance; beyond it uvicorn answers 503.
    limit_concurrency: int = Field(default=200, ge=8, le=10_000)
    # GET /health shows only ok/failing to anyone; its details (database, outbox, sender, instance)
    # need "Authorization: Bearer <health_token>".
    health_token: SecretStr | None = None

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return value if value.startswith("/") else "/" + value

    def require_secret(self) -> str:
        secret = self.secret_token.get_secret_value() if self.secret_token else ""
        # Anyone who knows it can post updates as any user: it must not be guessable.
        if not re.fullmatch(rf"[A-Za-z0-9_-]{{{MIN_SECRET_LENGTH},256}}", secret):
            raise ConfigError(
                f"Configuration error: webhook.secret_token is missing or invalid "
                f"({MIN_SECRET_LENGTH}-256 of "
                "A-Z a-z 0-9 _ -; set SALESBOT_WEBHOOK__SECRET_TOKEN)"
            )
        return secret


# Amap's road map (style 8) from its four tile hosts: the default for China.
AMAP_TILES = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
TILE_PARTS = ("{z}", "{x}", "{y}")


class WebappSettings(_Section):
    """The managers' cockpit (a Telegram Mini App): served by the webhook's server, or on its
    own port while polling."""

    enabled: bool = False
    # The public HTTPS address of the cockpit's page as Telegram opens it (the reverse proxy in
    # front of the instances), e.g. "https://bot.example.com/app/". Empty: no menu button.
    url: str = ""
    # Where this instance serves it while polling (with a webhook, the webhook's server does).
    listen: str = "127.0.0.1"
    port: int = Field(default=8444, ge=1, le=65535)
    # A sign-in (Telegram's signed initData) older than this is refused: reopen the cockpit.
    max_age_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    # The Map page's tiles ({s} subdomain, {z}/{x}/{y}); "" shows the points on a plain
    # background. Amap's tiles (autonavi.com, amap.com) are drawn in GCJ-02, China's datum:
    # the phones' WGS-84 points are shifted to it for them (services/geo.py).
    map_tiles: str = AMAP_TILES
    map_subdomains: str = "1234"
    map_attribution: str = "© 高德地图 AutoNavi"

    @field_validator("map_tiles")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        value = value.strip()
        if value and not (
            re.match(r"^https?://[^/?#]+/", value) and all(p in value for p in TILE_PARTS)
        ):
            raise ValueError("map_tiles: an http(s) address with {z}, {x} and {y}, or empty")
        return value

    @property
    def tile_origins(self) -> list[str]:
        """The origins the page may load tiles from (for its Content-Security-Policy)."""
        if not self.map_tiles:
            return []
        origin = re.match(r"^https?://[^/?#]+", self.map_tiles)
        assert origin is not None
        subdomains = list(self.map_subdomains) if "{s}" in origin[0] else [""]
        return sorted({origin[0].replace("{s}", s) for s in subdomains})

    @property
    def tiles_gcj02(self) -> bool:
        """Whether the tiles are Amap's (GCJ-02) rather than WGS-84 (OpenStreetMap and most)."""
        host = self.map_tiles.split("/")[2] if self.map_tiles else ""
        return host.endswith((".autonavi.com", ".amap.com"))

    @property
    def page_url(self) -> str:
        """The address buttons open, or "" when the cockpit is off or has no public address."""
        return self.url if self.enabled and self.url.startswith("https://") else ""


class DeliverySettings(_Section):
    """How the outbox sender stays inside Telegram's limits and retries."""

    per_chat_per_second: float = Field(default=1.0, gt=0, le=30)
    global_per_second: float = Field(default=30.0, gt=0, le=1000)
    # Fraction kept below both limits so network jitter never pushes a burst over them.
    safety_margin: float = Field(default=0.03, ge=0, lt=0.5)
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=600.0, gt=0)
    # A row claimed for sending by a process that then died is sent again after this long.
    sending_lease_seconds: int = Field(default=60, ge=5)
    # How long one instance holds the sender role before another may take it over.
    sender_lease_seconds: int = Field(default=15, ge=3)
    poll_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    # A direct reply is retried (by the same rules) for at most this long after its turn
    # committed: the person is waiting, and their next updates wait behind it.
    reply_deadline_seconds: float = Field(default=60.0, gt=0, le=600)


class SchedulerSettings(_Section):
    enabled: bool = True
    # Runs missed while the bot was down are made up at start-up only this far back at most.
    catch_up_days: int = Field(default=8, ge=1, le=40)
    # A claimed run still "running" after this long is considered crashed and may run again.
    stale_run_minutes: float = Field(default=30, gt=0)
    # How often a running instance looks for runs due within their grace window that never
    # happened or whose instance died while running them (the claim keeps this once-only).
    recover_every_seconds: float = Field(default=60, gt=0)
    # One run of a job pushes at most this many messages to one chat; what is held back waits
    # for the next run (a digest gathers the rest, so this is a safety net).
    max_messages_per_chat: int = Field(default=3, ge=1, le=100)


class BackupSettings(_Section):
    """The scheduled backup: when, where, and how many copies are kept."""

    enabled: bool = True
    # A schedule in the jobs' form ("daily 02:30", "workdays 22:00"), in the first team's timezone.
    at: str = "daily 02:30"
    # The folder backups go to; relative paths are taken from the config file's folder.
    folder: Path = Path("backups")
    # The newest backup of each of the last `keep_daily` days that have one, and of each of the
    # last `keep_weekly` ISO weeks, are kept; older scheduled backups are deleted.
    keep_daily: int = Field(default=7, ge=1, le=366)
    keep_weekly: int = Field(default=4, ge=0, le=520)
    # /health says "failing" (and an alert goes to the admins) when the newest backup is older.
    max_age_hours: float = Field(default=48, gt=0)


class MetricsSettings(_Section):
    """The Prometheus endpoint: GET /metrics on the webhook's server, or on its own port when
    polling."""

    enabled: bool = True
    # Polling mode only (a webhook instance serves /metrics on its own listen address and port).
    listen: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)
    # Scrapers send "Authorization: Bearer <token>". Required when /metrics is reachable from
    # elsewhere: on a webhook server, or when `listen` is not a loopback address.
    token: SecretStr | None = None
    # The outbox counts as stuck (/health failing, an alert) when a row has been due this long.
    outbox_stuck_minutes: float = Field(default=15, gt=0)
    # An alert goes to the admins when more rows than this wait for `backlog_minutes`.
    backlog_limit: int = Field(default=500, ge=1)
    backlog_minutes: float = Field(default=10, gt=0)


class JobSchedule(_Section):
    """When a scheduled job runs for a team: ``at`` is "<days> HH:MM" in the team's timezone.

    days: daily, workdays, first-workday (of the month), mon..sun, ranges like mon-fri, lists
    like mon,wed,fri, or day-N (the Nth day of the month). A frequent job: "<daily|workdays|
    workhours> every N m" (workhours: the team's working days, workday_start to workday_end).
    """

    at: str | None = None
    grace_minutes: int | None = Field(default=None, ge=0)
    enabled: bool = True


class TargetSettings(_Section):
    """What a rep is expected to do: visits a week (ISO week) and new customers a month."""

    in_person_per_week: int = Field(default=15, ge=0, le=1000)
    phone_per_week: int = Field(default=20, ge=0, le=1000)
    new_customers_per_month: int = Field(default=8, ge=0, le=1000)


class CadenceSettings(_Section):
    """Days between visits a customer of each tier should get."""

    A: int = Field(default=14, ge=1, le=3650)
    B: int = Field(default=28, ge=1, le=3650)
    C: int = Field(default=90, ge=1, le=3650)

    def days(self, tier: str) -> int:
        return int(getattr(self, tier, self.C))


class VisitSettings(_Section):
    """Visit logging rules."""

    # An in-person check-in farther than this from the customer's stored location is flagged.
    checkin_radius_m: int = Field(default=200, ge=10, le=100_000)
    # Visits can be edited or deleted this long after they were logged.
    edit_window_hours: int = Field(default=24, ge=1, le=24 * 31)
    cadence_days: CadenceSettings = Field(default_factory=CadenceSettings)
    # Local time of the morning message (today's planned visits and due follow-ups).
    morning_message: time = time(8, 30)
    # A checked-in visit checked out sooner than this is flagged as short.
    min_on_site_minutes: int = Field(default=5, ge=0, le=24 * 60)
    # Metres around the rep's last location that /nearby lists customers within.
    nearby_radius_m: int = Field(default=3000, ge=50, le=100_000)
    # The map app of the navigation links: Amap (GCJ-02), Baidu Maps (BD-09) or Google Maps.
    map_app: Literal["amap", "baidu", "google"] = "amap"


ApproverLevel = Literal["manager", "director"]
# Who a type's requests are copied to (抄送): the requester's team manager, every director, or
# every admin.
CcRole = Literal["manager", "director", "admin"]


class RouteRule(_Section):
    """One routing rule of a request type: when every condition given holds, ``chain`` decides.

    ``amount_above``: the request's amount (in the team's currency) is greater than this.
    ``discount_above``: the discount is more than this many percent. A rule without conditions
    matches every request, so the last rule of a type must have none.
    """

    amount_above: Decimal | None = Field(default=None, ge=0)
    discount_above: Decimal | None = Field(default=None, ge=0, le=100)
    chain: list[ApproverLevel] = Field(min_length=1, max_length=4)

    @property
    def unconditional(self) -> bool:
        return self.amount_above is None and self.discount_above is None


def _rules(*rules: dict[str, Any]) -> list[RouteRule]:
    return [RouteRule.model_validate(rule) for rule in rules]


def _default_routes() -> dict[str, list[RouteRule]]:
    """The company rules shipped in config.toml; used when a config says nothing."""
    both = ["manager", "director"]
    return {
        "expense": _rules({"amount_above": 2000, "chain": both}, {"chain": ["manager"]}),
        "discount": _rules({"discount_above": 15, "chain": both}, {"chain": ["manager"]}),
        "special_fee": _rules({"amount_above": 5000, "chain": both}, {"chain": ["manager"]}),
        "bid": _rules({"amount_above": 500000, "chain": both}, {"chain": ["manager"]}),
        "return": _rules({"chain": ["manager"]}),
        "invoice": _rules({"amount_above": 100000, "chain": both}, {"chain": ["manager"]}),
        # Credit notes and write-offs above collections.adjustment_approval_above.
        "credit_note": _rules({"chain": ["director"]}),
        "write_off": _rules({"chain": ["director"]}),
    }


class ApprovalSettings(_Section):
    """Approval routing and timing of a team (see [defaults.approvals] in config.toml)."""

    # ISO 4217 code of the amounts people type; amounts are stored exactly, in minor units.
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    # A larger amount is refused as a typo.
    max_amount: Decimal = Field(default=Decimal(10_000_000), gt=0, le=Decimal(10) ** 12)
    # Working hours (team timezone, working days) a request waits before its approvers are
    # reminded, and before it moves on to the next level (or to the directors).
    remind_after_hours: float = Field(default=4, gt=0, le=24 * 30)
    escalate_after_hours: float = Field(default=8, gt=0, le=24 * 60)
    # Receipts (photos or files) a request may carry.
    max_attachments: int = Field(default=5, ge=1, le=10)
    # Per request type: the first rule whose conditions hold gives the chain of approver levels.
    routes: dict[str, list[RouteRule]] = Field(default_factory=_default_routes)
    # Per request type: the roles that get a read-only copy and the outcome (抄送).
    cc: dict[str, list[CcRole]] = Field(default_factory=dict)

    @field_validator("routes", mode="before")
    @classmethod
    def _shipped_routes_for_types_not_given(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {**_default_routes(), **value}
        return value

    @field_validator("routes")
    @classmethod
    def _catch_all_last(cls, value: dict[str, list[RouteRule]]) -> dict[str, list[RouteRule]]:
        for kind, rules in value.items():
            if not rules or not rules[-1].unconditional:
                raise ValueError(
                    f"routes.{kind}: the last rule must have no condition (only a chain), "
                    "so that every request finds its approvers"
                )
            for rule in rules:
                if len(set(rule.chain)) != len(rule.chain) or rule.chain != sorted(
                    rule.chain, key=("manager", "director").index
                ):
                    raise ValueError(
                        f"routes.{kind}: a chain goes from manager to director, each once"
                    )
        return value

    @model_validator(mode="after")
    def _escalate_after_reminding(self) -> ApprovalSettings:
        if self.escalate_after_hours <= self.remind_after_hours:
            raise ValueError("escalate_after_hours must be more than remind_after_hours")
        return self


class ReportSettings(_Section):
    """Daily and weekly work reports."""

    # A daily report first submitted after this time of its day (or on a later day) is marked
    # late; None means the team's workday_end.
    due_at: time | None = None
    # A missed daily report can still be written, marked late, for this many days afterwards.
    late_window_days: int = Field(default=7, ge=0, le=31)


DunningTone = Literal["friendly", "due", "firm", "urgent", "final"]
DunningRecipient = Literal["rep", "manager", "director"]


class DunningStep(_Section):
    """One reminder of the dunning schedule: ``days`` after the due date (negative: before)."""

    days: int = Field(ge=-90, le=3650)
    # The wording: friendly (before the due date), due (on it), firm, urgent, final.
    tone: DunningTone
    # Who is told: the rep who owns the receivable; from a later step their manager too; from
    # a still later step the directors.
    recipients: list[DunningRecipient] = Field(default_factory=lambda: ["rep"], min_length=1)  # type: ignore[arg-type]

    @field_validator("recipients")
    @classmethod
    def _rep_first(cls, value: list[str]) -> list[str]:
        if "rep" not in value:
            raise ValueError('every step goes to the rep (add "rep" to its recipients)')
        return sorted(set(value), key=("rep", "manager", "director").index)


def _default_dunning_steps() -> list[DunningStep]:
    return [
        DunningStep(days=-3, tone="friendly", recipients=["rep"]),
        DunningStep(days=0, tone="due", recipients=["rep"]),
        DunningStep(days=7, tone="firm", recipients=["rep"]),
        DunningStep(days=14, tone="urgent", recipients=["rep", "manager"]),
        DunningStep(days=30, tone="final", recipients=["rep", "manager", "director"]),
    ]


class CollectionSettings(_Section):
    """Receivables and the dunning schedule of reminders."""

    # ISO 4217 code used when an import row or a receivable typed in chat names no currency.
    currency: str = "CNY"
    steps: list[DunningStep] = Field(default_factory=_default_dunning_steps, min_length=1)
    # A document never reminded starts at the first step, whatever its age, and moves up at
    # most one step per this many days, so nobody's first message is the final notice.
    step_interval_days: int = Field(default=3, ge=1, le=90)
    # A customer owing less than this (in the document's currency) is not escalated to the
    # directors; their manager still hears of it.
    director_min_amount: Decimal = Field(default=Decimal(0), ge=0)
    # A promised payment date may be at most this many days ahead.
    promise_max_days: int = Field(default=60, ge=1, le=365)
    # An invoice request shows the collected share of its contract; below this percentage the
    # request is marked on the approver's card (or refused when refuse_invoice_below is true).
    invoice_min_collected_percent: int = Field(default=60, ge=0, le=100)
    refuse_invoice_below: bool = False
    # How a payment may come, offered as buttons when one is recorded. The codes transfer,
    # cash, cheque, acceptance_bill, wechat and alipay are shown in the reader's language; any
    # other entry is shown as written (e.g. "商业汇票").
    payment_methods: list[str] = Field(
        default_factory=lambda: ["transfer", "cash", "cheque", "acceptance_bill"], min_length=1
    )
    # A valid dispute ends in a credit note or a write-off: up to this amount the manager's
    # decision applies at once; above it, it is an approval request (types credit_note and
    # write_off under [approvals.routes]) applied only once approved.
    adjustment_approval_above: Decimal = Field(default=Decimal(5000), ge=0)

    @field_validator("payment_methods")
    @classmethod
    def _methods(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(item.split()) for item in value]
        if any(not item or len(item) > 32 for item in cleaned):
            raise ValueError("a payment method is 1 to 32 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("a payment method is listed twice")
        return cleaned

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        from babel.numbers import get_currency_name

        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha() or get_currency_name(code, locale="en") == code:
            raise ValueError(f"unknown currency {value!r} (use an ISO code such as CNY)")
        return code

    @field_validator("steps")
    @classmethod
    def _ordered_steps(cls, value: list[DunningStep]) -> list[DunningStep]:
        days = [step.days for step in value]
        if len(set(days)) != len(days):
            raise ValueError("two dunning steps on the same day")
        return sorted(value, key=lambda step: step.days)


class TeamSettings(_Section):
    """Effective settings of one team: `[defaults]` deep-merged with `[teams.<key>]`."""

    name: str = ""
    timezone: str = "Asia/Shanghai"
    language: Language = DEFAULT_LANGUAGE
    working_days: list[Weekday] = Field(default_factory=lambda: _monday_to_friday())
    # The public calendar the team follows: "china" (holidays and 调休 of chinese-calendar, for
    # the years it covers) or "none" (only working_days and the dates below).
    calendar: Literal["china", "none"] = "china"
    # Days off added to the calendar, and working days added to it (a 调休 Saturday the library
    # does not know yet, or a holiday the team works anyway). These win over the library.
    holidays: list[date] = Field(default_factory=list)
    makeup_workdays: list[date] = Field(default_factory=list)
    workday_start: time = time(9, 0)
    workday_end: time = time(18, 0)
    jobs: dict[str, JobSchedule] = Field(default_factory=dict)
    targets: TargetSettings = Field(default_factory=TargetSettings)
    visits: VisitSettings = Field(default_factory=VisitSettings)
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    collections: CollectionSettings = Field(default_factory=CollectionSettings)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("working_days")
    @classmethod
    def _some_working_day(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one working day is needed")
        return sorted(set(value), key=WEEKDAYS.index)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        """The config's dates first, then the public calendar, then the weekly working days."""
        if day in self.holidays:
            return False
        if day in self.makeup_workdays:
            return True
        if self.calendar == "china":
            official = china_says(day)
            if official is not None:
                return official
        return WEEKDAYS[day.weekday()] in self.working_days

    def next_working_day(self, after: date, limit: int = 60) -> date | None:
        """The first working day after ``after`` (None when none within ``limit`` days)."""
        for offset in range(1, limit + 1):
            day = after + timedelta(days=offset)
            if self.is_working_day(day):
                return day
        return None

    @property
    def report_due_at(self) -> time:
        return self.reports.due_at or self.workday_end


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _ShortEnvSource(PydanticBaseSettingsSource):
    """Maps the short environment names (SALESBOT_TOKEN, ...) onto their sections."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for env_name, path in SHORT_ENV_NAMES.items():
            value = os.environ.get(env_name)
            if value is None or value == "":
                continue
            node = data
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        return data


class Settings(BaseSettings):
    """All of salesbot's settings. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="SALESBOT_",
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    webapp: WebappSettings = Field(default_factory=WebappSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    defaults: dict[str, Any] = Field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = Field(default_factory=dict)

    _config_path: Path = PrivateAttr(default=DEFAULT_CONFIG)
    _teams: dict[str, TeamSettings] = PrivateAttr(default_factory=dict)
    # `[defaults]` as team settings: every update of an unregistered person asks for its language.
    _defaults: TeamSettings | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _current_config_path()
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            _ShortEnvSource(settings_cls),
            env_settings,
        ]
        if toml_path.exists():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @model_validator(mode="after")
    def _resolve_teams(self) -> Settings:
        # Validated first so that errors in [defaults] name the key directly.
        self._defaults = TeamSettings.model_validate(self.defaults)
        resolved: dict[str, TeamSettings] = {}
        for key, override in self.teams.items():
            merged = deep_merge(self.defaults, override)
            merged.setdefault("name", key)
            try:
                resolved[key.lower()] = TeamSettings.model_validate(merged)
            except ValidationError as exc:
                raise ValueError(_first_error(exc, prefix=f"teams.{key}")) from None
        self._teams = resolved
        return self

    @property
    def config_path(self) -> Path:
        return self._config_path

    @property
    def team_settings(self) -> dict[str, TeamSettings]:
        return dict(self._teams)

    def team(self, key: str) -> TeamSettings:
        """Effective settings of a declared team, or of `[defaults]` for one no longer declared."""
        found = self._teams.get(key.lower())
        if found is not None:
            return found
        return TeamSettings.model_validate(deep_merge(self.defaults, {"name": key}))

    @property
    def default_language(self) -> str:
        if self._defaults is None:
            self._defaults = TeamSettings.model_validate(self.defaults)
        return self._defaults.language

    def language_default(self, team_key: str | None = None) -> str:
        """The language of a person who chose none and whose Telegram client's language the
        bot does not speak: their team's, else ``[defaults] language``."""
        return self.team(team_key).language if team_key else self.default_language

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        db_file = (self._config_path.parent / "salesbot.db").resolve()
        return f"sqlite+aiosqlite:///{db_file}"

    @property
    def backup_folder(self) -> Path:
        folder = self.backup.folder
        return folder if folder.is_absolute() else (self._config_path.parent / folder).resolve()

    def require_token(self) -> str:
        if self.telegram.token is None or not self.telegram.token.get_secret_value().strip():
            raise ConfigError(
                "Configuration error: telegram.token is missing "
                "(set SALESBOT_TOKEN or [telegram] token in config.toml)"
            )
        return self.telegram.token.get_secret_value().strip()

    def secrets(self) -> list[str]:
        """Every configured value that must never appear in a log line."""
        values = (
            self.telegram.token,
            self.webhook.secret_token,
            self.webhook.health_token,
            self.metrics.token,
        )
        return [value.get_secret_value() for value in values if value is not None]


_config_override: Path | None = None


def _current_config_path() -> Path:
    if _config_override is not None:
        return _config_override
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    if prefix:
        location = f"{prefix}.{location}" if location else prefix
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) or value is None else f" (got {value!r})"
    return f"{location}: {message}{shown}"


def load_settings(config_path: Path | str | None = None, **overrides: Any) -> Settings:
    """Load and validate the settings; raise :class:`ConfigError` with one line on failure."""
    global _config_override
    path = Path(config_path) if config_path is not None else _current_config_path()
    if (config_path is not None or os.environ.get(CONFIG_ENV)) and not path.exists():
        raise ConfigError(f"Configuration error: config file {path} does not exist")
    _config_override = path
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "value_error" and not error["loc"]:
            detail = str(error["msg"]).removeprefix("Value error, ")
        else:
            detail = _first_error(exc)
        raise ConfigError(f"Configuration error: {detail}") from None
    except (ValueError, OSError) as exc:
        raise ConfigError(f"Configuration error in {path}: {exc}") from None
    finally:
        _config_override = None
    settings._config_path = path
    return settings
