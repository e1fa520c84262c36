"""Names and notes with HTML characters, through the prompts a tap edits: the bot's markup stays
markup (bold on screen), what people wrote shows as they wrote it. The sandbox_client fixture
also fails any of these tests that shows escaped markup anywhere."""

from __future__ import annotations

import html

import pytest

from models.common import Role
from sandbox.client import SandboxMessage
from sandbox.harness import Chat, LocalBot
from tests.approval_helpers import requests
from tests.customer_helpers import add_customer, visits_of
from tests.helpers import join
from tests.report_helpers import daily_reports

CUSTOMER = 'Hua <b>&" Co'
CUSTOMER_HTML = "Hua &lt;b&gt;&amp;&quot; Co"


def bold_parts(message: SandboxMessage) -> list[str]:
    """The visible pieces the bold entities cover (offsets are UTF-16 units)."""
    units = (message.text or "").encode("utf-16-le")
    return [
        units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.entities
        if e["type"] == "bold"
    ]


async def current(chat: Chat, message_id: int) -> SandboxMessage:
    [found] = [m for m in await chat.bot_messages() if m.message_id == message_id]
    return found


async def tap_marked(chat: Chat, label: str) -> SandboxMessage:
    """Tap the button whose label contains ``label``; return its prompt as the tap left it:
    without buttons, the chosen label appended in bold to the very HTML that was sent (not to
    HTML rebuilt from what Telegram shows, which escapes the finished text a second time)."""
    for prompt in reversed(await chat.bot_messages()):
        chosen = [text for text in prompt.button_texts() if label in text]
        if chosen:
            break
    else:
        raise AssertionError(f"no button {label!r}")
    await chat.tap(chosen[0], prompt.message_id)
    edited = await current(chat, prompt.message_id)
    assert edited.edits and edited.buttons == [], f"the prompt of {label!r} was not closed"
    assert edited.raw_text == f"{prompt.raw_text}\n<b>✓ {html.escape(chosen[0])}</b>"
    assert edited.text is not None and edited.text.endswith(f"\n✓ {chosen[0]}")
    assert f"✓ {chosen[0]}" in bold_parts(edited)
    assert "&lt;" not in edited.text and "&amp;" not in edited.text
    return edited


async def test_visit_picker_and_summary_card_keep_markup_and_names(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 6101, 'Li <b>&"', Role.REP, "north")
    await add_customer(local_bot.runtime, "north", CUSTOMER, owner_tg=6101)

    await rep.send("/visit")
    picker = await tap_marked(rep, CUSTOMER)
    assert CUSTOMER_HTML in (picker.raw_text or "")  # escaped once, where it entered

    kind = await tap_marked(rep, "Phone")
    assert CUSTOMER in (kind.text or "")  # "How did you meet Hua <b>&" Co?"
    notes = 'Talked <i>price</i> & "terms"'
    await rep.send(notes)
    card = await tap_marked(rep, "Save")
    assert CUSTOMER in (card.text or "") and notes in (card.text or "")
    assert f"🏢 {CUSTOMER}" in (card.text or "")
    assert "📝 Visit summary" in bold_parts(card)

    [visit] = await visits_of(local_bot.runtime, 6101)
    assert visit.notes == notes  # stored as typed, escaped only when shown


async def test_expense_and_fee_steps_keep_markup_and_names(local_bot: LocalBot) -> None:
    rep = await join(local_bot, 6102, "Wang <b>&", Role.REP, "north")
    await join(local_bot, 6103, 'Chen "Jing" & <i>', Role.MANAGER, "north")
    await add_customer(local_bot.runtime, "north", CUSTOMER, owner_tg=6102)

    await rep.send("/expense")
    await rep.send("88")
    await tap_marked(rep, "Travel")
    await tap_marked(rep, "Today")
    purpose = 'Taxi <b>&" back'
    await rep.send(purpose)
    await rep.send_photo()
    await rep.tap("Done")
    summary = await tap_marked(rep, "Submit")
    assert purpose in (summary.text or "") and "CN¥88.00" in bold_parts(summary)

    await rep.send("/fee")
    await tap_marked(rep, CUSTOMER)
    await rep.send("3000")
    await rep.send("Booth <u>x</u> & more")
    summary = await tap_marked(rep, "Submit")
    assert CUSTOMER in (summary.text or "") and "Booth <u>x</u> & more" in (summary.text or "")

    stored = await requests(local_bot)
    assert [r.type for r in stored] == ["expense", "special_fee"]


@pytest.mark.parametrize(
    ("lang", "labels", "title"),
    [("zh", ("没有问题", "跳过", "提交"), "工作日报"),
     ("en", ("No problems", "Skip", "Submit"), "Daily report")],
)  # fmt: skip
async def test_daily_report_card_keeps_its_bold_title(
    local_bot: LocalBot, lang: str, labels: tuple[str, str, str], title: str
) -> None:
    rep = await join(local_bot, 6104, '李 <b>&"', Role.REP, "north", lang=lang)
    await rep.send("/report")
    summary = '拜访了 <b>&" 客户'
    await rep.send(summary)
    no_problems, skip, submit = labels
    await tap_marked(rep, no_problems)
    await rep.tap(skip)
    card = await tap_marked(rep, submit)  # the English card says "the manager's help"
    assert summary in (card.text or "")
    assert any(part.startswith(title) for part in bold_parts(card)), bold_parts(card)

    [report] = await daily_reports(local_bot.runtime, 6104)
    assert report.summary == summary
