"""The check-in card in the rep's chat: kept once Telegram accepted it, so that a check-out not
made on the card itself (from /visits, or the end of the day's) still changes it, and its
🚪 Check out button goes with the open visit it belonged to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.customer import Customer
from models.outbox import OutboxMessage
from models.user import User
from models.visit import Visit
from services import notices, outbox
from services.notices import Render
from services.outbox import OutboxButtons
from services.team_context import TeamContext

KIND = "visits.checkin_card"


@dataclass(frozen=True)
class ClosedCard:
    """What the card of a closed visit says (view ``visits.closed_card``); ``auto``: the end of
    the day closed it."""

    customer: str
    visited_at: datetime
    checked_out_at: datetime
    timezone: str
    auto: bool


def _key(visit_id: int) -> str:
    return f"visit:{visit_id}:card"


async def keep(
    session: AsyncSession, render: Render, *, visit_id: int, chat_id: int, text: str,
    buttons: OutboxButtons | None, message_id: int, team: TeamContext,
) -> None:  # fmt: skip
    """Record the card Telegram accepted (as the outbox would have sent it). A visit closed in
    the moment the card took to arrive gets its card changed at once."""
    visit = await session.get(Visit, visit_id)
    if visit is None:
        return
    kept = await outbox.record_sent(
        session, key=_key(visit_id), chat_id=chat_id, kind=KIND, text=text, buttons=buttons,
        message_id=message_id, now=team.now, recipient_id=visit.rep_id,
    )  # fmt: skip
    if kept is not None and not visit.is_open:
        await show_closed(session, render, [visit], team)


async def show_closed(
    session: AsyncSession, render: Render, closed: list[Visit], team: TeamContext
) -> None:
    """Queue the edit of each kept card among the ``closed`` visits, in the rep's language:
    when the visit was checked out, how long on site, and whether the end of the day did it;
    no button."""
    by_key = {_key(visit.id): visit for visit in closed if visit.id is not None}
    if not by_key:
        return
    cards = (
        await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.idempotency_key).in_(by_key))
        )
    ).all()
    if not cards:
        return
    reps = {visit.rep_id for visit in closed}
    languages = dict(
        (await session.exec(select(User.id, User.language).where(col(User.id).in_(reps)))).all()
    )
    customer_ids = {visit.customer_id for visit in closed}
    names = dict(
        (
            await session.exec(
                select(Customer.id, Customer.name).where(col(Customer.id).in_(customer_ids))
            )
        ).all()
    )
    for card in cards:
        visit = by_key[card.idempotency_key]
        await notices.send(
            session, render, view="visits.closed_card",
            data=ClosedCard(
                names.get(visit.customer_id, ""), visit.visited_at,
                visit.checked_out_at or team.now, team.timezone, visit.auto_closed,
            ),
            lang=languages.get(visit.rep_id) or team.language,
            key=f"{card.idempotency_key}:closed", chat_id=card.chat_id,
            recipient_id=visit.rep_id, kind="visits.card_closed",
            now=team.now, edit_of_id=card.id,
        )  # fmt: skip
