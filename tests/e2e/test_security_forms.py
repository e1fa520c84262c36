"""A form's error messages show what people typed or named as text, never as markup: a stray
'<' gets the question again, and a customer's name cannot become a link."""

from __future__ import annotations

from models.common import Role
from sandbox.harness import LocalBot
from tests.customer_helpers import count_customers
from tests.helpers import join

LINK_NAME = '<a href="https://evil.example">Delta</a> Foods'


async def test_a_stray_angle_bracket_at_the_tier_step_gets_the_question_again(
    local_bot: LocalBot,
) -> None:
    rep = await join(local_bot, 4001, "Li", Role.REP, "north")
    await rep.send("/customers")
    await rep.tap("New customer")
    await rep.send("Hotel Pacific")
    await rep.tap("Skip")
    await rep.send("(021) 6234-5678")
    replies = await rep.send("<x")
    texts = [r.text or "" for r in replies]
    assert any("“<x” is not a tier" in text for text in texts), texts
    assert not any("Sorry" in text for text in texts)
    assert "A" in replies[-1].button_texts()  # asked again, with its buttons
    await rep.tap("A")
    replies = await rep.send("88 Nanjing Road")
    replies = await rep.tap("Save now")
    assert await count_customers(local_bot.runtime) == 1


async def test_a_teammates_customer_name_in_a_duplicate_message_is_text(
    local_bot: LocalBot,
) -> None:
    rep = await join(local_bot, 4002, "Wang", Role.REP, "north")
    await rep.send("/customers")
    await rep.tap("New customer")
    await rep.send("Hotel Pacific")
    await rep.tap("Skip")
    await rep.send("13800000001")
    await rep.tap("A")
    await rep.send("88 Nanjing Road")
    # Meanwhile a teammate saved a customer with the same phone and a name that looks like a link.
    mate = await join(local_bot, 4003, "Zhao", Role.REP, "north")
    await mate.send("/customers")
    await mate.tap("New customer")
    await mate.send(LINK_NAME)
    await mate.tap("Skip")
    await mate.send("138 0000 0001")
    await mate.tap("B")
    await mate.send("1 Bund")
    await mate.tap("Save now")
    replies = await rep.tap("Save now")
    shown = [r for r in replies if LINK_NAME in (r.text or "")]
    assert shown, [r.text for r in replies]
    assert all(e["type"] != "text_link" for r in replies for e in r.entities)
    assert await count_customers(local_bot.runtime) == 1  # the teammate's only
