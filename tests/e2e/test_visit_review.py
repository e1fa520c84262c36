"""The manager's view of a visit (stamped photos, check-in, flags, comments), comments that reach
the rep, and a photo sent outside any form attached to the rep's open visit."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from core.clock import ManualClock
from core.db import transaction
from models.common import Role
from models.outbox import OutboxMessage
from models.user import User
from models.visit import VisitComment
from sandbox.harness import Chat, LocalBot
from services import photo_stamp
from tests.customer_helpers import (
    add_customer,
    attachments,
    audit_actions,
    forge_button,
    form_callback,
    visits_of,
)
from tests.e2e.test_visit_photos import street_photo
from tests.helpers import join
from views.visits import COMMENT, OPEN_VISIT, REPLY, REVIEW, ReviewAction

SHOP = (30.276849, 120.160030)
JOBS_UNDER_TEST = ("close_open_visits",)
# Set to a folder to keep what the sandbox received (the view's texts, a stamped photo).
KEEP = os.environ.get("SALESBOT_KEEP_RENDERS")


def _keep(folder: Path, shown: str, photo: bytes) -> None:
    """What the sandbox received, to read and look at by eye."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "visit_view.txt").write_text(shown, encoding="utf-8")
    (folder / "stamped.jpg").write_bytes(photo)


def _keep_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _clock(local_bot: LocalBot) -> ManualClock:
    clock = local_bot.runtime.clock
    assert isinstance(clock, ManualClock)
    return clock


async def _visit_with_photos(local_bot: LocalBot, rep: Chat, photos: int) -> None:
    """Check in 40 m from the shop, 20 minutes on site, a note, a next step and photos."""
    await rep.share_location(30.2772, 120.1601, accuracy=9.0)
    await rep.tap("📍 Check in: 上海新天地零售")
    await _clock(local_bot).advance(timedelta(minutes=20))
    await rep.tap("🚪 Check out")
    await rep.send("New display is up; they want the spring price list.")
    for number in range(photos):
        await rep.send_photo(content=street_photo(1280 - number * 160, 960))
    await rep.tap("Done")
    await rep.tap("Next step")
    await rep.send("Send the spring price list")
    await rep.tap("Tomorrow")
    replies = await rep.tap("Save")
    assert "Visit saved" in replies[-1].text


async def test_manager_opens_a_visit_with_stamped_photos(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 7301, "Chen", Role.MANAGER, "north")
    boss = await join(local_bot, 7303, "Zhou", Role.DIRECTOR, None, lang="zh")
    rep = await join(local_bot, 7302, "Wang Wei", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP)
    await _visit_with_photos(local_bot, rep, photos=3)
    (visit,) = await visits_of(runtime, 7302)
    stored = await attachments(runtime, visit.id or 0)
    assert len(stored) == 3 and all(a.stamped is not None for a in stored)

    await manager.send("/team")
    await manager.tap("Wang Wei")
    rep_page = await manager.last_reply()
    assert "1. " in rep_page.text
    (open_label,) = [label for label in rep_page.button_texts() if "上海新天地零售" in label]
    replies = await manager.tap(open_label)

    # Three photos as one album (the stamped copies, never the originals), then the card.
    album = [m for m in replies if m.kind == "photo"]
    assert len(album) == 3 and len({m.media_group_id for m in album}) == 1
    assert album[0].media_group_id is not None
    assert "上海新天地零售" in (album[0].caption or "") and "Wang Wei" in (album[0].caption or "")
    received = [await local_bot.client.file_bytes(m.file["file_id"]) for m in album if m.file]
    assert received == [a.stamped for a in sorted(stored, key=lambda a: a.id or 0)]
    assert all(photo_stamp.digest(content) != a.original_sha256
               for content, a in zip(received, stored, strict=True))  # fmt: skip
    card = replies[-1]
    text = card.text or ""
    assert replies.index(card) > replies.index(album[-1])
    assert "上海新天地零售" in text and "visit by Wang Wei" in text
    assert "🤝 In person · " in text
    assert "📍 Check-in 40 m from the customer ✅ (current location, ±9 m)" in text
    assert "09:00 – 09:20" in text and "⏱ Time on site: 20 min" in text
    assert "📝 New display is up; they want the spring price list." in text
    assert "➡️ Next step: Send the spring price list" in text and "📅 Follow-up:" in text
    assert "📷 Photos: 3, stamped (above)" in text
    assert card.button_texts() == ["💬 Comment", "⬅️ Wang Wei's visits"]

    # A director reads the same visit in Chinese.
    await boss.send("/team north")
    await boss.tap("Wang Wei")
    zh_label = next(label for label in (await boss.last_reply()).button_texts()
                    if "上海新天地零售" in label)  # fmt: skip
    zh_replies = await boss.tap(zh_label)
    zh_text = zh_replies[-1].text or ""
    assert "销售代表：Wang Wei" in zh_text and "🤝 上门拜访" in zh_text
    assert "签到位置距客户 40 米 ✅" in zh_text and "⏱ 停留时长：20 分钟" in zh_text
    assert "📷 照片 3 张（见上方，已加水印）" in zh_text
    assert zh_replies[-1].button_texts() == ["💬 点评", "⬅️ Wang Wei 的拜访"]
    if KEEP:
        _keep(Path(KEEP), f"{rep_page.text}\n\n{text}\n\n---\n\n{zh_text}\n", received[0])

    # Back to the rep's page from the visit.
    await manager.tap("⬅️ Wang Wei's visits")
    assert "Wang Wei — 1 visit this week" in (await manager.last_reply()).text
    assert await local_bot.client.violations() == []


async def test_visit_view_of_another_team_is_refused(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    await join(local_bot, 7311, "Chen", Role.MANAGER, "north")
    south = await join(local_bot, 7312, "Liu", Role.MANAGER, "south")
    rep = await join(local_bot, 7313, "Wang Wei", Role.REP, "north")
    other = await join(local_bot, 7314, "Ma", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP)
    await _visit_with_photos(local_bot, rep, photos=1)
    (visit,) = await visits_of(runtime, 7313)

    for chat in (south, other):
        for action in (OPEN_VISIT, COMMENT):
            data = REVIEW.pack(ReviewAction(action, visit.id or 0))
            await forge_button(chat, data)
            replies = await chat.tap("Forged")
            assert [m.kind for m in replies] == ["text"]
            refusal = replies[-1].text or ""
            if chat is other and action == COMMENT:
                assert "not available for your role" in refusal  # reps do not comment
            else:
                assert "That visit was not found, or it is not in your team." in refusal
            assert "上海新天地零售" not in refusal
    async with transaction(runtime.sessions) as session:
        assert (await session.exec(select(VisitComment))).all() == []


async def test_manager_comment_reaches_the_rep(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 7321, "Chen", Role.MANAGER, "north")
    rep = await join(local_bot, 7322, "Wang Wei", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP)
    await _visit_with_photos(local_bot, rep, photos=1)
    (visit,) = await visits_of(runtime, 7322)
    async with transaction(runtime.sessions) as session:
        # The rep reads Chinese; the manager writes in English.
        user = (await session.exec(select(User).where(User.telegram_id == 7322))).one()
        user.language = "zh"
        session.add(user)

    await manager.send("/team")
    await manager.tap("Wang Wei")
    label = next(b for b in (await manager.last_reply()).button_texts() if "上海" in b)
    await manager.tap(label)
    replies = await manager.tap("💬 Comment")
    assert "Your comment on this visit to 上海新天地零售? Type it; Wang Wei receives it." in (
        replies[-1].text or ""
    )
    replies = await manager.send_photo()
    assert "Type the comment as text, please." in replies[0].text
    replies = await manager.send("x" * 1001)
    assert "That comment is 1001 characters; 1000 at most, please." in replies[0].text
    await _clock(local_bot).advance(timedelta(minutes=5))
    replies = await manager.send("Good shelf. <Ask> about the order & the spring list.")
    assert "✅ Comment sent to Wang Wei." in replies[-1].text

    async with transaction(runtime.sessions) as session:
        (comment,) = (await session.exec(select(VisitComment))).all()
        queued = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.chat_id) == 7322))
        ).all()
    assert comment.visit_id == visit.id and comment.text.startswith("Good shelf.")
    assert comment.created_at == _clock(local_bot).now()
    assert [e.action for e in await audit_actions(runtime, "visit")][-1] == "visit.commented"
    assert [m.kind for m in queued] == ["visit_comment"]

    await local_bot.drain_outbox()
    notice = await rep.last_reply()
    assert "💬 <b>Chen</b> 点评了您对 <b>上海新天地零售</b> 的拜访" in (notice.raw_text or "")
    assert "&lt;Ask&gt; about the order &amp; the spring list." in (notice.raw_text or "")
    assert notice.button_texts() == ["📋 查看本次拜访"]
    replies = await rep.tap("📋 查看本次拜访")
    # The rep sees their visit (their stamped photo first) and the comment, with Reply.
    assert [m.kind for m in replies] == ["photo", "text"]
    assert "💬 点评（1）" in replies[-1].text and "Chen" in replies[-1].text
    assert "<Ask> about the order & the spring list." in replies[-1].text
    assert replies[-1].button_texts() == ["💬 回复"]

    # The rep page shows the comment count on the visit's line.
    await manager.send("/team")
    await manager.tap("Wang Wei")
    assert "💬 1" in (await manager.last_reply()).text
    assert await local_bot.client.violations() == []


async def _set_language(local_bot: LocalBot, telegram_id: int, lang: str) -> None:
    async with transaction(local_bot.runtime.sessions) as session:
        user = (await session.exec(select(User).where(User.telegram_id == telegram_id))).one()
        user.language = lang
        session.add(user)


async def _comment(reviewer: Chat, command: str, button: str, text: str) -> None:
    """From /team to Wang Wei's visit at the shop, and a comment on it."""
    await reviewer.send(command)
    await reviewer.tap("Wang Wei")
    label = next(b for b in (await reviewer.last_reply()).button_texts() if "上海" in b)
    await reviewer.tap(label)
    await reviewer.tap(button)
    await reviewer.send(text)


async def test_rep_reads_their_visit_and_replies_to_the_comment(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 7351, "Chen", Role.MANAGER, "north")
    boss = await join(local_bot, 7353, "Zhou", Role.DIRECTOR, None, lang="zh")
    rep = await join(local_bot, 7352, "Wang Wei", Role.REP, "north")
    other = await join(local_bot, 7354, "Ma", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP)
    await _visit_with_photos(local_bot, rep, photos=2)
    (visit,) = await visits_of(runtime, 7352)
    stored = sorted(await attachments(runtime, visit.id or 0), key=lambda a: a.id or 0)
    # The rep reads Chinese; the manager English, the director Chinese.
    await _set_language(local_bot, 7352, "zh")

    # Before anyone comments, the rep's own view offers nothing to reply to.
    await forge_button(rep, REVIEW.pack(ReviewAction(OPEN_VISIT, visit.id or 0)), "📋")
    assert (await rep.tap("📋"))[-1].button_texts() == []

    await _comment(manager, "/team", "💬 Comment", "Good shelf. Ask about the spring order.")
    await _clock(local_bot).advance(timedelta(minutes=3))
    await _comment(boss, "/team north", "💬 点评", "陈列不错，注意竞品价格。")
    await local_bot.drain_outbox()

    # The rep opens the visit from the notice: their stamped photos, no line naming them.
    await _clock(local_bot).advance(timedelta(minutes=7))
    comment_notice = await rep.last_reply()
    assert "💬 <b>Zhou</b> 点评了您对 <b>上海新天地零售</b> 的拜访" in (
        comment_notice.raw_text or ""
    )
    replies = await rep.tap("📋 查看本次拜访")
    album = [m for m in replies if m.kind == "photo"]
    assert len(album) == 2 and len({m.media_group_id for m in album}) == 1
    caption = album[0].caption or ""
    assert caption.startswith("📷 上海新天地零售 · ") and caption.endswith(" 09:00")
    assert "Wang Wei" not in caption
    received = [await local_bot.client.file_bytes(m.file["file_id"]) for m in album if m.file]
    assert received == [a.stamped for a in stored]
    assert all(photo_stamp.digest(content) != a.original_sha256
               for content, a in zip(received, stored, strict=True))  # fmt: skip
    card = replies[-1]
    rep_view = card.text or ""
    assert rep_view.startswith("🏢 上海新天地零售 · 我的拜访")
    assert "销售代表" not in rep_view and "Wang Wei" not in rep_view
    assert "📷 照片 2 张（见上方，已加水印）" in rep_view
    assert "💬 点评（2）" in rep_view
    assert rep_view.index("Chen，") < rep_view.index("Zhou，")
    assert "• Chen，" in rep_view and " 09:20：Good shelf. Ask about the spring order." in rep_view
    assert card.button_texts() == ["💬 回复"]

    # Reply: one step, cancelable, friendly about photos and length.
    replies = await rep.tap("💬 回复")
    prompt = replies[-1]
    assert "请输入您的回复（上海新天地零售 的拜访），Chen、Zhou 会收到。" in prompt.text
    assert "取消 ✖" in prompt.button_texts()
    await rep.tap("取消 ✖")
    await rep.tap("💬 回复", message_id=card.message_id)
    assert "请以文字输入回复。" in (await rep.send_photo())[0].text
    assert "回复共 1001 个字，最多 1000 个字。" in (await rep.send("好" * 1001))[0].text
    await _clock(local_bot).advance(timedelta(minutes=2))
    replies = await rep.send("收到，<周五> 前把春季价目表发给客户 & 跟进订单。")
    assert "✅ 回复已发送给 Chen、Zhou。" in replies[-1].text

    async with transaction(runtime.sessions) as session:
        thread = (await session.exec(select(VisitComment).order_by(col(VisitComment.id)))).all()
        rep_user = (await session.exec(select(User).where(User.telegram_id == 7352))).one()
        queued = (await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind) == "visit_reply")
        )).all()  # fmt: skip
    assert [c.text[:4] for c in thread] == ["Good", "陈列不错", "收到，<"]
    assert thread[-1].author_id == rep_user.id and thread[-1].visit_id == visit.id
    assert thread[-1].created_at == _clock(local_bot).now()
    assert [e.action for e in await audit_actions(runtime, "visit")][-1] == "visit.replied"
    assert sorted(m.chat_id for m in queued) == [7351, 7353]

    # Each reviewer receives it in their language, with the visit context and a way to open it.
    await local_bot.drain_outbox()
    notice = await manager.last_reply()
    assert (
        "💬 <b>Wang Wei</b> replied to your comment on the visit to <b>上海新天地零售</b> ("
        in (notice.raw_text or "")
    )
    assert "09:00):\n收到，&lt;周五&gt; 前把春季价目表发给客户 &amp; 跟进订单。" in (
        notice.raw_text or ""
    )
    assert notice.button_texts() == ["📋 Open the visit"]
    zh_notice = await boss.last_reply()
    assert "💬 <b>Wang Wei</b> 回复了您对 <b>上海新天地零售</b> 拜访（" in (
        zh_notice.raw_text or ""
    )
    assert zh_notice.button_texts() == ["📋 查看本次拜访"]

    # The manager opens it: the album again, the thread in order, the rep named as author.
    replies = await manager.tap("📋 Open the visit")
    assert [m.kind for m in replies] == ["photo", "photo", "text"]
    manager_view = replies[-1].text or ""
    assert "visit by Wang Wei" in manager_view and "💬 Comments and replies (3)" in manager_view
    lines = manager_view.split("💬 Comments and replies (3)")[1].strip().splitlines()
    assert [line.split(",")[0] for line in lines] == ["• Chen", "• Zhou", "• Wang Wei"]
    assert lines[2].endswith("09:32: 收到，<周五> 前把春季价目表发给客户 & 跟进订单。")
    # The rep's own view shows the reply as theirs.
    rep_view = (await rep.tap("📋 查看本次拜访", message_id=comment_notice.message_id))[
        -1
    ].text or ""
    assert "💬 点评与回复（3）" in rep_view and "• 我，" in rep_view

    # Another rep's forged Reply: refused in their language, nothing stored, nothing sent.
    await forge_button(other, REVIEW.pack(ReviewAction(REPLY, visit.id or 0)))
    replies = await other.tap("Forged")
    assert [m.kind for m in replies] == ["text"]
    assert "That visit was not found, or it is not in your team." in replies[-1].text
    async with transaction(runtime.sessions) as session:
        assert len((await session.exec(select(VisitComment))).all()) == 3
        assert len((await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind) == "visit_reply")
        )).all()) == 2  # fmt: skip
    # Everyone who commented has left: Reply says truly why there is no one to reach.
    async with transaction(runtime.sessions) as session:
        for user in (await session.exec(select(User).where(col(User.role) != Role.REP))).all():
            user.active = False
            session.add(user)
    replies = await rep.tap("💬 回复")
    assert replies[-1].text == "这次拜访没有可回复的人：还没有人点评，或点评人已停用。"
    if KEEP:
        screens = [rep_view, prompt.text, notice.raw_text, zh_notice.raw_text, manager_view]
        _keep_text(Path(KEEP) / "reply_thread.txt", "\n\n---\n\n".join(map(str, screens)))
    assert await local_bot.client.violations() == []


async def test_photo_outside_a_form_attaches_to_the_open_visit(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 7331, "Wang Wei", Role.REP, "north")
    other = await join(local_bot, 7333, "Ma", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP)
    await add_customer(runtime, "north", "隔壁五金", location=(30.2775, 120.1602))
    # Another rep's visit: its id is what a forged button would name.
    await other.send("/visit")
    await other.send("隔壁五金")
    await other.tap("隔壁五金")
    await other.tap("Phone")
    await other.send("Called.")
    await other.tap("Save")
    (others_visit,) = await visits_of(runtime, 7333)
    # The rep's own phone call of today is no place for a stamped photo: never offered.
    await rep.send("/visit")
    await rep.send("隔壁五金")
    await rep.tap("隔壁五金")
    await rep.tap("Phone")
    await rep.send("Called about the delivery.")
    await rep.tap("Save")

    await rep.share_location(30.2772, 120.1601, accuracy=9.0)
    await rep.tap("📍 Check in: 上海新天地零售")
    await _clock(local_bot).advance(timedelta(minutes=10))
    original = street_photo()
    replies = await rep.send_photo(content=original)
    offer = replies[-1]
    assert "Where does this photo belong?" in offer.text
    assert offer.button_texts() == [
        "📎 Attach to the visit at 上海新天地零售 (checked in 09:00)",
        "🪪 Read as a business card",
        "Cancel ✖",
    ]
    # A forged choice naming another rep's visit attaches nothing.
    forged = form_callback(offer, f"a:{others_visit.id}")
    replies = await rep.tap_data(offer.message_id, forged, forged=True)
    assert "That visit was not found" in replies[-1].text
    assert await attachments(runtime, others_visit.id or 0) == []

    replies = await rep.tap("📎 Attach to the visit at 上海新天地零售")
    assert "📎 Photo attached to the visit at 上海新天地零售 (09:00)" in replies[-1].text
    # The visit is open: what comes next is at hand, not up the chat on the check-in card.
    assert replies[-1].button_texts() == ["🚪 Check out"]
    visit = next(v for v in await visits_of(runtime, 7331) if v.is_open)
    (photo,) = await attachments(runtime, visit.id or 0)
    # Stamped as a photo sent inside /visit: from stored data, on these very bytes.
    assert photo.stamped is not None and photo.original_sha256 == photo_stamp.digest(original)
    assert photo.stamp_text is not None and "上海新天地零售" in photo.stamp_text
    assert "visit.photo_added" in [e.action for e in await audit_actions(runtime, "visit")]

    # Checking out keeps the photo attached while checked in: the photo step counts it.
    await _clock(local_bot).advance(timedelta(minutes=15))
    await rep.tap("🚪 Check out", message_id=replies[-1].message_id)
    await rep.send("Restocked.")
    await rep.tap("✅ Done")
    replies = await rep.tap("Save")
    assert "Visit saved" in replies[-1].text
    (kept,) = await attachments(runtime, visit.id or 0)
    assert kept.stamped == photo.stamped

    # A just-saved visit still takes a photo; the card reading stays one tap away.
    replies = await rep.send_photo(content=street_photo(640, 480))
    assert replies[-1].button_texts()[0] == "📎 Attach to the visit at 上海新天地零售 (09:00)"
    replies = await rep.tap("🪪 Read as a business card")
    assert any("card" in (m.text or "").lower() for m in replies)
    assert len(await attachments(runtime, visit.id or 0)) == 1


async def test_visit_view_shows_a_far_short_visit_as_flagged(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    manager = await join(local_bot, 7341, "Chen", Role.MANAGER, "north")
    rep = await join(local_bot, 7342, "Wang Wei", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP)
    await rep.send("/visit")
    await rep.send("上海新天地零售")
    await rep.tap("上海新天地零售")
    await rep.tap("In person")
    await rep.share_location(30.2880, 120.1601, accuracy=15.0)
    await _clock(local_bot).advance(timedelta(minutes=2))
    await rep.tap("Check out")
    await rep.send("Owner was out.")
    await rep.tap("Skip")
    await rep.tap("Save")
    (visit,) = await visits_of(runtime, 7342)
    assert visit.flagged and visit.short_visit

    await manager.send("/team")
    await manager.tap("Wang Wei")
    label = next(b for b in (await manager.last_reply()).button_texts() if "上海" in b)
    replies = await manager.tap(label)
    text = replies[-1].text or ""
    assert [m.kind for m in replies] == ["text"]  # no photos, nothing to send
    assert "⚠️ Far check-in: 1.2 km from the customer, beyond the team's 200 m" in text
    assert "⚠️ Short visit: 2 min on site, the team's minimum is 5 min" in text
    assert "📍 Check-in" not in text
