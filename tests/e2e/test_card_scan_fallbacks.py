"""When a card cannot be read — no OCR on this machine, or a reading that runs out of time — the
rep is told why, in their language, and gets the manual customer form; nothing is saved. And the
demo's sample card scans into a customer."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import handlers.card_photos
from models.common import Role
from sandbox.demo import run_demo
from sandbox.demo_terminal import SAMPLE_CARD
from sandbox.harness import LocalBot
from services.card_reader import CardReader
from tests.customer_helpers import count_customers
from tests.helpers import join


@pytest.fixture
def without_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine as it is without the ``ocr`` extra: importing the reader's package fails."""
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)


async def test_without_ocr_the_card_gets_the_manual_form_in_both_languages(
    local_bot: LocalBot, without_ocr: None
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4951, "Wang", Role.REP, "north")
    replies = await rep.send_photo(content=SAMPLE_CARD.read_bytes())
    assert "Card reading is not installed on this bot" in replies[-2].text
    assert "What is the customer's name?" in replies[-1].text
    replies = await rep.send("Lakeside Hardware")
    assert "contact" in replies[-1].text.lower()

    zh = await join(local_bot, 4952, "王芳", Role.REP, "north", lang="zh")
    await zh.send("/customers")
    await zh.tap("新增客户")
    replies = await zh.send_photo(content=SAMPLE_CARD.read_bytes())
    assert "本机器人未安装名片识别功能" in replies[-2].text
    assert "客户名称是什么" in replies[-1].text
    assert await count_customers(runtime) == 0


@pytest.fixture
def busy_reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A card reader whose one worker is busy with another card until the event is set: the
    next card waits in the queue past its time limit."""
    reader = CardReader(time_limit=0.3)
    release = threading.Event()
    reader._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="card-ocr-test")
    reader._executor.submit(release.wait, 30)
    monkeypatch.setattr(handlers.card_photos, "READER", reader)
    yield release
    release.set()
    reader.close()


async def test_a_card_not_read_in_time_gets_the_manual_form_in_both_languages(
    local_bot: LocalBot, busy_reader: threading.Event
) -> None:
    runtime = local_bot.runtime
    rep = await join(local_bot, 4953, "Li", Role.REP, "north")
    assert "Which customer" in (await rep.send("/visit"))[-1].text
    replies = await rep.send_photo(content=SAMPLE_CARD.read_bytes())
    assert "Reading the card took too long" in replies[-2].text
    assert "What is the customer's name?" in replies[-1].text

    zh = await join(local_bot, 4954, "李", Role.REP, "north", lang="zh")
    replies = await zh.send_photo(content=SAMPLE_CARD.read_bytes())
    assert "名片识别超时" in replies[-2].text and "客户名称是什么" in replies[-1].text
    assert await count_customers(runtime) == 0


async def test_the_demo_scans_its_sample_card_into_a_customer(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    lines: list[str] = []
    await run_demo([":card", "6"], data_dir=tmp_path, out=lines.append)
    out = "\n".join(lines)
    assert "用这张名片新增客户吗" in out
    for shown in ("上海嘉禾商贸有限公司", "王芳", "138 1762 5093", "上海市闵行区虹梅路2000号",
                  "021-52387716", "wangfang@jiahe-trade.cn"):  # fmt: skip
        assert shown in out
    assert "已新增客户 上海嘉禾商贸有限公司" in out and "已保存名片照片" in out
