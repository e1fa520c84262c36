"""Report rules checked on the services: the section registry, one report a day, lateness,
who owes a report, withdrawn reminders, weeks with holidays, and how sections read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import Runtime
from core.clock import ManualClock
from core.db import transaction
from core.errors import UserFacingError
from core.i18n import load_catalogs
from core.settings import ReportSettings, TeamSettings
from models.common import Role
from models.outbox import OutboxMessage
from models.report import DailyReport
from models.user import User
from models.visit import VisitKind, VisitPurpose
from services import (
    customers,
    plans,
    report_reminders,
    report_sections,
    reports,
    visits,
    weekly_reports,
)
from services.customers import CustomerInput
from services.report_sections import Line, Registered, ReportScope, Section, money_param
from services.team_context import TeamContext
from services.team_context import resolve as team_context
from services.users import Actor
from services.visits import VisitDraft
from tests.helpers import team_id
from views import reports as report_views
from views.callbacks import StaleButton
from views.render import renderer
from views.reports import WRITE_DAILY, DayRef

TUESDAY = date(2026, 11, 24)
SHANGHAI_18 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai


async def _user(runtime: Runtime, tg: int, team: str | None, role: Role = Role.REP,
                *, active: bool = True, at: datetime | None = None) -> Actor:  # fmt: skip
    now = at or runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        team_ref = await team_id(runtime, team) if team else None
        user = User(telegram_id=tg, display_name=f"User {tg}", role=role, created_at=now,
                    updated_at=now, team_id=team_ref, active=active, language="en")  # fmt: skip
        session.add(user)
        await session.flush()
        return Actor.of(user)


def _north(runtime: Runtime) -> TeamSettings:
    return runtime.settings.team("north")


def _team(
    runtime: Runtime, member: Actor, now: datetime, rules: TeamSettings | None = None
) -> TeamContext:
    """The north team (of ``member``) at ``now``, with its rules from the config (or ``rules``)."""
    assert member.team_id is not None
    return TeamContext(member.team_id, "north", "North", rules or _north(runtime), now)


async def _submit(runtime: Runtime, actor: Actor, *, at: datetime, summary: str = "ok",
                  report_id: int | None = None, rules: TeamSettings | None = None,
                  problem: str | None = None) -> reports.SubmittedDaily:  # fmt: skip
    async with transaction(runtime.sessions) as session:
        content = reports.DailyContent(summary, problem, None)
        return await reports.submit_daily(
            session, actor=actor, day=TUESDAY, content=content,
            team=_team(runtime, actor, at, rules), report_id=report_id,
        )  # fmt: skip


async def test_sections_come_from_every_registered_area_in_order(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = await _user(runtime, 7001, "north")
    rules, now = _north(runtime), runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        planned = await customers.create_customer(
            session, actor=None, team_id=rep.team_id or 0, values=CustomerInput(name="Plan Co"),
            now=now, source="import",
        )  # fmt: skip
        await plans.plan_visits(
            session, actor=rep, day=TUESDAY, customer_ids=[planned.id or 0], purpose=None,
            today=TUESDAY, now=now,
        )  # fmt: skip

    async def approvals(session: AsyncSession, user: User, scope: ReportScope) -> Section:
        amount = money_param(Decimal("1250.50"), "CNY")
        lines = [Line("reports.plan_unplanned", {"count": 2}), Line("x.y", {"a": amount})]
        return Section("approvals", "reports.section_visits", lines)

    async def broken(session: AsyncSession, user: User, scope: ReportScope) -> Section:
        await session.exec(text("SELECT * FROM no_such_table"))  # type: ignore[call-overload]
        raise AssertionError("unreachable")

    async def weekly_only(session: AsyncSession, user: User, scope: ReportScope) -> None:
        return None

    registry = report_sections.CONTRIBUTORS
    with (
        registry.overriding(
            "approvals", Registered("approvals", 30, frozenset({"day"}), approvals)
        ),
        registry.overriding("broken", Registered("broken", 15, frozenset({"day"}), broken)),
        registry.overriding("quiet", Registered("quiet", 5, frozenset({"week"}), weekly_only)),
    ):
        async with transaction(runtime.sessions) as session:
            user = await session.get(User, rep.user_id)
            assert user is not None
            north = _team(runtime, rep, now)
            day = await report_sections.collect(session, user, reports.day_scope(north, TUESDAY))
            week = await report_sections.collect(
                session,
                user,
                reports.week_scope(north, weekly_reports.week_window(rules, TUESDAY).week),
            )
    # The broken area is left out (after a savepoint: the plans query after it still works).
    assert [s.area for s in day] == ["visits", "plans", "approvals"]
    assert [s.area for s in week] == ["visits", "plans"]  # "quiet" had nothing to say
    assert day[1].lines[0] == Line("reports.plan_done", {"done": 0, "planned": 1})
    restored = Section.from_json(day[2].to_json())
    assert restored == day[2]


async def test_plan_vs_actual_counts_done_missed_and_unplanned_visits(runtime: Runtime) -> None:
    rep = await _user(runtime, 7002, "north")
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        made = [
            await customers.create_customer(
                session, actor=None, team_id=rep.team_id or 0, values=CustomerInput(name=name),
                now=now, source="import",
            )
            for name in ("Done Co", "Missed Co", "Extra Co")
        ]  # fmt: skip
        await plans.plan_visits(
            session, actor=rep, day=TUESDAY, customer_ids=[made[0].id or 0, made[1].id or 0],
            purpose=None, today=TUESDAY, now=now,
        )  # fmt: skip
        for customer in (made[0], made[2]):
            draft = VisitDraft(kind=VisitKind.PHONE, purpose=VisitPurpose.REVISIT,
                               visited_at=now, customer_id=customer.id, notes="ok")  # fmt: skip
            team = await team_context(session, runtime.settings, rep.team_id or 0, now)
            await visits.log_visit(session, actor=rep, draft=draft, team=team)
        user = await session.get(User, rep.user_id)
        assert user is not None
        sections = await report_sections.collect(
            session, user, reports.day_scope(_team(runtime, rep, now), TUESDAY)
        )
    visits_section, plans_section = sections
    assert visits_section.lines[0] == Line("reports.visits_count", {"in_person": 0, "phone": 2})
    assert visits_section.lines[1].params["names"] == ["Done Co", "Extra Co"]
    assert plans_section.lines == [
        Line("reports.plan_done", {"done": 1, "planned": 2}),
        Line("reports.plan_missed", {"count": 1, "names": ["Missed Co"]}),
        Line("reports.plan_unplanned", {"count": 1}),
    ]


async def test_one_report_a_day_and_lateness_from_the_due_time(runtime: Runtime) -> None:
    rep = await _user(runtime, 7003, "north")
    other = await _user(runtime, 7004, "north")
    first = await _submit(runtime, rep, at=SHANGHAI_18)  # exactly at the due time: on time
    assert first.created and not first.report.late
    with pytest.raises(UserFacingError) as refused:
        await _submit(runtime, rep, at=SHANGHAI_18 + timedelta(minutes=5))
    assert refused.value.key == "reports.already_submitted"
    edited = await _submit(runtime, rep, at=SHANGHAI_18 + timedelta(hours=3), summary="better",
                           report_id=first.report.id)  # fmt: skip
    assert not edited.created and not edited.report.late  # lateness is fixed at submission
    late = await _submit(runtime, other, at=SHANGHAI_18 + timedelta(seconds=1))
    assert late.report.late
    # A team may set its own due time.
    relaxed = _north(runtime).model_copy(update={"reports": ReportSettings(due_at=time(20, 0))})
    third = await _user(runtime, 7005, "north")
    assert not (await _submit(runtime, third, at=SHANGHAI_18 + timedelta(hours=1),
                              rules=relaxed)).report.late  # fmt: skip
    # The database itself refuses a second row for the same rep and day.
    with pytest.raises(IntegrityError):
        async with transaction(runtime.sessions) as session:
            session.add(DailyReport(team_id=rep.team_id or 0, rep_id=rep.user_id, day=TUESDAY,
                                    summary="dup", submitted_at=SHANGHAI_18,
                                    updated_at=SHANGHAI_18))  # fmt: skip
            await session.flush()
    async with transaction(runtime.sessions) as session:
        rows = await session.exec(select(DailyReport).where(DailyReport.rep_id == rep.user_id))
        assert [r.summary for r in rows.all()] == ["better"]


async def test_which_days_may_be_reported(runtime: Runtime) -> None:
    rep = await _user(runtime, 7006, "north", at=datetime(2026, 11, 1, tzinfo=UTC))
    rules = _north(runtime)
    async with transaction(runtime.sessions) as session:
        user = await session.get(User, rep.user_id)
        assert user is not None

        async def refusal(day: date, now: datetime) -> str:
            with pytest.raises(UserFacingError) as error:
                await reports.check_daily_day(session, user, day, _team(runtime, rep, now))
            return error.value.key

        now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
        north = _team(runtime, rep, now)
        assert await refusal(date(2026, 11, 25), now) == "reports.day_in_future"
        assert await refusal(date(2026, 11, 22), now) == "reports.not_a_working_day"  # Sunday
        assert await refusal(date(2026, 11, 16), now) == "reports.too_old"  # 8 days ago
        assert await reports.check_daily_day(session, user, date(2026, 11, 17), north) is None
        days = await reports.report_days(session, rep, north)
        assert days == reports.ReportDays(TUESDAY, True, date(2026, 11, 23))
        # Monday's report, written late on Tuesday, may be changed until Tuesday ends.
        monday = await reports.submit_daily(
            session, actor=rep, day=date(2026, 11, 23), team=north,
            content=reports.DailyContent("late", None, None),
        )  # fmt: skip
        assert monday.report.late
        assert reports.editable_until(rules, monday.report) == TUESDAY
        wednesday = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
        assert await refusal(date(2026, 11, 23), wednesday) == "reports.closed"
        days = await reports.report_days(session, rep, north)
        assert days.missed is None


async def test_who_owes_a_report(runtime: Runtime) -> None:
    owing = await _user(runtime, 7010, "north")
    await _user(runtime, 7011, "north", Role.MANAGER)
    await _user(runtime, 7012, "north", active=False)
    await _user(runtime, 7013, "south")
    await _user(runtime, 7014, "north", at=SHANGHAI_18 + timedelta(minutes=1))  # after the due
    reported = await _user(runtime, 7015, "north")
    await _submit(runtime, reported, at=SHANGHAI_18 - timedelta(hours=1))
    north = _team(runtime, owing, SHANGHAI_18)
    async with transaction(runtime.sessions) as session:
        owed = await report_reminders.reps_without_report(session, north, TUESDAY)
        assert [u.id for u in owed] == [owing.user_id]
        assert await report_reminders.reps_without_report(session, north, date(2026, 11, 28)) == []
        assert await report_reminders.reps_without_report(session, north, date(2026, 12, 25)) == []
        status = await reports.day_status(session, north, TUESDAY)
        states = {entry.rep.telegram_id: str(entry.state) for entry in status.reps}
        assert states == {7010: "pending", 7015: "submitted"}
        later = _team(runtime, owing, SHANGHAI_18 + timedelta(seconds=1))
        status = await reports.day_status(session, later, TUESDAY)
        assert {e.rep.telegram_id: str(e.state) for e in status.reps}[7010] == "missing"


async def test_a_waiting_reminder_is_withdrawn_when_the_report_arrives(runtime: Runtime) -> None:
    rep = await _user(runtime, 7020, "north")
    other = await _user(runtime, 7021, "north")
    render, north = renderer(load_catalogs()), _team(runtime, rep, SHANGHAI_18)
    async with transaction(runtime.sessions) as session:
        remind = report_reminders.send_reminders
        queued = await remind(session, team=north, day=TUESDAY, step=1, render=render)
        again = await remind(session, team=north, day=TUESDAY, step=1, render=render)
    assert (queued, again) == (2, 0)  # once per (rep, day, step)
    await _submit(runtime, rep, at=SHANGHAI_18 + timedelta(minutes=1))
    async with transaction(runtime.sessions) as session:
        rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        status = {row.recipient_id: str(row.status) for row in rows.all()}
    assert status == {rep.user_id: "cancelled", other.user_id: "pending"}


async def test_weeks_end_on_their_last_working_day(runtime: Runtime) -> None:
    rules = _north(runtime)
    window = weekly_reports.week_window(rules, TUESDAY)
    assert window.last_working_day == date(2026, 11, 27)
    assert window.next_days == [date(2026, 11, 30) + timedelta(days=n) for n in range(5)]
    christmas = weekly_reports.week_window(rules, date(2026, 12, 22))
    assert christmas.last_working_day == date(2026, 12, 24)  # Friday 25 is a holiday
    rep = await _user(runtime, 7030, "north")
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    async with transaction(runtime.sessions) as session:
        thursday = _team(runtime, rep, datetime(2026, 12, 24, 8, 0, tzinfo=UTC))
        draft = await weekly_reports.draft_weekly(session, actor=rep, team=thursday)
        assert draft.window.last_working_day == date(2026, 12, 24) and not draft.late
        wednesday = _team(runtime, rep, datetime(2026, 12, 23, 8, 0, tzinfo=UTC))
        with pytest.raises(UserFacingError) as refused:
            await weekly_reports.draft_weekly(session, actor=rep, team=wednesday)
        assert refused.value.key == "reports.weekly_not_yet"
        assert refused.value.params == {"day": date(2026, 12, 24)}
        with pytest.raises(UserFacingError) as refused:
            await weekly_reports.submit_weekly(
                session, actor=rep, team=thursday,
                content=weekly_reports.WeeklyContent("s", None, [(1, date(2026, 12, 25))]),
            )  # fmt: skip
        assert refused.value.key == "reports.key_visit_day_invalid"


def test_section_parameters_read_in_the_readers_language() -> None:
    texts = load_catalogs()
    assert report_views.param_text("en", {"day": "2026-11-24"}) == "Tue 24 Nov"
    assert report_views.param_text("zh", {"day": "2026-11-24"}) == "11月24日 周二"
    assert report_views.param_text("en", money_param(Decimal("1250.5"), "CNY")) == "CN¥1,250.50"
    assert report_views.param_text("zh", ["A&B", "C"]) == "A&amp;B、C"
    assert report_views.param_text("en", ["A", "B"]) == "A, B"
    assert report_views.param_text("en", "<b>") == "&lt;b&gt;"
    line = Line("reports.visits_customers", {"count": 2, "names": ["甲", "乙"]})
    section = Section("visits", "reports.section_visits", [line])
    assert report_views.section_lines(texts, "zh", [section]) == [
        "<b>🤝 拜访</b>", "• 客户（2）：甲、乙"
    ]  # fmt: skip
    reminder = report_reminders.DailyReminder(TUESDAY, 2)
    text, buttons = renderer(texts)("reports.reminder", "en", reminder)
    assert "still missing" in text and buttons == [
        [{"text": "📝 Write my report", "data": WRITE_DAILY.pack(DayRef(20261124))}]
    ]
    assert WRITE_DAILY.unpack(buttons[0][0]["data"]) == DayRef(20261124)
    assert report_views.from_compact("20261124") == TUESDAY
    assert report_views.from_compact("20261399") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.integers(min_value=1, max_value=60))
def test_free_text_is_trimmed_bounded_and_escaped(raw: str, limit: int) -> None:
    try:
        kept = reports.check_text(raw, limit, required=False)
    except UserFacingError as error:
        assert error.key == "reports.text_too_long" and len(raw.strip()) > limit
    else:
        assert kept == (raw.strip() or None)
    assert len(report_views.shorten(raw, limit)) <= limit
    for lang in ("en", "zh"):
        shown = report_views.param_text(lang, [raw, raw]) + report_views.param_text(lang, raw)
        assert "<" not in shown and ">" not in shown


def test_every_report_button_round_trips_and_refuses_a_bad_day() -> None:
    big = 10**15
    buttons = [
        (report_views.WRITE_DAILY, DayRef(20261124)),
        (report_views.WRITE_WEEKLY, DayRef(20261123)),
        (report_views.TEAM_DAY, report_views.TeamDay(big)),
        (report_views.OPEN_DAY, report_views.TeamDay(big, 20261124)),
        (report_views.TEAM_WEEK, report_views.TeamDay(big, 20261124)),
        (report_views.VIEW_DAILY, report_views.Ref(big)),
        (report_views.VIEW_WEEKLY, report_views.Ref(big)),
        (report_views.REPLY, report_views.Ref(big)),
        (report_views.PROBLEMS, report_views.Ref(big)),
    ]
    for codec, value in buttons:
        data = codec.pack(value)
        assert len(data.encode()) <= 64 and codec.unpack(data) == value
        # No other report codec takes this button for its own.
        for other, _ in buttons:
            if other is not codec:
                with pytest.raises(StaleButton):
                    other.unpack(data)
    assert report_views.day_of(20261124) == TUESDAY and report_views.day_of(None) is None
    with pytest.raises(StaleButton):
        report_views.day_of(20261399)
