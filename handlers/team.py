"""/team: each rep's visits this week against the targets; tap a rep to see their visits."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import NotAllowedError, UserFacingError
from handlers.commands import declare
from handlers.turn import Turn, turn_handler
from models.common import Role
from models.team import Team
from services import teams, visit_review, visits
from views.buttons import Keyboard
from views.team import OPEN_REP, TEAM, RepPage, TeamPage, rep_page, team_page, team_picker
from views.visit_review import REP_AT

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
    context = await turn.team(team.id)
    figures = await visits.team_figures(turn.session, context)
    page = TeamPage(team.name, context.this_week, context.rules.targets, figures)
    return team_page(turn.deps.texts, turn.lang, page)


async def rep_page_of(turn: Turn, rep_id: int, page: int = 0) -> tuple[str, Keyboard]:
    """A rep's visits this week, a page of them, each with a button to its visit view."""
    rep = await visits.visible_rep(turn.session, turn.actor, rep_id)
    if rep.team_id is None:
        raise NotAllowedError("team.rep_not_found")
    team = await _team_for(turn, rep.team_id)
    assert team.id is not None
    context = await turn.team(team.id)
    week = context.this_week
    listed = await visits.recent_visits(
        turn.session, rep_id, limit=40, since=week.start, until=week.end, with_deleted=True
    )
    deleters = {v.deleted_by_id for v, _ in listed if v.deleted_by_id is not None}
    shown = RepPage(
        rep.display_name, team.id, listed, context.timezone,
        context.rules.visits.checkin_radius_m,
        await visits.people_names(turn.session, deleters), rep_id=rep_id, page=page,
        comments=await visit_review.comment_counts(
            turn.session, [v.id for v, _ in listed if v.id is not None]
        ),
    )  # fmt: skip
    return rep_page(turn.deps.texts, turn.lang, shown)


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
    choices = [(team.id, team.name) for team in listed if team.id is not None]
    turn.say(*team_picker(turn.deps.texts, turn.lang, choices))


@turn_handler(roles=LEADERS)
async def on_team_button(turn: Turn) -> None:
    """Open a team or a rep; both re-check that the sender may see them."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    pressed = TEAM.unpack(query.data)
    if pressed.kind == OPEN_REP:
        text, buttons = await rep_page_of(turn, pressed.object_id)
    else:
        text, buttons = await _team_page(turn, await _team_for(turn, pressed.object_id))
    turn.edit(query.message.message_id, text, buttons)


@turn_handler(roles=LEADERS)
async def on_rep_page(turn: Turn) -> None:
    """Another page of a rep's visits, or back to it from a visit."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    pressed = REP_AT.unpack(query.data)
    text, buttons = await rep_page_of(turn, pressed.rep_id, pressed.page)
    turn.edit(query.message.message_id, text, buttons)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("team", team_command))
    app.add_handler(CallbackQueryHandler(on_rep_page, pattern=REP_AT.pattern))
    app.add_handler(CallbackQueryHandler(on_team_button, pattern=TEAM.pattern))
