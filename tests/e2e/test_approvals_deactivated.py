"""A deactivated approver's copies of approval cards: replaced once by a neutral text, never
edited again, so later decisions and reasons do not reach them."""

from __future__ import annotations

from sqlmodel import col, select

from core.db import transaction
from models.outbox import OutboxMessage
from sandbox.harness import LocalBot
from tests.approval_helpers import MANAGER, card_of, expense, message, team_of, text_of, texts
from tests.conftest import ADMIN_ID

# Only the approvals jobs run here: other areas' reminders would land among the cards.
JOBS_UNDER_TEST = ("approvals_sweep", "approval_delegations")

NEUTRAL = "This request is no longer shown to you."
REASON = "Budget frozen until March"


async def edits_queued_for(bot: LocalBot, outbox_id: int) -> list[OutboxMessage]:
    async with transaction(bot.runtime.sessions) as session:
        query = select(OutboxMessage).where(col(OutboxMessage.edit_of_id) == outbox_id)
        return list((await session.exec(query.order_by(col(OutboxMessage.id)))).all())


async def test_deactivated_managers_card_is_hidden_once_and_never_edited_again(
    local_bot: LocalBot,
) -> None:
    people = await team_of(local_bot)
    await expense(people.rep, "3000")
    await local_bot.drain_outbox()
    await people.manager.tap("Approve")
    await local_bot.drain_outbox()
    card = await card_of(people.manager, 1, with_buttons=False)
    assert "Chen Jing" in text_of(card) and card.button_texts() == ["👁 View"]
    edits_before = len(card.edits)

    admin = await local_bot.chat(ADMIN_ID, "Ada")
    await admin.send("/users")
    await admin.tap("Deactivate Chen Jing")
    replies = await admin.tap("Yes, deactivate")
    assert "deactivated" in texts(replies) or "deactivated" in (await admin.last_reply()).text
    await local_bot.drain_outbox()

    hidden = await message(people.manager, card.message_id)
    assert text_of(hidden) == NEUTRAL and hidden.button_texts() == []
    assert len(hidden.edits) == edits_before + 1

    # The director rejects with a reason: every other copy shows it, the manager's does not.
    await people.director.tap("Reject")
    await people.director.send(REASON)
    await local_bot.drain_outbox()
    assert REASON in text_of(await card_of(people.director_2, 1, with_buttons=False))
    after = await message(people.manager, card.message_id)
    assert text_of(after) == NEUTRAL and len(after.edits) == edits_before + 1
    assert all(REASON not in text_of(m) for m in await people.manager.bot_messages())
    assert all(REASON not in str(e) for m in await people.manager.bot_messages() for e in m.edits)

    # One neutral edit was queued for the manager's copy, and nothing after it.
    async with transaction(local_bot.runtime.sessions) as session:
        card_row = (
            await session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.chat_id) == MANAGER,
                    col(OutboxMessage.kind) == "approval.card",
                )
            )
        ).one()
    assert card_row.id is not None
    queued = await edits_queued_for(local_bot, card_row.id)
    assert [row.kind for row in queued][-1] == "approval.hidden"
    assert sum(row.kind == "approval.hidden" for row in queued) == 1
