"""A machine without a Chinese font is told so once, in the start-up log, naming the package to
install — not at the first summary chart, days later."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

from models.common import Role
from sandbox.harness import LocalBot
from tests.helpers import join
from views import summary_chart


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Neither the shipped font package nor a system CJK font is installed."""
    monkeypatch.setitem(sys.modules, "pylopdf_fonts_zh_cn", None)
    monkeypatch.setattr(summary_chart, "SYSTEM_CJK_FONTS", ())
    summary_chart.cjk_font.cache_clear()
    yield
    summary_chart.cjk_font.cache_clear()  # the next test finds the real font again


def _font_warnings(records: list[logging.LogRecord]) -> list[str]:
    return [
        r.getMessage() for r in records
        if r.levelno == logging.WARNING and "no font with Chinese glyphs" in r.getMessage()
    ]  # fmt: skip


async def test_start_up_warns_once_when_no_cjk_font_is_installed(
    no_cjk_font: None, caplog: pytest.LogCaptureFixture, local_bot: LocalBot
) -> None:
    warned = _font_warnings(caplog.get_records("setup"))
    assert len(warned) == 1
    assert summary_chart.FONT_PACKAGE in warned[0] and "fonts-noto-cjk" in warned[0]
    # Found once per process: the bot's later work does not repeat it.
    rep = await join(local_bot, 4971, "Wang", Role.REP, "north")
    await rep.send("/help")
    assert summary_chart.cjk_font() is None
    assert _font_warnings(caplog.get_records("call")) == []


async def test_start_up_is_quiet_with_the_shipped_font(
    caplog: pytest.LogCaptureFixture, local_bot: LocalBot
) -> None:
    summary_chart.cjk_font.cache_clear()
    assert summary_chart.cjk_font() == "Noto Sans SC"
    assert _font_warnings(caplog.get_records("setup")) == []
    assert _font_warnings(caplog.get_records("call")) == []
