"""The meeting summary carries names and notes that reps control: they are drawn and written
exactly as typed (never as math, never as formulas); a part that fails never stops the others;
and the files are made off the event loop, so nobody else waits for them."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlmodel import select

from core.db import transaction
from models.common import Role
from models.job_run import JobRun, RunStatus
from models.visit import Visit, VisitKind, VisitPurpose
from sandbox.harness import Chat, LocalBot
from tests.customer_helpers import add_customer
from tests.e2e.test_summary import NORTH_DUE, PNG_MAGIC, summary_parts
from tests.helpers import join, team_id, user_by_tg
from views import summary as summary_views

NAMES = {
    7101: "Ann $\\x$",
    7102: '=WEBSERVICE("http://x")',
    7103: "@SUM(A1)",
    7104: "+1",
    7105: "-2 $$ $\\frac{",
}
NOTES = ['=WEBSERVICE("http://x")', "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture
async def team(local_bot: LocalBot) -> dict[str, Chat]:
    """A north team whose reps are named like formulas and mathtext, with a visit per note."""
    runtime = local_bot.runtime
    people = {
        "manager": await join(local_bot, 7001, "Nora", Role.MANAGER, "north"),
        "director": await join(local_bot, 7003, "Dora", Role.DIRECTOR, None),
    }
    for telegram_id, name in NAMES.items():
        people[name] = await join(local_bot, telegram_id, name, Role.REP, "north")
    tid = await team_id(runtime, "north")
    customer = await add_customer(runtime, "north", "Delta Foods")
    async with transaction(runtime.sessions) as session:
        for telegram_id in NAMES:
            rep = await user_by_tg(runtime, telegram_id)
            assert rep is not None and rep.id is not None
            for hour, note in enumerate(NOTES):
                when = datetime(2026, 11, 23, 2 + hour, 0, tzinfo=UTC)
                session.add(Visit(
                    team_id=tid, rep_id=rep.id, customer_id=customer.id or 0,
                    kind=VisitKind.IN_PERSON, purpose=VisitPurpose.REVISIT, visited_at=when,
                    notes=note, created_at=when, updated_at=when,
                ))  # fmt: skip
    return people


async def downloaded(local_bot: LocalBot, message: Any) -> bytes:
    assert message.file
    return await local_bot.client.file_bytes(message.file["file_id"])


def assert_typed_text_only(xlsx: bytes) -> None:
    """Names and notes are string cells holding what was typed; no cell is a formula."""
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    summary = book.worksheets[0]
    names = {c.value: c for c in summary["A"][1:]}
    for name in NAMES.values():
        assert names[name].data_type == "s"
    assert names['=WEBSERVICE("http://x")'].quotePrefix
    visits = book["Visits"]
    header = [c.value for c in visits[1]]
    notes = [row[header.index("What happened")] for row in visits.iter_rows(min_row=2)]
    assert len(notes) == len(NAMES) * len(NOTES)
    # XML reads a bare carriage return back as a line feed; the point is that it stays text.
    typed = {note.replace("\r", "\n") for note in NOTES}
    assert {c.value for c in notes} == typed and {c.data_type for c in notes} == {"s"}
    assert all(c.quotePrefix for c in notes)
    numbers = [row[1] for row in summary.iter_rows(min_row=2)]
    assert {c.data_type for c in numbers} == {"n"} and numbers[-1].value == 30


async def test_names_and_notes_like_math_or_formulas_are_shown_as_typed(
    local_bot: LocalBot, team: dict[str, Chat]
) -> None:
    manager = team["manager"]
    replies = await manager.send("/summary")
    assert [m.kind for m in replies] == ["text", "photo", "document"]
    assert "Ann $\\x$" in (replies[0].text or "")
    assert (await downloaded(local_bot, replies[1])).startswith(PNG_MAGIC)
    assert_typed_text_only(await downloaded(local_bot, replies[2]))

    # The Saturday job sends it too, and the directors' roll-up goes out with it.
    await local_bot.runtime.clock.set(NORTH_DUE + timedelta(minutes=1))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    assert await summary_parts(manager) == 6
    director = await team["director"].bot_messages()
    assert sum("Company roll-up" in (m.text or "") for m in director) == 1
    async with transaction(local_bot.runtime.sessions) as session:
        runs = (await session.exec(select(JobRun).where(JobRun.job == "weekly_summary"))).all()
    assert [run.status for run in runs] == [RunStatus.DONE]


async def test_a_failing_chart_or_workbook_leaves_the_rest_of_the_summary(
    local_bot: LocalBot, team: dict[str, Chat], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    manager = team["manager"]

    def broken(*args: object) -> bytes:
        raise ValueError("the renderer choked")

    monkeypatch.setattr(summary_views, "chart_png", broken)
    with caplog.at_level(logging.ERROR, logger="views.summary"):
        replies = await manager.send("/summary")
    assert [m.kind for m in replies] == ["text", "document"]
    # The way back is on the last part.
    assert replies[-1].button_texts() == ["◀ last week (16 – 22 Nov)"]
    assert_typed_text_only(await downloaded(local_bot, replies[1]))
    failure = next(r for r in caplog.records if r.exc_info)
    assert "chart" in failure.getMessage() and "north" in failure.getMessage()
    assert "2026-W48" in failure.getMessage()

    # The Saturday job: message and workbook to the manager, the run recorded as done.
    await local_bot.runtime.clock.set(NORTH_DUE + timedelta(minutes=1))  # type: ignore[attr-defined]
    await local_bot.drain_outbox()
    kinds = [m.kind for m in await manager.bot_messages()][-2:]
    assert kinds == ["text", "document"] and await summary_parts(manager) == 4
    async with transaction(local_bot.runtime.sessions) as session:
        runs = (await session.exec(select(JobRun).where(JobRun.job == "weekly_summary"))).all()
    assert [run.status for run in runs] == [RunStatus.DONE]

    monkeypatch.undo()
    monkeypatch.setattr(summary_views, "workbook_xlsx", broken)
    replies = await manager.send("/summary 2026-W47")
    assert [m.kind for m in replies] == ["text", "photo"]
    assert replies[-1].button_texts() == ["◀ 9 – 15 Nov (week 46)"]


async def test_others_are_answered_while_the_chart_is_drawn(
    local_bot: LocalBot, team: dict[str, Chat], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawing, done_waiting = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    real_chart = summary_views.chart_png

    def slow_chart(*args: Any) -> bytes:
        """Holds the chart until another person was answered (at most 10 s, then fails)."""
        threads.append(threading.current_thread())
        drawing.set()
        if not done_waiting.wait(timeout=10):
            raise TimeoutError("nobody else was answered while the chart was drawn")
        return real_chart(*args)

    monkeypatch.setattr(summary_views, "chart_png", slow_chart)
    summary = asyncio.ensure_future(team["manager"].send("/summary"))
    assert await asyncio.to_thread(drawing.wait, 10)
    help_replies = await team["Ann $\\x$"].send("/help")
    assert help_replies and "/visit" in (help_replies[0].text or "")
    done_waiting.set()
    replies = await summary
    assert [m.kind for m in replies] == ["text", "photo", "document"]
    assert threads and threads[0] is not threading.main_thread()
