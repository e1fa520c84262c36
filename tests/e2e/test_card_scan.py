"""A business card photo becomes a customer: read on the bot's machine, the form filled in,
each field checked, the duplicate offered, the photo kept with the customer."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.common import Role
from sandbox.harness import LocalBot
from tests.cards import CARDS, cjk_font, draw_card, not_a_card
from tests.customer_helpers import add_customer, count_customers, customer_named
from tests.helpers import join

FONT = cjk_font()
pytestmark = pytest.mark.skipif(FONT is None, reason="no CJK font to draw cards")


def card_photo(index: int) -> bytes:
    assert FONT is not None
    return draw_card(CARDS[index], Path(FONT))


async def test_english_card_in_customers_fix_a_field_duplicate_phone_then_save(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4901, "Wang", Role.REP, "north")
    await add_customer(runtime, "north", "Brightway Shanghai Office", phone="139 1234 5678")
    await rep.send("/customers")
    await rep.tap("New customer")
    review = (await rep.send_photo(content=card_photo(5)))[-1]
    assert "Read from the business card" in review.text
    for shown in ("Brightway Trading Co., Ltd.", "Alice Chen", "139 1234 5678",
                  "88 Century Ave, Pudong, Shanghai", "Sales Director", "021-62881234",
                  "alice@brightway.com"):  # fmt: skip
        assert shown in review.text
    assert "✅ Save the customer" in review.button_texts()

    assert "Contact" in (await rep.tap("✏️ Contact"))[-1].text
    review = (await rep.send("Alice Chen 陈爱丽"))[-1]
    assert "Alice Chen 陈爱丽" in review.text

    offered = (await rep.tap("Save the customer"))[-1]
    assert "already belongs to <b>Brightway Shanghai Office</b>" in offered.text or (
        "already belongs to Brightway Shanghai Office" in offered.text
    )
    assert "Use Brightway Shanghai Office" in offered.button_texts()
    replies = await rep.tap("It is a different customer")
    assert "Customer" in replies[-2].text and "added" in replies[-2].text
    assert "Business card photo kept" in replies[-1].text

    saved = await customer_named(runtime, "Brightway Trading Co., Ltd.")
    assert saved.contact == "Alice Chen 陈爱丽" and saved.phone == "139 1234 5678"
    assert saved.address == "88 Century Ave, Pudong, Shanghai"
    assert saved.notes is not None and "Sales Director" in saved.notes
    assert "021-62881234" in saved.notes and "alice@brightway.com" in saved.notes
    assert saved.card_file_id  # the photo stays with the customer
    assert saved.source == "chat" and await count_customers(runtime) == 2


async def test_chinese_card_outside_any_form_duplicate_name_renamed_then_saved(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4902, "徐", Role.REP, "north", lang="zh")
    await add_customer(runtime, "north", "杭州华丰建材有限公司", contact="徐亮")
    review = (await rep.send_photo(content=card_photo(0)))[-1]
    assert "用这张名片新增客户吗" in review.text
    for shown in ("杭州华丰建材有限公司", "徐亮", "137 0404 9619", "杭州市西湖区文三路138号",
                  "销售经理"):  # fmt: skip
        assert shown in review.text

    await rep.tap("✏️ 地址")
    review = (await rep.send("杭州市西湖区文三路138号 华丰大厦5楼"))[-1]
    assert "华丰大厦5楼" in review.text

    offered = (await rep.tap("保存客户"))[-1]
    assert "已有名为" in offered.text and "选用" in " ".join(offered.button_texts())
    await rep.tap("重新输入名称")
    review = (await rep.send("杭州华丰建材有限公司滨江分公司"))[-1]
    assert "滨江分公司" in review.text
    replies = await rep.tap("保存客户")
    assert "已保存名片照片" in replies[-1].text

    saved = await customer_named(runtime, "杭州华丰建材有限公司滨江分公司")
    assert saved.contact == "徐亮" and saved.phone == "137 0404 9619"
    assert saved.address == "杭州市西湖区文三路138号 华丰大厦5楼"
    assert saved.card_file_id and await count_customers(runtime) == 2


async def test_the_duplicate_is_offered_and_taken_instead(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4903, "Yang", Role.REP, "north")
    await add_customer(runtime, "north", "成都康乐零售有限公司", contact="杨磊")
    await rep.send("/customers")
    await rep.send_photo(content=card_photo(1))
    replies = await rep.tap("Save the customer")
    assert "already exists" in replies[-1].text
    card = (await rep.tap("Use 成都康乐零售有限公司"))[-1]
    assert "成都康乐零售有限公司" in card.text and "Log a visit" in " ".join(card.button_texts())
    assert await count_customers(runtime) == 1


async def test_a_photo_that_is_not_a_card_gets_the_manual_form(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 4904, "Li", Role.REP, "north")
    replies = await rep.send_photo(content=not_a_card())
    assert "does not look like a business card" in replies[-2].text
    assert "What is the customer's name?" in replies[-1].text
    replies = await rep.send("Lakeside Hardware")
    assert "contact" in replies[-1].text.lower()

    zh = await join(local_bot, 4905, "李", Role.REP, "north", lang="zh")
    replies = await zh.send_photo(content=not_a_card())
    assert "不像名片" in replies[-2].text and "客户名称是什么" in replies[-1].text


async def test_a_card_inside_visit_creates_the_customer_with_the_visit(
    local_bot: LocalBot,
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4906, "Chen", Role.REP, "north")
    assert "Which customer" in (await rep.send("/visit"))[-1].text
    review = (await rep.send_photo(content=card_photo(6)))[-1]
    assert "Evergreen Foods Co., Ltd." in review.text and "David Wang" in review.text
    await rep.tap("✏️ Phone")
    review = (await rep.send("186 0215 3345"))[-1]
    assert "186 0215 3345" in review.text
    assert "tier" in (await rep.tap("Save the customer"))[-1].text.lower()
    await rep.tap("A")
    await rep.tap("Phone")
    # The purpose of a new customer's first visit is "new development" by itself (issue 15).
    replies = await rep.send("Met at their office, they want samples.")
    assert "Evergreen Foods Co., Ltd. (new customer)" in replies[-1].text
    replies = await rep.tap("Save")
    assert "New customer Evergreen Foods Co., Ltd. added" in replies[-1].text

    saved = await customer_named(runtime, "Evergreen Foods Co., Ltd.")
    assert saved.contact == "David Wang" and saved.phone == "186 0215 3345"
    assert saved.tier == "A" and saved.card_file_id
