"""How visits read in the chat: check-in verdicts, confirmations, list lines, progress."""

from __future__ import annotations

import html

from core.periods import format_clock, format_day, format_short_day, local_today
from core.settings import TeamSettings
from handlers.turn import Turn
from models.customer import Customer
from models.visit import CheckinSource, Visit
from services import visits
from services.visits import LoggedVisit


def format_distance(metres: float) -> str:
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def checkin_text(
    turn: Turn,
    distance: float | None,
    flagged: bool,
    accuracy: float | None,
    source: CheckinSource,
    rules: TeamSettings,
) -> str:
    how = turn.t(f"visits.source_{source}")
    if accuracy is not None:
        how += turn.t("visits.accuracy", metres=f"{accuracy:.0f}")
    if distance is None:
        return turn.t("visits.checkin_no_reference", how=how)
    key = "visits.checkin_far" if flagged else "visits.checkin_near"
    radius = format_distance(rules.visits.checkin_radius_m)
    return turn.t(key, distance=format_distance(distance), radius=radius, how=how)


def progress_text(turn: Turn, progress: visits.Progress) -> str:
    return turn.t(
        "visits.progress",
        in_person=progress.in_person, in_person_target=progress.in_person_target,
        phone=progress.phone, phone_target=progress.phone_target,
        new=progress.new_customers, new_target=progress.new_customers_target,
    )  # fmt: skip


def saved_text(turn: Turn, logged: LoggedVisit, rules: TeamSettings, edited: bool) -> str:
    visit = logged.visit
    lines = [
        turn.t(
            "visits.updated" if edited else "visits.saved",
            kind=turn.t(f"visits.kind_{visit.kind}"),
            purpose=turn.t(f"visits.purpose_{visit.purpose}"),
            customer=html.escape(logged.customer.name),
            time=format_clock(visit.visited_at, rules.timezone),
        )
    ]
    if logged.customer_created:
        lines.append(turn.t("visits.customer_created", customer=html.escape(logged.customer.name)))
    if visit.flagged and visit.distance_m is not None:
        lines.append(
            turn.t(
                "visits.saved_flagged",
                distance=format_distance(visit.distance_m),
                radius=format_distance(rules.visits.checkin_radius_m),
            )
        )
    if logged.location_stored:
        lines.append(turn.t("visits.location_stored"))
    if visit.follow_up_on:
        lines.append(
            turn.t("visits.follow_up_planned", day=format_day(visit.follow_up_on, turn.lang))
        )
    lines.append(progress_text(turn, logged.progress))
    return "\n".join(lines)


def visit_line(turn: Turn, visit: Visit, customer: Customer, rules: TeamSettings) -> str:
    day = format_short_day(local_today(visit.visited_at, rules.timezone), turn.lang)
    kind = turn.t(f"visits.kind_icon_{visit.kind}")
    line = (
        f"{day} {format_clock(visit.visited_at, rules.timezone)} {kind} "
        f"<b>{html.escape(customer.name)}</b> · {turn.t(f'visits.purpose_{visit.purpose}')}"
    )
    if visit.flagged and visit.distance_m is not None:
        line += " " + turn.t("visits.flag_mark", distance=format_distance(visit.distance_m))
    return line
