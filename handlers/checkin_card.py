"""The check-in card, once Telegram accepted it: kept (``services.visit_cards``), so that the
end of the day can close it like the rep's own check-out does."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.turn import Turn, after_reply
from services import team_context, visit_cards
from views.buttons import Keyboard
from views.render import outbox_buttons


def keeper(
    turn: Turn, visit_id: int, text: str, buttons: Keyboard
) -> Callable[[int], Awaitable[None]]:
    """What the reply carrying the card does with its message id once it is out."""
    return functools.partial(_keep, turn, visit_id, text, buttons)


async def _keep(turn: Turn, visit_id: int, text: str, buttons: Keyboard, message_id: int) -> None:
    deps, team_id = turn.deps, turn.actor.team_id
    if team_id is None:  # a rep always has a team; nothing to keep the card for otherwise
        return

    async def keep(session: AsyncSession) -> None:
        team = await team_context.resolve(session, deps.settings, team_id, deps.clock.now())
        await visit_cards.keep(
            session, deps.render, visit_id=visit_id, chat_id=turn.actor.telegram_id, text=text,
            buttons=outbox_buttons(buttons), message_id=message_id, team=team,
        )  # fmt: skip

    await after_reply(deps, keep)
