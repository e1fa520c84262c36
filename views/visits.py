"""How visits read in the chat: check-in verdicts, the form's summary card, the saved
confirmation, list lines, progress against the targets, and the buttons of /visits."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.i18n import Catalogs
from core.periods import format_clock, format_day, format_short_day, local_today
from models.customer import Customer
from models.visit import CheckinSource, Visit, VisitKind
from services.visit_cards import ClosedCard
from services.visits import LoggedVisit, Progress, StampFacts
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.registry import view

# Longest notes shown on the summary card before "…".
SUMMARY_NOTES = 300


@dataclass(frozen=True)
class VisitAction:
    """A button under one of my visits: e(dit), d(elete?), D(elete), k(eep), o (check out),
    c (check out from the check-in card, which then shows the check-out instead)."""

    visit_id: int
    action: str


VISIT = Callback("vi", VisitAction)


@dataclass(frozen=True)
class ReviewAction:
    """A button on a visit under review: o(pen) the visit view, c(omment) on it, or r(eply) to
    its comments (its rep)."""

    action: str
    visit_id: int


REVIEW = Callback("vr", ReviewAction)
OPEN_VISIT, COMMENT, REPLY = "o", "c", "r"


# Chinese text writes distances in 米 / 公里, as visits.accuracy already does (精度 ±30 米).
DISTANCE_UNITS = {"zh": ("米", "公里")}


def format_distance(metres: float, lang: str) -> str:
    metre, kilometre = DISTANCE_UNITS.get(lang, ("m", "km"))
    if metres < 1000:
        return f"{metres:.0f} {metre}"
    if metres < 100_000:
        return f"{metres / 1000:.1f} {kilometre}"
    # Another city: a tenth of a kilometre is noise, and 1,060 reads faster than 1060.
    return f"{metres / 1000:,.0f} {kilometre}"


@dataclass(frozen=True)
class CheckinVerdict:
    """A check-in against the customer's stored location (no distance: nothing to compare)."""

    distance: float | None
    flagged: bool
    accuracy: float | None
    source: CheckinSource
    radius_m: int


def checkin_how(texts: Catalogs, lang: str, verdict: CheckinVerdict) -> str:
    """How the location came in ("current location, ±9 m")."""
    how = texts.t(lang, f"visits.source_{verdict.source}")
    if verdict.accuracy is not None:
        how += texts.t(lang, "visits.accuracy", metres=f"{verdict.accuracy:.0f}")
    return how


def checkin_text(texts: Catalogs, lang: str, verdict: CheckinVerdict) -> str:
    how = checkin_how(texts, lang, verdict)
    if verdict.distance is None:
        return texts.t(lang, "visits.checkin_no_reference", how=how)
    key = "visits.checkin_far" if verdict.flagged else "visits.checkin_near"
    return texts.t(
        lang, key, distance=format_distance(verdict.distance, lang),
        radius=format_distance(verdict.radius_m, lang), how=how,
    )  # fmt: skip


def progress_text(texts: Catalogs, lang: str, progress: Progress) -> str:
    return texts.t(
        lang, "visits.progress",
        in_person=progress.in_person, in_person_target=progress.in_person_target,
        phone=progress.phone, phone_target=progress.phone_target,
        new=progress.new_customers, new_target=progress.new_customers_target,
    )  # fmt: skip


def saved_text(
    texts: Catalogs, lang: str, logged: LoggedVisit, timezone: str, radius_m: int, edited: bool
) -> str:
    t = texts.t
    visit = logged.visit
    name = html.escape(logged.customer.name)
    lines = [
        t(
            lang, "visits.updated" if edited else "visits.saved",
            kind=t(lang, f"visits.kind_{visit.kind}"),
            purpose=t(lang, f"visits.purpose_{visit.purpose}"),
            customer=name, time=format_clock(visit.visited_at, timezone),
        )
    ]  # fmt: skip
    if logged.customer_created:
        lines.append(t(lang, "visits.customer_created", customer=name))
    if visit.flagged and visit.distance_m is not None:
        lines.append(
            t(
                lang, "visits.saved_flagged", distance=format_distance(visit.distance_m, lang),
                radius=format_distance(radius_m, lang),
            )
        )  # fmt: skip
    if logged.location_stored:
        lines.append(t(lang, "visits.location_stored"))
    lines.extend(stay_lines(texts, lang, visit))
    if visit.follow_up_on:
        lines.append(t(lang, "visits.follow_up_planned", day=format_day(visit.follow_up_on, lang)))
    lines.append(progress_text(texts, lang, logged.progress))
    return "\n".join(lines)


def visit_line(texts: Catalogs, lang: str, visit: Visit, customer: Customer, timezone: str) -> str:
    day = format_short_day(local_today(visit.visited_at, timezone), lang)
    kind = texts.t(lang, f"visits.kind_icon_{visit.kind}")
    line = (
        f"{day} {format_clock(visit.visited_at, timezone)} {kind} "
        f"<b>{html.escape(customer.name)}</b> · {texts.t(lang, f'visits.purpose_{visit.purpose}')}"
    )
    if visit.flagged and visit.distance_m is not None:
        line += " " + texts.t(
            lang, "visits.flag_mark", distance=format_distance(visit.distance_m, lang)
        )
    if visit.location_set_here:
        line += " " + texts.t(lang, "visits.location_set_mark")
    if visit.is_open:
        line += " " + texts.t(lang, "visits.open_mark")
    elif visit.on_site_minutes is not None:
        key = "visits.short_mark" if visit.short_visit else "visits.on_site_mark"
        line += " " + texts.t(lang, key, minutes=visit.on_site_minutes)
    return line


def stay_lines(texts: Catalogs, lang: str, visit: Visit) -> list[str]:
    """Time on site of a checked-out visit, and why it is flagged."""
    minutes = visit.on_site_minutes
    if minutes is None:
        return []
    key = "visits.on_site_auto" if visit.auto_closed else "visits.on_site"
    lines = [texts.t(lang, key, minutes=minutes)]
    if visit.short_visit:
        lines.append(texts.t(lang, "visits.short_flagged", minutes=minutes))
    return lines


def checked_in_text(
    texts: Catalogs, lang: str, logged: LoggedVisit, timezone: str, *, distance_shown: bool = False
) -> tuple[str, Keyboard]:
    """The check-in confirmation with the one button the rep needs next: Check out.
    ``distance_shown``: the message just before said how far from the customer it was."""
    visit = logged.visit
    assert visit.id is not None
    lines = [
        texts.t(
            lang, "visits.checked_in", customer=html.escape(logged.customer.name),
            time=format_clock(visit.visited_at, timezone),
        )
    ]  # fmt: skip
    if logged.customer_created:
        lines.append(
            texts.t(lang, "visits.customer_created", customer=html.escape(logged.customer.name))
        )
    if visit.location_set_here:
        lines.append(texts.t(lang, "visits.location_set_here"))
    elif visit.distance_m is not None and not distance_shown:
        key = "visits.checkin_far_short" if visit.flagged else "visits.checkin_near_short"
        lines.append(texts.t(lang, key, distance=format_distance(visit.distance_m, lang)))
    lines.append(texts.t(lang, "visits.check_out_hint"))
    button = Button(texts.t(lang, "visits.check_out"), data=VISIT.pack(VisitAction(visit.id, "c")))
    return "\n".join(lines), [[button]]


def checked_out_line(
    texts: Catalogs, lang: str, visited_at: datetime, checked_out_at: datetime, timezone: str
) -> str:
    minutes = max(0, int((checked_out_at - visited_at).total_seconds() // 60))
    at = format_clock(checked_out_at, timezone)
    return texts.t(lang, "visits.checked_out_line", time=at, minutes=minutes)


def checked_out_card(
    texts: Catalogs, lang: str, customer: str, visited_at: datetime, checked_out_at: datetime,
    timezone: str,
) -> str:  # fmt: skip
    """The check-in card once Check out was tapped: when, and how long on site; no button."""
    checked_in = texts.t(lang, "visits.checked_in", customer=html.escape(customer),
                         time=format_clock(visited_at, timezone))  # fmt: skip
    return f"{checked_in}\n{checked_out_line(texts, lang, visited_at, checked_out_at, timezone)}"


@view("visits.closed_card")
def closed_card(texts: Catalogs, lang: str, card: ClosedCard) -> tuple[str, Keyboard | None]:
    """The check-in card of a visit checked out elsewhere than on it: when, how long on site,
    and whether the end of the day did it for the rep; no button."""
    text = checked_out_card(
        texts, lang, card.customer, card.visited_at, card.checked_out_at, card.timezone
    )
    if card.auto:
        text = f"{text}\n{texts.t(lang, 'visits.auto_checked_out_note')}"
    return text, None


@dataclass(frozen=True)
class VisitsPage:
    """/visits: my latest visits, newest first; ``editable`` ones get Edit / Delete."""

    visits: list[tuple[Visit, Customer]]
    editable: set[int]
    edit_window_hours: int
    timezone: str


def visits_page(texts: Catalogs, lang: str, page: VisitsPage) -> tuple[str, Keyboard]:
    if not page.visits:
        return texts.t(lang, "visits.none_yet"), []
    hours = page.edit_window_hours
    lines = [texts.tn(lang, "visits.list_header", hours, hours=hours)]
    buttons: Keyboard = []
    for number, (visit, customer) in enumerate(page.visits, start=1):
        lines.append(f"{number}. {visit_line(texts, lang, visit, customer, page.timezone)}")
        if visit.is_open and visit.id is not None:
            buttons.append([Button(texts.t(lang, "visits.check_out"),
                                   data=VISIT.pack(VisitAction(visit.id, "o")))])  # fmt: skip
        elif visit.id in page.editable:
            buttons.append([
                Button(texts.t(lang, "visits.edit_button", number=number),
                       data=VISIT.pack(VisitAction(visit.id, "e"))),
                Button(texts.t(lang, "visits.delete_button", number=number),
                       data=VISIT.pack(VisitAction(visit.id, "d"))),
            ])  # fmt: skip
    return "\n".join(lines), buttons


def ask_delete(
    texts: Catalogs, lang: str, visit: Visit, customer: Customer, timezone: str
) -> tuple[str, Keyboard]:
    assert visit.id is not None
    delete, keep = VisitAction(visit.id, "D"), VisitAction(visit.id, "k")
    confirm = [[
        Button(texts.t(lang, "visits.confirm_delete"), data=VISIT.pack(delete)),
        Button(texts.t(lang, "visits.keep"), data=VISIT.pack(keep)),
    ]]  # fmt: skip
    line = visit_line(texts, lang, visit, customer, timezone)
    return texts.t(lang, "visits.ask_delete", visit=line), confirm


@dataclass(frozen=True)
class SummaryCard:
    """The form's draft before Save."""

    customer: str
    new_customer: bool
    kind: str | None
    purpose: str | None
    visited_at: datetime
    today: date
    timezone: str
    voice: bool
    notes: str
    checkin: CheckinVerdict | None
    store_location: bool
    photos: int
    next_step: str | None
    follow_up: date | None
    location_set_here: bool = False
    on_site_minutes: int | None = None


def summary_text(texts: Catalogs, lang: str, card: SummaryCard) -> str:
    t = texts.t
    e = html.escape
    day = local_today(card.visited_at, card.timezone)
    when_key = "visits.summary_time" if day == card.today else "visits.summary_time_day"
    customer = e(card.customer)
    if card.new_customer:
        customer += " " + t(lang, "visits.new_customer_mark")
    lines = [
        t(lang, "visits.summary_header"),
        t(lang, "visits.summary_customer", customer=customer),
        t(lang, "visits.summary_kind", kind=t(lang, f"visits.kind_{card.kind}"),
          purpose=t(lang, f"visits.purpose_{card.purpose}")),
        t(lang, when_key, time=format_clock(card.visited_at, card.timezone),
          day=format_short_day(day, lang)),
    ]  # fmt: skip
    if card.voice:
        lines.append(t(lang, "visits.summary_voice"))
    if card.notes:
        notes = card.notes
        shown = notes if len(notes) <= SUMMARY_NOTES else notes[:SUMMARY_NOTES] + "…"
        lines.append(t(lang, "visits.summary_notes", notes=e(shown)))
    if card.kind == VisitKind.IN_PERSON:
        if card.checkin is None:
            lines.append(t(lang, "visits.summary_no_checkin"))
        elif card.location_set_here:
            lines.append(t(lang, "visits.location_set_here"))
        else:
            lines.append(checkin_text(texts, lang, card.checkin))
            if card.store_location:
                lines.append(t(lang, "visits.summary_store_location"))
        if card.on_site_minutes is not None:
            lines.append(t(lang, "visits.on_site", minutes=card.on_site_minutes))
        if card.photos:
            lines.append(t(lang, "visits.summary_photos", count=card.photos))
    if card.next_step:
        lines.append(t(lang, "visits.summary_next", next_step=e(card.next_step)))
    if card.follow_up:
        lines.append(t(lang, "visits.summary_follow_up", day=format_day(card.follow_up, lang)))
    return "\n".join(lines)


def utc_offset(local: datetime) -> str:
    """UTC+8, UTC-3:30: the stamp's zone in a form every language reads (a zone name such as
    Asia/Shanghai is English on a Chinese photo)."""
    offset = local.utcoffset() or timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def stamp_lines(texts: Catalogs, lang: str, facts: StampFacts) -> list[str]:
    """The lines stamped on a visit photo. Plain text (drawn by Pillow, not sent as HTML) and
    no emoji: the stamp's font has none."""
    t = texts.t
    local = facts.received_at.astimezone(ZoneInfo(facts.timezone))
    where = None
    if facts.distance_m is not None and not facts.location_set_here:
        where = t(lang, "visits.stamp_distance", distance=format_distance(facts.distance_m, lang))
    elif facts.latitude is not None and facts.longitude is not None:
        where = t(lang, "visits.stamp_position", latitude=f"{facts.latitude:.5f}",
                  longitude=f"{facts.longitude:.5f}")  # fmt: skip
    lines = [
        f"{local:%Y-%m-%d %H:%M} {utc_offset(local)}",
        t(lang, "visits.stamp_customer", name=facts.customer),
        t(lang, "visits.stamp_rep", name=facts.rep),
    ]
    if where is not None:
        lines.insert(1, where)
    return lines
