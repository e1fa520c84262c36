"""/team: each rep's visits this week against the targets; tap a rep to see their visits."""

from __future__ import annotations

import html

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import NotAllowedError, UserFacingError
from core.periods import format_short_day, local_today, week_period
from handlers.commands import declare
from handlers.replies import Button, Keyboard
from handlers.turn import Turn, turn_handler
from handlers.visit_views import checkin_text, visit_line
from models.common import Role
from models.team import Team
from models.visit import CheckinSource
from services import teams, visits

CALLBACK = "tm"
LEADERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})

declare("team", roles=LEADERS, order=40)


async def _team_for(turn: Turn, team_id: int) -> Team:
    """A team the sender may look at: their own (managers) or any (directors, admins)."""
    team = await teams.get_team(turn.session, team_id)
    if team is None or (not turn.actor.sees_all_teams() and team.id != turn.actor.team_id):
        raise NotAllowedError("team.not_found")
    return team


async def _team_page(turn: Turn, team: Team) -> tuple[str, Keyboard]:
    assert team.id is not None
    rules = turn.deps.settings.team(team.key)
    today = local_today(turn.now, rules.timezone)
    week = week_period(today, rules.timezone)
    figures = await visits.team_figures(turn.session, team.id, rules, today)
    targets = rules.targets
    lines = [
        turn.t("team.header", team=html.escape(team.name),
               first=format_short_day(week.first, turn.lang),
               last=format_short_day(week.last, turn.lang)),
        turn.t("team.targets", in_person=targets.in_person_per_week,
               phone=targets.phone_per_week, new=targets.new_customers_per_month),
    ]  # fmt: skip
    buttons: Keyboard = []
    for rep in figures:
        flag = turn.t("team.flagged", count=rep.flagged) if rep.flagged else ""
        lines.append(
            turn.t(
                "team.line", name=html.escape(rep.name), in_person=rep.in_person,
                in_person_target=targets.in_person_per_week, phone=rep.phone,
                phone_target=targets.phone_per_week, new=rep.new_customers,
                new_target=targets.new_customers_per_month,
            ) + flag
        )  # fmt: skip
        buttons.append([Button(rep.name[:40], data=f"{CALLBACK}|r|{rep.user_id}")])
    if not figures:
        lines.append(turn.t("team.no_reps"))
    else:
        lines.append(
            turn.t("team.total", in_person=sum(r.in_person for r in figures),
                   phone=sum(r.phone for r in figures),
                   new=sum(r.new_customers for r in figures),
                   flagged=sum(r.flagged for r in figures))
        )  # fmt: skip
    return "\n".join(lines), buttons


async def _rep_page(turn: Turn, rep_id: int) -> tuple[str, Keyboard]:
    rep = await visits.visible_rep(turn.session, turn.actor, rep_id)
    if rep.team_id is None:
        raise NotAllowedError("team.rep_not_found")
    team = await _team_for(turn, rep.team_id)
    rules = turn.deps.settings.team(team.key)
    week = week_period(local_today(turn.now, rules.timezone), rules.timezone)
    listed = await visits.recent_visits(
        turn.session, rep_id, limit=40, since=week.start, until=week.end
    )
    lines = [turn.t("team.rep_header", name=html.escape(rep.display_name), count=len(listed))]
    for visit, customer in listed:
        lines.append("• " + visit_line(turn, visit, customer, rules))
        if visit.kind == "in_person" and visit.checkin_source is not None:
            source = CheckinSource(visit.checkin_source)
            lines.append(
                "   "
                + checkin_text(
                    turn, visit.distance_m, visit.flagged, visit.checkin_accuracy_m, source, rules
                )
            )
    if not listed:
        lines.append(turn.t("team.rep_no_visits"))
    back = [[Button(turn.t("team.back"), data=f"{CALLBACK}|t|{team.id}")]]
    return "\n".join(lines), back


@turn_handler(roles=LEADERS)
async def team_command(turn: Turn) -> None:
    """A manager sees their team; directors and admins pick a team first (or /team north)."""
    if turn.actor.role is Role.MANAGER:
        if turn.actor.team_id is None:
            raise UserFacingError("team.not_found")
        text, buttons = await _team_page(turn, await _team_for(turn, turn.actor.team_id))
        turn.say(text, buttons)
        return
    wanted = " ".join(turn.ctx.args or [])
    if wanted:
        team = await teams.find_team(turn.session, wanted)
        if team is None or team.id is None:
            raise UserFacingError("team.not_found")
        text, buttons = await _team_page(turn, team)
        turn.say(text, buttons)
        return
    listed = await teams.list_teams(turn.session)
    rows = [[Button(team.name, data=f"{CALLBACK}|t|{team.id}")] for team in listed]
    turn.say(turn.t("team.choose"), rows)


@turn_handler(roles=LEADERS)
async def on_team_button(turn: Turn) -> None:
    """Open a team or a rep; both re-check that the sender may see them."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    _, kind, raw_id = ((query.data or "") + "||").split("|")[:3]
    if not raw_id.isdigit():
        raise UserFacingError("forms.stale_button")
    if kind == "r":
        text, buttons = await _rep_page(turn, int(raw_id))
    else:
        text, buttons = await _team_page(turn, await _team_for(turn, int(raw_id)))
    turn.edit(query.message.message_id, text, buttons)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("team", team_command))
    app.add_handler(CallbackQueryHandler(on_team_button, pattern=rf"^{CALLBACK}\|"))
