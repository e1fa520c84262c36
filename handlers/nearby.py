"""Start from where the rep is: a location sent outside any form offers the nearest customers
to check in at; /nearby lists the customers around the last location shared."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.periods import format_clock
from handlers.commands import declare
from handlers.forms import continue_form, read_input
from handlers.turn import Turn, turn_handler
from handlers.visit_form import VISITORS
from services import nearby, visits
from views.nearby import CHECK_IN, NearbyPage, nearby_page
from views.visits import checked_in_text

declare("nearby", roles=VISITORS, order=12)


@turn_handler()
async def on_location(turn: Turn) -> None:
    """A location: the open form's answer, else the customers to check in at."""
    if await continue_form(turn):
        return
    if turn.actor.role not in VISITORS:
        turn.say_key("fallback.not_understood")
        return
    shared = read_input(turn.update).location
    assert shared is not None
    team = await turn.team()
    await nearby.record_location(
        turn.session, user_id=turn.actor.user_id, latitude=shared.latitude,
        longitude=shared.longitude, accuracy_m=shared.accuracy,
        source=visits.checkin_source(shared.accuracy, shared.live), now=turn.now,
    )  # fmt: skip
    radius = team.rules.visits.checkin_radius_m
    around = await nearby.customers_around(
        turn.session, team.team_id, shared.latitude, shared.longitude, radius
    )
    page = NearbyPage(around, radius, radius)
    turn.say(*nearby_page(turn.deps.texts, turn.lang, page))


@turn_handler(roles=VISITORS)
async def nearby_command(turn: Turn) -> None:
    """The team's customers around my last shared location, nearest first."""
    team = await turn.team()
    location = await nearby.last_location(turn.session, turn.actor.user_id)
    if location is None:
        turn.say(turn.t("nearby.share_first"), location_button=turn.t("visits.send_location"))
        return
    rules = team.rules.visits
    around = await nearby.customers_around(
        turn.session, team.team_id, location.latitude, location.longitude, rules.nearby_radius_m
    )
    page = NearbyPage(
        around, rules.checkin_radius_m, rules.nearby_radius_m,
        shared_at=format_clock(location.at, team.timezone),
        can_check_in=nearby.is_fresh(location, team.now),
    )  # fmt: skip
    turn.say(*nearby_page(turn.deps.texts, turn.lang, page))


@turn_handler(roles=VISITORS)
async def on_check_in(turn: Turn) -> None:
    """Check in at the customer tapped, from the location just shared."""
    pressed = CHECK_IN.unpack(
        turn.update.callback_query.data if turn.update.callback_query else None
    )
    team = await turn.team()
    logged = await nearby.check_in_at(
        turn.session, actor=turn.actor, customer_id=pressed.customer_id, team=team
    )
    turn.say(*checked_in_text(turn.deps.texts, turn.lang, logged, team.timezone))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("nearby", nearby_command))
    app.add_handler(CallbackQueryHandler(on_check_in, pattern=CHECK_IN.pattern))
    app.add_handler(MessageHandler(filters.LOCATION & filters.UpdateType.MESSAGE, on_location))
