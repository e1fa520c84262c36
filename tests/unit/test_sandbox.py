"""The sandbox behaves like the Telegram Bot API, as seen through a real PTB Bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    SwitchInlineQueryChosenChat,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from sandbox import Sandbox, SandboxClient, SandboxError
from sandbox.formatting import (
    DOUBLE_ESCAPE,
    MARKUP_AS_TEXT,
    HtmlParseError,
    escaped_markup,
    parse_html,
)
from sandbox.media import png_bytes

TOKEN = "123456789:TEST-sandbox-token"
USER = 1001
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(bot_token=TOKEN) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when time periods are read as ints; warnings are errors here.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.control_url) as sandbox_client:
        await sandbox_client.reset()
        await sandbox_client.add_user(USER, "Ann", username="ann", language_code="en")
        yield sandbox_client


@pytest.fixture
async def bot(sandbox: Sandbox, client: SandboxClient) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url) as b:
        yield b


async def next_update(bot: Bot) -> Update:
    """The next update, confirmed so the following call sees only newer ones."""
    updates = await bot.get_updates(timeout=5)
    assert len(updates) == 1, updates
    await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    return updates[0]


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


# -- identity and updates -----------------------------------------------------------


async def test_get_me_returns_configured_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, "salesbot_demo_bot", True)
    assert me.can_join_groups
    assert not me.supports_inline_queries  # as for a new BotFather bot
    assert not me.can_read_all_group_messages


async def test_wrong_token_is_unauthorized(sandbox: Sandbox, client: SandboxClient) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("42:wrong", base_url=sandbox.base_url):
            pass
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{sandbox.base_url}42:wrong/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_raw_requests_json_form_query_and_unknown_method(
    sandbox: Sandbox, client: SandboxClient
) -> None:
    base = f"{sandbox.base_url}{TOKEN}"
    async with httpx.AsyncClient() as http:
        by_json = await http.post(f"{base}/SENDMESSAGE", json={"chat_id": USER, "text": "a"})
        by_form = await http.post(f"{base}/sendmessage", data={"chat_id": str(USER), "text": "b"})
        by_query = await http.get(f"{base}/sendMessage", params={"chat_id": USER, "text": "c"})
        unknown = await http.post(f"{base}/sendTelepathy")
    assert [r.json()["result"]["text"] for r in (by_json, by_form, by_query)] == ["a", "b", "c"]
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_user_command_arrives_with_entity_and_offset_confirms(
    bot: Bot, client: SandboxClient
) -> None:
    await client.send_message(USER, "/start@salesbot_demo_bot promo")
    await client.send_message(USER, "hello")
    first, second = await bot.get_updates(timeout=5)
    assert first.message is not None and second.message is not None
    assert first.message.text == "/start@salesbot_demo_bot promo"
    entity = first.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 24)
    assert first.message.chat.type == "private" and first.message.chat.id == USER
    assert not second.message.entities
    # Asking again without an offset returns the same updates; an offset drops them.
    assert len(await bot.get_updates(timeout=0)) == 2
    remaining = await bot.get_updates(offset=second.update_id, timeout=0)
    assert [u.update_id for u in remaining] == [second.update_id]
    assert await bot.get_updates(offset=second.update_id + 1, timeout=0) == ()


async def test_long_poll_returns_when_an_update_arrives(bot: Bot, client: SandboxClient) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await client.send_message(USER, "wake up")
    updates = await asyncio.wait_for(poll, 10)
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_second_poller_terminates_the_first(
    sandbox: Sandbox, bot: Bot, client: SandboxClient
) -> None:
    async with httpx.AsyncClient() as http:
        first = asyncio.create_task(
            http.post(f"{sandbox.base_url}{TOKEN}/getUpdates", json={"timeout": 20})
        )
        await asyncio.sleep(0.05)
        assert await bot.get_updates(timeout=0) == ()
        answer = await asyncio.wait_for(first, 10)
    assert answer.status_code == 409
    assert "terminated by other getUpdates request" in answer.json()["description"]


async def test_allowed_updates_filter_is_remembered(bot: Bot, client: SandboxClient) -> None:
    await client.send_message(USER, "a message")
    assert await bot.get_updates(timeout=0, allowed_updates=["callback_query"]) == ()
    assert await bot.get_updates(timeout=0) == ()  # the filter sticks, like Telegram's
    updates = await bot.get_updates(timeout=0, allowed_updates=[])
    assert [u.message.text for u in updates if u.message] == ["a message"]


# -- keyboards and callback queries -------------------------------------------------


async def test_press_produces_callback_query_answerable_once(
    bot: Bot, client: SandboxClient
) -> None:
    sent = await bot.send_message(
        USER, "Approve?", reply_markup=keyboard(("Yes", "approve:1"), ("No", "reject:1"))
    )
    await client.press(USER, sent.message_id, button_text="No")
    query = (await next_update(bot)).callback_query
    assert query is not None and query.message is not None
    assert query.data == "reject:1" and query.from_user.id == USER
    assert query.message.message_id == sent.message_id
    assert await client.callback_answer(query.id) is None

    assert await query.answer("Rejected", show_alert=True)
    assert await client.callback_answer(query.id) == {
        "text": "Rejected",
        "show_alert": True,
        "url": None,
        "cache_time": 0,
    }
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")

    await client.press(USER, sent.message_id, index=1)
    second = (await next_update(bot)).callback_query
    assert second is not None and second.data == "approve:1"
    with pytest.raises(BadRequest, match="Message_too_long"):
        await second.answer("x" * 201)


async def test_press_refuses_buttons_that_do_not_exist(bot: Bot, client: SandboxClient) -> None:
    sent = await bot.send_message(USER, "Pick", reply_markup=keyboard(("A", "a")))
    plain = await bot.send_message(USER, "No keyboard")
    with pytest.raises(SandboxError, match="no such button"):
        await client.press(USER, sent.message_id, button_text="B")
    with pytest.raises(SandboxError, match="no such button"):
        await client.press(USER, sent.message_id, data="b")
    with pytest.raises(SandboxError, match="no inline keyboard"):
        await client.press(USER, plain.message_id, data="a")
    with pytest.raises(SandboxError, match="no bot message"):
        await client.press(USER, 10**9, data="a")


async def test_a_press_by_label_finds_the_newest_message_with_that_button(
    bot: Bot, client: SandboxClient
) -> None:
    """One request taps a button by part of its text (what a load generator needs): the newest
    bot message with such a button is tapped; an ambiguous or absent label is refused."""
    older = await bot.send_message(USER, "Old", reply_markup=keyboard(("✅ Save", "save:1")))
    newer = await bot.send_message(
        USER, "New", reply_markup=keyboard(("✅ Save", "save:2"), ("✏️ Edit", "edit:2"))
    )
    await bot.send_message(USER, "No keyboard")
    await client.press_label(USER, "Save")
    query = (await next_update(bot)).callback_query
    assert query is not None and query.data == "save:2"
    assert query.message is not None and query.message.message_id == newer.message_id
    await bot.edit_message_reply_markup(USER, newer.message_id, reply_markup=None)
    await client.press_label(USER, "Save")
    query = (await next_update(bot)).callback_query
    assert query is not None and query.data == "save:1"
    assert query.message is not None and query.message.message_id == older.message_id
    both = await bot.send_message(USER, "Two", reply_markup=keyboard(("Co A", "a"), ("Co B", "b")))
    with pytest.raises(SandboxError, match="ambiguous"):
        await client.press_label(USER, "Co")
    with pytest.raises(SandboxError, match="no button 'Delete'"):
        await client.press_label(USER, "Delete")
    with pytest.raises(SandboxError, match="only without a message_id"):
        await client.act("press", user_id=USER, message_id=both.message_id, label="Co A")


async def test_a_forged_press_sends_any_data_on_any_bot_message(
    bot: Bot, client: SandboxClient
) -> None:
    """A modified client can send callback data no button carries; bots must cope."""
    plain = await bot.send_message(USER, "No keyboard")
    await client.press(USER, plain.message_id, data="approve:999", forged=True)
    query = (await next_update(bot)).callback_query
    assert query is not None and query.data == "approve:999"
    with pytest.raises(SandboxError, match="1 to 64 bytes"):
        await client.press(USER, plain.message_id, data="x" * 65, forged=True)
    with pytest.raises(SandboxError, match="no bot message"):
        await client.press(USER, 10**9, data="a", forged=True)


async def test_callback_data_and_button_validation(bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard(("A", "d" * 64)))
    for data in ("d" * 65, "é" * 33):
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(USER, "too long", reply_markup=keyboard(("A", data)))
    no_action = InlineKeyboardMarkup([[InlineKeyboardButton("A")]])
    with pytest.raises(BadRequest, match="Can't parse reply keyboard markup"):
        await bot.send_message(USER, "no action", reply_markup=no_action)
    two_actions = InlineKeyboardMarkup(
        [[InlineKeyboardButton("A", callback_data="a", url="https://example.com")]]
    )
    with pytest.raises(BadRequest, match="Can't parse reply keyboard markup"):
        await bot.send_message(USER, "two actions", reply_markup=two_actions)


# -- text rules ---------------------------------------------------------------------


async def test_text_length_counts_utf16_after_parsing(bot: Bot) -> None:
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "😀" * 2048)
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    for text in ("x" * 4097, "😀" * 2049):
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(USER, text)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "  \n ")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(USER, png_bytes(), caption="c" * 1025)


async def test_html_is_parsed_and_errors_are_telegrams(bot: Bot, client: SandboxClient) -> None:
    sent = await bot.send_message(
        USER, '<b>Total</b> &lt;5&gt; <a href="https://x.test/?a=1&amp;b=2">link</a>', "HTML"
    )
    assert sent.text == "Total <5> link"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 5),
        ("text_link", 10, 4),
    ]
    assert sent.entities[1].url == "https://x.test/?a=1&b=2"
    stored = (await client.messages(USER))[-1]
    assert stored.text == "Total <5> link"
    assert stored.raw_text is not None and stored.raw_text.startswith("<b>Total</b>")
    assert stored.parse_mode == "HTML"

    with pytest.raises(BadRequest, match="Can't parse entities: unmatched end tag"):
        await bot.send_message(USER, "<b>bold</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match='unsupported start tag "div"'):
        await bot.send_message(USER, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Unsupported parse_mode"):
        await bot.send_message(USER, "x", parse_mode="BBCode")
    markdown = await bot.send_message(USER, "*bold*", parse_mode="MarkdownV2")
    assert markdown.text == "*bold*"


def test_parse_html_offsets_and_error_wording() -> None:
    text, entities = parse_html("a <b>bold 😀</b> <i>it</i>&nbsp;")
    assert text == "a bold 😀 it&nbsp;"
    assert entities == [
        {"type": "bold", "offset": 2, "length": 7},
        {"type": "italic", "offset": 10, "length": 2},
    ]
    _, pre = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert pre == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    _, spoiler = parse_html('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>')
    assert [e["type"] for e in spoiler] == ["spoiler", "spoiler"]
    errors = {
        "<b>x": 'Can\'t find end tag corresponding to start tag "b"',
        "x</b>": "Unexpected end tag at byte offset 1",
        "1 < 2": 'Unsupported start tag "" at byte offset 2',
        "é<b>x</i>": 'Unmatched end tag at byte offset 6, expected "</b>", found "</i>"',
        "<span>x</span>": 'Tag "span" must have class "tg-spoiler" at byte offset 0',
    }
    for source, message in errors.items():
        with pytest.raises(HtmlParseError) as caught:
            parse_html(source)
        assert str(caught.value) == message


def test_escaped_markup_flags_a_text_escaped_twice_and_nothing_people_typed() -> None:
    def shown(raw: str, *typed: str) -> list[tuple[str, str]]:
        return escaped_markup(parse_html(raw)[0], lambda: typed)

    twice = "&amp;lt;b&amp;gt;工作日报 · 11月24日&amp;lt;/b&amp;gt;"
    assert shown(twice) == [(DOUBLE_ESCAPE, "&lt;"), (DOUBLE_ESCAPE, "&gt;")]
    assert shown("R&amp;amp;D") == [(DOUBLE_ESCAPE, "&amp;")]
    assert shown("Li &amp;quot;Ann&amp;#x27;s&amp;quot;") == [
        (DOUBLE_ESCAPE, "&quot;"),
        (DOUBLE_ESCAPE, "&#x27;"),
    ]
    once = "&lt;b&gt;工作日报 · 11月24日&lt;/b&gt;"  # finished markup escaped (once more)
    assert shown(once) == [(MARKUP_AS_TEXT, "<b>")]
    assert shown('&lt;a href="https://x.test"&gt;map&lt;/a&gt;') == [
        (MARKUP_AS_TEXT, '<a href="https://x.test">')
    ]
    # User data escaped once shows as typed: never a finding.
    assert shown("<b>Hua</b> &lt;b&gt;&amp;&quot; Co · 1 &lt; 2 &gt; 0 · a & b; &nbsp;") == []
    # Typed by a person (a note, a name), shown back literally: not a finding either.
    assert shown("Note: &lt;i&gt;sic&lt;/i&gt;", "see <i>sic</i>") == []
    assert shown("Firm: AT&amp;amp;T", "AT&amp;T") == []
    assert shown("&lt;B&gt;x&lt;/b&gt;", "<b>") == []

    def never() -> list[str]:
        raise AssertionError("people's texts are read only when something was found")

    assert escaped_markup("Total <5> · <b> & Co", never) == []


async def test_escaped_markup_is_recorded_for_texts_edits_captions_and_buttons(
    bot: Bot, client: SandboxClient
) -> None:
    await client.send_message(USER, "My note: <b>bold</b> & AT&amp;T")
    typed = await bot.send_message(USER, "You wrote: My note: &lt;b&gt;bold&lt;/b&gt; &amp; "
                                   "AT&amp;amp;T", parse_mode="HTML")  # fmt: skip
    assert typed.text == "You wrote: My note: <b>bold</b> & AT&amp;T"
    assert await client.violations() == []

    sent = await bot.send_message(USER, "&amp;lt;b&amp;gt;Card&amp;lt;/b&amp;gt;", "HTML",
                                  reply_markup=keyboard(("Wang &#39;s", "w")))  # fmt: skip
    await bot.edit_message_text("&lt;i&gt;Card&lt;/i&gt;", USER, sent.message_id,
                                parse_mode="HTML")  # fmt: skip
    await bot.send_photo(USER, png_bytes(), caption="&amp;quot;x&amp;quot;", parse_mode="HTML")
    found = await client.violations()
    assert [(v["method"], v["where"], v["rule"], v["found"]) for v in found] == [
        ("sendMessage", "text", DOUBLE_ESCAPE, "&lt;"),
        ("sendMessage", "text", DOUBLE_ESCAPE, "&gt;"),
        ("sendMessage", "button", DOUBLE_ESCAPE, "&#39;"),
        ("editMessageText", "text", MARKUP_AS_TEXT, "<i>"),
        ("sendPhoto", "text", DOUBLE_ESCAPE, "&quot;"),
    ]
    assert found[0]["chat_id"] == USER and found[0]["message_id"] == sent.message_id
    assert found[0]["text"] == "&lt;b&gt;Card&lt;/b&gt;"
    assert await client.take_violations() == found
    assert await client.violations() == []
    await bot.send_message(USER, "&amp;amp;")
    await client.reset()
    assert await client.violations() == []


# -- edits and deletes --------------------------------------------------------------


async def test_edits_must_change_something(bot: Bot, client: SandboxClient) -> None:
    markup = keyboard(("A", "a"))
    sent = await bot.send_message(USER, "v1", reply_markup=markup)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("v1", USER, sent.message_id, reply_markup=markup)
    await bot.edit_message_text("v2", USER, sent.message_id, reply_markup=markup)
    # Leaving out reply_markup removes the keyboard, which is a change.
    edited = await bot.edit_message_text("v2", USER, sent.message_id)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None and edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id)
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard(("B", "b")))

    stored = (await client.messages(USER))[-1]
    assert stored.text == "v2" and stored.button_texts() == ["B"]
    assert [e["text"] for e in stored.edits] == ["v2", "v2", "v2"]
    assert [e["method"] for e in stored.edits][-1] == "editMessageReplyMarkup"


async def test_caption_edit_and_delete(bot: Bot, client: SandboxClient) -> None:
    photo = await bot.send_photo(USER, png_bytes(), caption="before")
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", USER, photo.message_id)
    edited = await bot.edit_message_caption(USER, photo.message_id, caption="after")
    assert isinstance(edited, Message) and edited.caption == "after"
    assert await bot.delete_message(USER, photo.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, photo.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_caption(USER, photo.message_id, caption="again")
    stored = (await client.messages(USER))[-1]
    assert stored.deleted and stored.caption == "after" and stored.kind == "photo"


# -- files --------------------------------------------------------------------------


async def test_bot_uploads_round_trip(bot: Bot, client: SandboxClient) -> None:
    image = png_bytes(4, 3)
    photo = await bot.send_photo(USER, image, caption="chart")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (4, 3)
    assert await client.file_bytes(photo.photo[-1].file_id) == image

    sheet = b"PK\x03\x04 not really a workbook"
    document = await bot.send_document(USER, sheet, filename="report.xlsx")
    assert document.document is not None and document.document.file_name == "report.xlsx"
    assert await client.file_bytes(document.document.file_id) == sheet
    stored = (await client.messages(USER))[-1]
    assert stored.kind == "document"
    assert stored.file == {
        "file_id": document.document.file_id,
        "file_name": "report.xlsx",
        "mime_type": XLSX,
        "size": len(sheet),
    }
    # Re-sending by file_id reuses the stored file; unknown ids are refused.
    again = await bot.send_document(USER, document.document.file_id)
    assert again.document is not None and again.document.file_id == document.document.file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_document(USER, "no-such-file-id")
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(USER, b"not an image")
    downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == sheet


async def test_user_media_can_be_downloaded_by_the_bot(bot: Bot, client: SandboxClient) -> None:
    image = png_bytes(3, 2)
    await client.send_photo(USER, caption="receipt", content=image)
    message = (await next_update(bot)).message
    assert message is not None and message.caption == "receipt" and len(message.photo) == 2
    assert (message.photo[-1].width, message.photo[-1].height) == (3, 2)
    photo_file = await bot.get_file(message.photo[-1].file_id)
    assert bytes(await photo_file.download_as_bytearray()) == image

    await client.send_document(USER, "visits.csv", "text/csv", b"a,b\n1,2\n")
    document = (await next_update(bot)).message
    assert document is not None and document.document is not None
    assert document.document.file_name == "visits.csv"
    csv_file = await bot.get_file(document.document.file_id)
    assert bytes(await csv_file.download_as_bytearray()) == b"a,b\n1,2\n"
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_location_voice_and_contact(bot: Bot, client: SandboxClient) -> None:
    await client.send_location(USER, 41.3, 69.2, horizontal_accuracy=15, live_period=900)
    located = (await next_update(bot)).message
    assert located is not None and located.location is not None
    assert located.location.latitude == pytest.approx(41.3)
    assert located.location.live_period == dtm.timedelta(seconds=900)

    await client.send_voice(USER, 7)
    voice = (await next_update(bot)).message
    assert voice is not None and voice.voice is not None
    assert voice.voice.duration == dtm.timedelta(seconds=7)

    await client.send_contact(USER, "+998901234567", "Ann")
    contact = (await next_update(bot)).message
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == USER and contact.contact.phone_number == "+998901234567"

    sent = await bot.send_location(USER, 41.31, 69.24)
    assert sent.location is not None and sent.location.longitude == pytest.approx(69.24)
    assert [m.kind for m in await client.messages(USER)] == [
        "location",
        "voice",
        "contact",
        "location",
    ]
    assert await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")


# -- inline mode --------------------------------------------------------------------


# PTB capitalises Telegram's "BUTTON_TYPE_INVALID" (the raw description is checked below).
BUTTON_INVALID = "Button_type_invalid"
SWITCH_INLINE_BUTTONS = [
    InlineKeyboardButton("🔍", switch_inline_query=""),
    InlineKeyboardButton("🔍", switch_inline_query_current_chat="abc"),
    InlineKeyboardButton(
        "🔍",
        switch_inline_query_chosen_chat=SwitchInlineQueryChosenChat("", allow_user_chats=True),
    ),
]


@pytest.mark.parametrize("button", SWITCH_INLINE_BUTTONS, ids=["any", "current", "chosen"])
async def test_switch_inline_buttons_are_refused_while_inline_mode_is_off(
    bot: Bot, client: SandboxClient, button: InlineKeyboardButton
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ok")], [button]])
    with pytest.raises(BadRequest, match=BUTTON_INVALID):
        await bot.send_message(USER, "pick", reply_markup=markup)
    with pytest.raises(BadRequest, match=BUTTON_INVALID):
        await bot.send_photo(USER, png_bytes(4, 4), reply_markup=markup)
    plain = await bot.send_message(USER, "pick", reply_markup=keyboard(("ok", "ok")))
    with pytest.raises(BadRequest, match=BUTTON_INVALID):
        await plain.edit_text("pick again", reply_markup=markup)
    with pytest.raises(BadRequest, match=BUTTON_INVALID):
        await plain.edit_reply_markup(reply_markup=markup)
    with pytest.raises(SandboxError, match="inline mode is off"):
        await client.inline_query(USER, "abc")
    refused = [e for e in await client.events() if e["status"] == 400]
    assert len(refused) == 4
    assert {e["description"] for e in refused} == {"Bad Request: BUTTON_TYPE_INVALID"}

    await client.configure(inline_mode=True)
    assert (await bot.get_me()).supports_inline_queries
    sent = await bot.send_message(USER, "pick", reply_markup=markup)
    assert sent.reply_markup == markup
    await client.reset()  # back to the sandbox's own setting
    assert not (await bot.get_me()).supports_inline_queries


def test_inline_mode_is_a_sandbox_setting() -> None:
    with Sandbox(bot_token=TOKEN, inline_mode=True) as sandbox:
        response = httpx.post(f"{sandbox.base_url}{TOKEN}/getMe")
        assert response.json()["result"]["supports_inline_queries"] is True
        httpx.post(f"{sandbox.control_url}/reset")
        response = httpx.post(f"{sandbox.base_url}{TOKEN}/getMe")
        assert response.json()["result"]["supports_inline_queries"] is True


async def test_inline_query_answer_and_chosen_result(bot: Bot, client: SandboxClient) -> None:
    await client.configure(inline_mode=True)
    _, query_id = await client.inline_query(USER, "deal")
    query = (await next_update(bot)).inline_query
    assert query is not None and query.id == query_id and query.query == "deal"
    assert await client.inline_answer(query_id) is None

    article = InlineQueryResultArticle(
        "r1", "Deal #42", InputTextMessageContent("<b>Deal</b> #42", parse_mode="HTML")
    )
    assert await query.answer([article])
    results = await client.inline_answer(query_id)
    assert results is not None and [r["id"] for r in results] == ["r1"]
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer([article])

    await client.choose_inline_result(USER, query_id, "r1")
    sent = (await next_update(bot)).message
    assert sent is not None and sent.text == "Deal #42"
    assert sent.via_bot is not None and sent.via_bot.username == "salesbot_demo_bot"
    with pytest.raises(SandboxError, match="no result"):
        await client.choose_inline_result(USER, query_id, "r2")


# -- chats and users ----------------------------------------------------------------


async def test_blocked_and_unknown_chats(bot: Bot, client: SandboxClient) -> None:
    await client.set_blocked(USER, True)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    await client.set_blocked(USER, False)
    await bot.send_message(USER, "hi")
    for unknown in (424242, "@ann"):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(unknown, "hi")


async def test_messages_list_both_sides_in_order(bot: Bot, client: SandboxClient) -> None:
    await client.send_message(USER, "/start")
    update = await next_update(bot)
    assert update.message is not None
    await update.message.reply_text("Welcome", do_quote=True)
    user_message, bot_message = await client.messages(USER)
    assert (user_message.from_bot, user_message.text) == (False, "/start")
    assert (bot_message.from_bot, bot_message.text) == (True, "Welcome")
    assert bot_message.reply_to_message_id == user_message.message_id
    assert bot_message.message_id > user_message.message_id


async def test_reset_forgets_everything_but_keeps_ids_growing(
    bot: Bot, client: SandboxClient
) -> None:
    before = await client.send_message(USER, "one")
    await client.reset()
    assert await client.messages(USER) == []
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(USER, "gone")
    after = await client.send_message(USER, "two")  # auto-registers the user again
    assert after > before
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [after]


# -- flood limits and faults --------------------------------------------------------


async def test_flood_limit_per_chat_and_global(bot: Bot, client: SandboxClient) -> None:
    await client.set_limits(True, per_chat_per_second=1)
    since = (await client.events())[-1]["seq"]
    await bot.send_message(USER, "first")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "second")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("edited", USER, (await client.messages(USER))[0].message_id)

    await client.set_limits(True, per_chat_per_second=10, global_per_second=2)
    for user_id in (2001, 2002, 2003):
        await client.add_user(user_id, f"U{user_id}")
    await bot.send_message(2001, "a")
    await bot.send_message(2002, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(2003, "c")
    statuses = [e["status"] for e in await client.events(since) if e["method"] != "getUpdates"]
    assert statuses == ["ok", 429, 429, "ok", "ok", 429]
    assert [m.text for m in await client.messages(USER)] == ["first"]


async def test_injected_429_and_5xx(bot: Bot, client: SandboxClient) -> None:
    await client.add_fault("429", "sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)

    await client.add_fault("5xx", count=2)
    # getUpdates is spared by "*" faults, so a poller keeps working.
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "x")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_photo(USER, png_bytes())
    await client.add_fault("5xx", "sendMessage", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(USER, "x")

    await bot.send_message(USER, "delivered")
    assert [m.text for m in await client.messages(USER)] == ["delivered"]
    assert await client.faults() == []


async def test_faults_filter_by_chat_and_count(bot: Bot, client: SandboxClient) -> None:
    await client.add_user(2001, "Bob")
    await client.add_fault("429", "sendmessage", chat_id=2001, count=2)
    await bot.send_message(USER, "unaffected")
    for _ in range(2):
        with pytest.raises(RetryAfter):
            await bot.send_message(2001, "x")
    await bot.send_message(2001, "third time")
    with pytest.raises(SandboxError, match="unknown fault kind"):
        await client.add_fault("explode")


async def test_drop_fault_closes_the_connection(bot: Bot, client: SandboxClient) -> None:
    await client.add_fault("drop", "sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "lost")
    assert await client.messages(USER) == []
    await bot.send_message(USER, "next one works")
    events = [e for e in await client.events() if e["method"] == "sendMessage"]
    assert [(e["status"], e["fault"]) for e in events] == [("dropped", "drop"), ("ok", None)]


async def test_slow_fault_answers_after_the_delay(bot: Bot, client: SandboxClient) -> None:
    await client.add_fault("slow", "sendMessage", delay=0.3)
    started = time.monotonic()
    sent = await bot.send_message(USER, "eventually")
    assert time.monotonic() - started >= 0.3
    assert sent.text == "eventually"
    event = next(e for e in await client.events() if e["method"] == "sendMessage")
    assert (event["status"], event["fault"]) == ("ok", "slow")


async def test_event_log_records_params_and_file_metadata(bot: Bot, client: SandboxClient) -> None:
    await bot.send_message(USER, "logged", reply_markup=keyboard(("A", "a")))
    await bot.send_document(USER, b"12345", filename="a.txt")
    events = await client.events()
    send, upload = (e for e in events if e["method"] in ("sendMessage", "sendDocument"))
    assert send["chat_id"] == USER and send["params"]["text"] == "logged"
    assert send["params"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }
    assert upload["params"]["document"] == {
        "file_name": "a.txt",
        "mime_type": "text/plain",
        "size": 5,
    }
    assert upload["seq"] > send["seq"] and upload["mono"] >= send["mono"]
    assert await client.events(since=send["seq"]) == [e for e in events if e["seq"] > send["seq"]]


# -- commands -----------------------------------------------------------------------


async def test_commands_are_stored_per_scope_and_language(bot: Bot, client: SandboxClient) -> None:
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
    await bot.set_my_commands(
        [BotCommand("report", "Daily report")], scope=BotCommandScopeAllPrivateChats()
    )
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in private] == ["report"]
    stored = {(e["scope"]["type"], e["language_code"]) for e in await client.commands()}
    assert stored == {("default", ""), ("default", "ru"), ("all_private_chats", "")}

    assert await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])


# -- webhook ------------------------------------------------------------------------


class Receiver:
    """A minimal HTTP server that answers the given statuses, then 200s; a 200 carries the next
    of ``bodies`` (content type, body), if any."""

    def __init__(self, statuses: list[int], bodies: list[tuple[str, bytes]] | None = None) -> None:
        self.statuses = statuses
        self.bodies = bodies or []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._arrived = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            lines = head.split("\r\n")[1:]
            headers = {
                k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines if x)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.statuses.pop(0) if self.statuses else 200
            self.requests.append((headers, body))
            media, answer = self.bodies.pop(0) if status == 200 and self.bodies else ("", b"")
            typed = f"content-type: {media}\r\n" if media else ""
            reply = f"HTTP/1.1 {status} X\r\n{typed}content-length: {len(answer)}\r\n"
            writer.write(f"{reply}connection: close\r\n\r\n".encode() + answer)
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()
            self._arrived.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()


async def finished_deliveries(
    client: SandboxClient, *, failed: int = 0, accepted: int = 0
) -> list[dict[str, Any]]:
    """Wait for webhook deliveries with results: ``failed`` errors, ``accepted`` 200s."""
    for _ in range(500):
        done = [d for d in (await client.webhook())["deliveries"] if d["status"] or d["error"]]
        ok = [d for d in done if d["status"] == 200]
        if len(ok) >= accepted and len(done) - len(ok) >= failed:
            return done
        await asyncio.sleep(0.02)
    raise AssertionError("webhook deliveries did not finish")


def _update_ids(requests: list[tuple[dict[str, str], bytes]]) -> list[int]:
    return [json.loads(body)["update_id"] for _, body in requests]


async def test_webhook_delivery_retries_with_secret(bot: Bot, client: SandboxClient) -> None:
    await client.configure(webhook_retry_delay=0.05)
    async with Receiver([500]) as receiver:
        assert await bot.set_webhook(receiver.url, secret_token="s3cret-token")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        first = await client.send_message(USER, "via webhook")
        second = await client.send_message(USER, "and another")
        await receiver.wait_for(3)

    # The rejected update comes again (the bot must dedupe), and order is kept.
    assert _update_ids(receiver.requests) == [first, first, second]
    assert all(
        h["x-telegram-bot-api-secret-token"] == "s3cret-token" for h, _ in receiver.requests
    )
    deliveries = await finished_deliveries(client, failed=1, accepted=2)
    attempts = [(d["update_id"], d["attempt"], d["status"]) for d in deliveries]
    assert attempts == [(first, 1, 500), (first, 2, 200), (second, 1, 200)]
    info = await client.webhook()
    assert info["info"]["last_error_message"].startswith("Wrong response from the webhook: 500")
    webhook_info = await bot.get_webhook_info()
    assert webhook_info.url == receiver.url and webhook_info.pending_update_count == 0

    assert await bot.delete_webhook()
    await client.send_message(USER, "polling again")
    assert [u.message.text for u in await bot.get_updates(timeout=5) if u.message] == [
        "polling again"
    ]


async def test_a_webhook_response_may_carry_one_call(bot: Bot, client: SandboxClient) -> None:
    """As Telegram: a JSON answer to a delivery may name a method, which is run (no result is
    returned to anyone); an answer of another type, or an unknown method, does nothing."""
    call = {"method": "sendMessage", "chat_id": USER, "text": "from the response"}
    bodies = [
        ("application/json", json.dumps(call).encode()),
        ("text/plain", json.dumps({**call, "text": "not JSON typed"}).encode()),
        ("application/json", b'{"method": "noSuchMethod"}'),
    ]
    async with Receiver([], bodies) as receiver:
        await bot.set_webhook(receiver.url)
        since = (await client.events())[-1]["seq"]
        for n in range(3):
            await client.send_message(USER, f"update {n}")
        await receiver.wait_for(3)
        await finished_deliveries(client, accepted=3)
    await bot.delete_webhook()
    carried = [e for e in await client.events(since) if e.get("via") == "webhook response"]
    assert [(e["method"], e["status"]) for e in carried] == [
        ("sendMessage", "ok"), ("noSuchMethod", 404)
    ]  # fmt: skip
    texts = [m.text for m in await client.bot_messages(USER)]
    assert "from the response" in texts and "not JSON typed" not in texts


async def test_webhook_connection_errors_are_retried(bot: Bot, client: SandboxClient) -> None:
    await client.configure(webhook_retry_delay=0.05, webhook_timeout=2)
    async with Receiver([]) as receiver:
        dead = receiver.url
    await bot.set_webhook(dead)
    update_id = await client.send_message(USER, "retry me")
    await finished_deliveries(client, failed=2)
    async with Receiver([]) as receiver:
        await bot.set_webhook(receiver.url, drop_pending_updates=False)
        await receiver.wait_for(1)
    assert _update_ids(receiver.requests) == [update_id]
    *failures, accepted = await finished_deliveries(client, failed=2, accepted=1)
    assert (accepted["update_id"], accepted["status"]) == (update_id, 200)
    assert accepted["attempt"] == len(failures) + 1
    assert all(d["error"].startswith("Connection failed") for d in failures)


# -- lifecycle ----------------------------------------------------------------------


async def test_tokenless_sandbox_accepts_any_token_and_stops_cleanly() -> None:
    sandbox = Sandbox().start()
    try:
        async with Bot("777:anything", base_url=sandbox.base_url) as bot:
            assert (await bot.get_me()).id == 777
        async with httpx.AsyncClient() as http:
            malformed = await http.post(f"{sandbox.base_url}not-a-token/getMe")
            assert malformed.status_code == 404
            poll = asyncio.create_task(
                http.post(f"{sandbox.base_url}777:x/getUpdates", json={"timeout": 30})
            )
            await asyncio.sleep(0.1)
            # A pending long poll must not hold the shutdown up: it answers [] at once.
            await asyncio.to_thread(sandbox.stop)
            response = await asyncio.wait_for(poll, 10)
        assert response.json() == {"ok": True, "result": []}
    finally:
        sandbox.stop()
    sandbox.stop()
    assert not sandbox.running


def test_context_manager_and_urls() -> None:
    with Sandbox(bot_token="5:x", port=0) as sandbox:
        assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}/bot"
        assert sandbox.base_file_url.endswith("/file/bot")
        assert sandbox.control_url.endswith("/control")
        response = httpx.get(f"{sandbox.base_url}5:x/getMe")
        assert response.json()["result"]["id"] == 5
    assert not sandbox.running


async def test_media_group_is_checked_as_telegram_does(bot: Bot) -> None:
    from telegram import InputMediaDocument, InputMediaPhoto

    album = await bot.send_media_group(
        USER, [InputMediaPhoto(png_bytes(4, 3), caption="<b>shop</b>", parse_mode="HTML"),
               InputMediaPhoto(png_bytes(3, 4), filename="b.png")],
    )  # fmt: skip
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "shop" and (
        album[1].photo[-1].width,
        album[1].photo[-1].height,
    ) == (
        3,
        4,
    )
    # One item is no album; photos do not mix with documents; a bad image is refused.
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(USER, [InputMediaPhoto(png_bytes())])
    with pytest.raises(BadRequest, match="can't be mixed"):
        await bot.send_media_group(
            USER, [InputMediaPhoto(png_bytes()), InputMediaDocument(b"x", filename="x.txt")]
        )
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_media_group(
            USER, [InputMediaPhoto(png_bytes()), InputMediaPhoto(b"not an image")]
        )
