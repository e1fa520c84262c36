"""How /team reads: each rep's week against the targets, one rep's visits, the team picker."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from core.i18n import Catalogs
from core.periods import Period, format_clock, format_short_day, local_today
from core.settings import TargetSettings
from models.customer import Customer
from models.visit import CheckinSource, Visit
from services.visits import RepFigures
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.visit_review import REP_AT, RepOpen
from views.visits import (
    OPEN_VISIT,
    REVIEW,
    CheckinVerdict,
    ReviewAction,
    checkin_text,
    visit_line,
)


@dataclass(frozen=True)
class TeamOpen:
    """``t`` opens a team, ``r`` a rep."""

    kind: str
    object_id: int


TEAM = Callback("tm", TeamOpen)
OPEN_TEAM, OPEN_REP = "t", "r"


def _open(label: str, kind: str, object_id: int) -> Button:
    return Button(label, data=TEAM.pack(TeamOpen(kind, object_id)))


@dataclass(frozen=True)
class TeamPage:
    name: str
    week: Period
    targets: TargetSettings
    figures: list[RepFigures]


def team_page(texts: Catalogs, lang: str, page: TeamPage) -> tuple[str, Keyboard]:
    t = texts.t
    targets, figures = page.targets, page.figures
    lines = [
        t(lang, "team.header", team=html.escape(page.name),
          first=format_short_day(page.week.first, lang),
          last=format_short_day(page.week.last, lang)),
        # Only the new customers' target is followed by its noun.
        texts.tn(lang, "team.targets", targets.new_customers_per_month,
                 in_person=targets.in_person_per_week, phone=targets.phone_per_week,
                 new=targets.new_customers_per_month),
    ]  # fmt: skip
    buttons: Keyboard = []
    for rep in figures:
        flag = t(lang, "team.flagged", count=rep.flagged) if rep.flagged else ""
        if rep.deleted:
            flag += t(lang, "team.deleted", count=rep.deleted)
        lines.append(
            t(
                lang, "team.line", name=html.escape(rep.name), in_person=rep.in_person,
                in_person_target=targets.in_person_per_week, phone=rep.phone,
                phone_target=targets.phone_per_week, new=rep.new_customers,
                new_target=targets.new_customers_per_month,
            ) + flag
        )  # fmt: skip
        buttons.append([_open(rep.name[:40], OPEN_REP, rep.user_id)])
    if not figures:
        lines.append(t(lang, "team.no_reps"))
    else:
        # Zeros are left out, as on each rep's line: the flag count comes only when there is one.
        flagged = sum(r.flagged for r in figures)
        lines.append(
            t(lang, "team.total", in_person=sum(r.in_person for r in figures),
              phone=sum(r.phone for r in figures), new=sum(r.new_customers for r in figures))
            + (t(lang, "team.flagged", count=flagged) if flagged else "")
        )  # fmt: skip
    return "\n".join(lines), buttons


@dataclass(frozen=True)
class RepPage:
    name: str
    team_id: int
    visits: list[tuple[Visit, Customer]]
    timezone: str
    radius_m: int
    # Who deleted the deleted ones, by user id.
    names: dict[int, str] = field(default_factory=dict)
    rep_id: int = 0
    # Which page of REP_PAGE_SIZE visits, and the comments on each visit by id.
    page: int = 0
    comments: dict[int, int] = field(default_factory=dict)


# Visits a page: each has a line and a button, and a phone shows about this many without
# scrolling past the buttons.
REP_PAGE_SIZE = 8


def rep_page(texts: Catalogs, lang: str, page: RepPage) -> tuple[str, Keyboard]:
    t = texts.t
    kept = sum(1 for visit, _ in page.visits if visit.deleted_at is None)
    pages = max(1, -(-len(page.visits) // REP_PAGE_SIZE))
    number = min(max(page.page, 0), pages - 1)
    first = number * REP_PAGE_SIZE
    shown = page.visits[first : first + REP_PAGE_SIZE]
    lines = [texts.tn(lang, "team.rep_header", kept, name=html.escape(page.name), count=kept)]
    if pages > 1:
        lines.append(t(lang, "team.rep_page", page=number + 1, pages=pages))
    buttons: Keyboard = []
    for index, (visit, customer) in enumerate(shown, start=first + 1):
        line = visit_line(texts, lang, visit, customer, page.timezone)
        if visit.deleted_at is not None:
            line = f"<s>{line}</s>"
        comments = page.comments.get(visit.id or 0, 0)
        if comments:
            line += " " + t(lang, "team.comment_mark", count=comments)
        lines.append(f"{index}. {line}")
        if visit.deleted_at is not None:
            who = page.names.get(visit.deleted_by_id or 0, "?")
            lines.append("   " + t(
                lang, "team.deleted_by", name=html.escape(who),
                time=format_clock(visit.deleted_at, page.timezone),
                day=format_short_day(local_today(visit.deleted_at, page.timezone), lang),
            ))  # fmt: skip
        if visit.location_set_here:
            lines.append("   " + t(lang, "visits.location_set_here"))
        elif visit.kind == "in_person" and visit.checkin_source is not None:
            verdict = CheckinVerdict(
                visit.distance_m, visit.flagged, visit.checkin_accuracy_m,
                CheckinSource(visit.checkin_source), page.radius_m,
            )  # fmt: skip
            lines.append("   " + checkin_text(texts, lang, verdict))
        if visit.id is not None:
            label = t(lang, "team.open_visit", number=index, customer=customer.name[:28],
                      time=format_clock(visit.visited_at, page.timezone))  # fmt: skip
            buttons.append([Button(label, data=REVIEW.pack(ReviewAction(OPEN_VISIT, visit.id)))])
    if not page.visits:
        lines.append(t(lang, "team.rep_no_visits"))
    nav: list[Button] = []
    if number > 0:
        nav.append(
            Button(t(lang, "team.newer"), data=REP_AT.pack(RepOpen(page.rep_id, number - 1)))
        )
    if number < pages - 1:
        nav.append(
            Button(t(lang, "team.older"), data=REP_AT.pack(RepOpen(page.rep_id, number + 1)))
        )
    if nav:
        buttons.append(nav)
    buttons.append([_open(t(lang, "team.back"), OPEN_TEAM, page.team_id)])
    return "\n".join(lines), buttons


def team_picker(texts: Catalogs, lang: str, teams: list[tuple[int, str]]) -> tuple[str, Keyboard]:
    rows = [[_open(name, OPEN_TEAM, team_id)] for team_id, name in teams]
    return texts.t(lang, "team.choose"), rows
