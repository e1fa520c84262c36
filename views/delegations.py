"""/delegate and the notices of a delegation: who approves for whom, until which day."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from core.i18n import Catalogs
from core.periods import format_day, format_short_day
from models.common import Role
from services.delegations import Candidate, Current, DelegationNotice
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.registry import view


@dataclass(frozen=True)
class DelegationButton:
    """What the tapped button does: "end" the delegation in force, or start a "new" one."""

    action: str


BUTTON = Callback("dl", DelegationButton)
END, NEW = "end", "new"
NOTICES = {
    "start": "delegation.notice_start",
    "ended_delegate": "delegation.notice_ended_delegate",
    "expired_delegate": "delegation.notice_expired_delegate",
    "replaced_delegate": "delegation.notice_replaced_delegate",
    "expired_manager": "delegation.notice_expired_manager",
}
# The form lists this many people to choose from, each name cut to fit a button.
MAX_CANDIDATES = 20
NAME_ON_BUTTON = 40
# A form's choices: rows of (label, what the tap answers).
Choices = list[list[tuple[str, str]]]


def ask_who(texts: Catalogs, lang: str, people: Sequence[Candidate]) -> tuple[str, Choices]:
    """Other managers (with their team) and the directors, one a row."""
    rows = []
    for person in people[:MAX_CANDIDATES]:
        user = person.user
        where = (
            person.team_name
            if user.role == Role.MANAGER and person.team_name
            else texts.t(lang, "approvals.level_director")
        )
        rows.append([(f"{user.display_name[:NAME_ON_BUTTON]} · {where}", f"u:{user.id}")])
    return texts.t(lang, "delegation.ask_who"), rows


def ask_until(texts: Catalogs, lang: str, name: str, today: date) -> tuple[str, Choices]:
    """Tomorrow, this and next Friday, and in two weeks; any other day may be typed."""
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    days = [today + timedelta(days=1), friday, friday + timedelta(days=7),
            today + timedelta(days=14)]  # fmt: skip
    options = [(format_short_day(d, lang), f"d:{d.isoformat()}") for d in sorted(set(days))]
    text = texts.t(lang, "delegation.ask_until", name=html.escape(name))
    return text, [options[:2], options[2:]]


def confirm(texts: Catalogs, lang: str, name: str, until: date) -> tuple[str, Choices]:
    text = texts.t(
        lang, "delegation.confirm", name=html.escape(name), until=format_day(until, lang)
    )
    return text, [[(texts.t(lang, "delegation.confirm_button"), "yes")]]


def started(texts: Catalogs, lang: str, found: Current) -> str:
    return texts.t(
        lang, "delegation.started", name=html.escape(found.delegate.display_name),
        until=format_day(found.delegation.until, lang),
    )  # fmt: skip


def current(texts: Catalogs, lang: str, found: Current) -> tuple[str, Keyboard]:
    """The delegation in force, with End now and Hand to someone else."""
    buttons = [[
        Button(texts.t(lang, "delegation.end_now"), data=BUTTON.pack(DelegationButton(END))),
        Button(texts.t(lang, "delegation.replace"), data=BUTTON.pack(DelegationButton(NEW))),
    ]]  # fmt: skip
    text = texts.t(
        lang, "delegation.current", name=html.escape(found.delegate.display_name),
        until=format_day(found.delegation.until, lang),
    )  # fmt: skip
    return text, buttons


def ended(texts: Catalogs, lang: str, found: Current) -> str:
    return texts.t(lang, "delegation.ended", name=html.escape(found.delegate.display_name))


@view("delegations.notice")
def notice(texts: Catalogs, lang: str, data: DelegationNotice) -> tuple[str, Keyboard | None]:
    text = texts.t(
        lang, NOTICES[data.event], manager=html.escape(data.manager),
        delegate=html.escape(data.delegate), team=html.escape(data.team),
        until=format_day(data.until, lang),
    )  # fmt: skip
    return text, None
