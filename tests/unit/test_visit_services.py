"""Services behind /visit, /plan and /team: rules checked directly, without the chat."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import Runtime
from core.db import transaction
from core.errors import UserFacingError
from core.i18n import load_catalogs
from core.periods import local_today, month_period, week_period
from models.common import Role
from models.customer import Customer, Tier
from models.plan import PlannedVisit
from models.team import Team
from models.user import User
from models.visit import CheckinSource, Visit, VisitKind, VisitPurpose
from services import customers, plans, visits
from services.customers import CustomerExistsError, CustomerInput, name_key, phone_parts
from services.geo import distance_m
from services.team_context import TeamContext, context_of
from services.users import Actor
from services.visits import Checkin, VisitDraft
from tests.helpers import team_id
from views.plans import render_morning

SHOP = (31.230845, 121.559082)


async def _actor(runtime: Runtime, tg: int, team: str | None, role: Role = Role.REP) -> Actor:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        team_ref = await team_id(runtime, team) if team else None
        user = User(telegram_id=tg, display_name=f"User {tg}", role=role, created_at=now,
                    updated_at=now, team_id=team_ref)  # fmt: skip
        session.add(user)
        await session.flush()
        return Actor.of(user)


async def _customer(runtime: Runtime, team: str, name: str, **extra: object) -> Customer:
    async with transaction(runtime.sessions) as session:
        values = CustomerInput(name=name, **extra)  # type: ignore[arg-type]
        return await customers.create_customer(
            session, actor=None, team_id=await team_id(runtime, team), values=values,
            now=runtime.clock.now(), source="import",
        )  # fmt: skip


async def _team(
    session: AsyncSession, runtime: Runtime, now: datetime | None = None, key: str = "north"
) -> TeamContext:
    """The team's context at ``now`` (default: the clock's now), read in the open session."""
    team = (await session.exec(select(Team).where(Team.key == key))).one()
    return context_of(team, runtime.settings, now or runtime.clock.now())


def _draft(runtime: Runtime, customer: Customer, **extra: object) -> VisitDraft:
    values: dict[str, object] = {
        "kind": VisitKind.PHONE, "purpose": VisitPurpose.REVISIT,
        "visited_at": runtime.clock.now(), "customer_id": customer.id, "notes": "ok",
    }  # fmt: skip
    values.update(extra)
    return VisitDraft(**values)  # type: ignore[arg-type]


def test_haversine_distance() -> None:
    assert distance_m(0, 0, 0, 1) == pytest.approx(111_195, rel=1e-4)
    assert distance_m(31.2304, 121.4737, 39.9042, 116.4074) == pytest.approx(1_067_000, rel=0.01)
    assert distance_m(*SHOP, *SHOP) == 0


def test_names_and_phones_are_normalized() -> None:
    assert name_key("杭州 华丰建材（股份）") == name_key("杭州华丰建材(股份)")
    assert name_key("ＡＣＭＥ  Ltd.") == name_key("acme ltd")
    assert phone_parts("+86 137-0404-9619") == ("137 0404 9619", "13704049619")
    assert phone_parts("１３７０４０４９６１９") == ("137 0404 9619", "13704049619")
    assert phone_parts("0086 13704049619") == ("137 0404 9619", "13704049619")
    assert phone_parts("(021) 6234-5678")[1] == "02162345678"  # type: ignore[index]
    assert phone_parts("找前台") is None and phone_parts("12") is None
    assert phone_parts("1" * 20) is None


def test_periods_follow_the_team_timezone_and_iso_weeks() -> None:
    week = week_period(date(2026, 11, 24), "Asia/Shanghai")
    assert (week.first, week.last) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.start == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    # Berlin leaves summer time on 25 Oct 2026: that week has 169 hours.
    berlin = week_period(date(2026, 10, 21), "Europe/Berlin")
    assert berlin.end - berlin.start == timedelta(hours=169)
    month = month_period(date(2026, 12, 31), "Asia/Shanghai")
    assert (month.first, month.last) == (date(2026, 12, 1), date(2026, 12, 31))
    late = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 01:00 on the 25th in Shanghai
    assert local_today(late, "Asia/Shanghai") == date(2026, 11, 25)


async def test_visit_flagging_and_storing_a_first_location(runtime: Runtime) -> None:
    rep = await _actor(runtime, 1, "north")
    located = await _customer(runtime, "north", "Located", latitude=SHOP[0], longitude=SHOP[1])
    bare = await _customer(runtime, "north", "Bare")
    far = Checkin(SHOP[0] + 0.01, SHOP[1], 30.0, CheckinSource.CURRENT)
    near = Checkin(SHOP[0] + 0.001, SHOP[1], 30.0, CheckinSource.CURRENT)
    async with transaction(runtime.sessions) as session:
        team = await _team(session, runtime)
        flagged = await visits.log_visit(
            session, actor=rep, team=team,
            draft=_draft(runtime, located, kind=VisitKind.IN_PERSON, checkin=far),
        )  # fmt: skip
        fine = await visits.log_visit(
            session, actor=rep, team=team,
            draft=_draft(runtime, located, kind=VisitKind.IN_PERSON, checkin=near),
        )  # fmt: skip
        phoned = await visits.log_visit(
            session, actor=rep, team=team,
            draft=_draft(runtime, located, kind=VisitKind.PHONE, checkin=far),
        )  # fmt: skip
        stored = await visits.log_visit(
            session, actor=rep, team=team,
            draft=_draft(runtime, bare, kind=VisitKind.IN_PERSON, checkin=near,
                         store_location=True),
        )  # fmt: skip
    assert flagged.visit.flagged and flagged.visit.distance_m == pytest.approx(1112, abs=1)
    assert not fine.visit.flagged and fine.visit.distance_m == pytest.approx(111, abs=1)
    assert not phoned.visit.flagged  # only in-person visits are held to the radius
    assert stored.location_stored and stored.customer.latitude == near.latitude
    assert stored.progress.in_person == 3 and stored.progress.phone == 1


async def test_visit_rules_time_team_and_edit_window(runtime: Runtime) -> None:
    rep = await _actor(runtime, 1, "north")
    other = await _actor(runtime, 2, "north")
    director = await _actor(runtime, 3, None, Role.DIRECTOR)
    mine = await _customer(runtime, "north", "Mine")
    theirs = await _customer(runtime, "south", "Theirs")
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        team = await _team(session, runtime, now)
        with pytest.raises(UserFacingError, match=r"customers\.not_found"):
            await visits.log_visit(session, actor=rep, team=team,
                                   draft=_draft(runtime, theirs))  # fmt: skip
        with pytest.raises(UserFacingError, match="time_in_future"):
            draft = _draft(runtime, mine, visited_at=now + timedelta(hours=1))
            await visits.log_visit(session, actor=rep, team=team, draft=draft)
        with pytest.raises(UserFacingError, match="time_not_today"):
            draft = _draft(runtime, mine, visited_at=now - timedelta(days=2))
            await visits.log_visit(session, actor=rep, team=team, draft=draft)
        with pytest.raises(UserFacingError, match="role_not_allowed"):
            await visits.log_visit(session, actor=director, team=team,
                                   draft=_draft(runtime, mine))  # fmt: skip
        with pytest.raises(UserFacingError, match="notes_too_long"):
            draft = _draft(runtime, mine, notes="x" * 2001)
            await visits.log_visit(session, actor=rep, team=team, draft=draft)
        logged = await visits.log_visit(
            session,
            actor=rep,
            team=team,
            draft=_draft(runtime, mine),
        )
    visit_id = logged.visit.id or 0
    async with transaction(runtime.sessions) as session:
        team = await _team(session, runtime, now)
        with pytest.raises(UserFacingError, match=r"visits\.not_found"):
            await visits.delete_visit(session, actor=other, visit_id=visit_id, team=team)
        later = now + timedelta(hours=24, minutes=1)
        with pytest.raises(UserFacingError, match="edit_window_over"):
            team = await _team(session, runtime, later)
            await visits.update_visit(session, actor=rep, visit_id=visit_id, team=team,
                                      draft=_draft(runtime, mine))  # fmt: skip
        with pytest.raises(UserFacingError, match="edit_window_over"):
            await visits.delete_visit(session, actor=rep, visit_id=visit_id, team=team)


async def test_duplicates_are_found_within_a_team_only(runtime: Runtime) -> None:
    await _customer(runtime, "north", "Kilo Co", phone="13800000000")
    async with transaction(runtime.sessions) as session:
        north, south = await team_id(runtime, "north"), await team_id(runtime, "south")
        found = await customers.find_duplicate(session, north, name="KILO  co.")
        assert found is not None and found[1] == "name"
        found = await customers.find_duplicate(session, north, phone="+86 138 0000 0000")
        assert found is not None and found[1] == "phone"
        assert await customers.find_duplicate(session, south, name="Kilo Co") is None
        with pytest.raises(CustomerExistsError):
            await customers.create_customer(
                session, actor=None, team_id=north, values=CustomerInput(name="kilo co"),
                now=runtime.clock.now(),
            )  # fmt: skip
        # The same name in another team is another customer.
        await customers.create_customer(
            session, actor=None, team_id=south, values=CustomerInput(name="Kilo Co"),
            now=runtime.clock.now(),
        )  # fmt: skip


async def test_due_list_morning_list_and_its_rendering(runtime: Runtime) -> None:
    rules = runtime.settings.team("north")
    rep = await _actor(runtime, 1, "north")
    a = await _customer(runtime, "north", "Alpha", tier=Tier.A, owner_id=rep.user_id)
    b = await _customer(runtime, "north", "Bravo", tier=Tier.B, owner_id=rep.user_id)
    await _customer(runtime, "north", "Nobody's", tier=Tier.A)
    clock = runtime.clock
    await clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    now = clock.now()
    today = local_today(now, rules.timezone)
    async with transaction(runtime.sessions) as session:
        team = await _team(session, runtime, now)
        due = await plans.due_customers(session, rep, today, rules)
        assert [(d.customer.name, d.overdue_days) for d in due] == [("Alpha", 16), ("Bravo", 2)]
        await plans.plan_visits(session, actor=rep, day=today, customer_ids=[a.id or 0],
                                purpose=VisitPurpose.DEMO, today=today, now=now)  # fmt: skip
        # Bravo had a follow-up two days ago that nobody did.
        session.add(PlannedVisit(team_id=b.team_id, rep_id=rep.user_id, customer_id=b.id or 0,
                                 planned_on=today - timedelta(days=2), source="follow_up",
                                 created_at=now))  # fmt: skip
        morning = await plans.morning_list(session, rep.user_id, team)
    assert [c.name for _, c in morning.planned] == ["Alpha"]
    assert [c.name for _, c in morning.overdue_follow_ups] == ["Bravo"]
    catalogs = load_catalogs()
    text, buttons = render_morning(catalogs, "en", morning)
    assert "Good morning" in text and "• Alpha · Demo / quote" in text and "⏰ Bravo" in text
    assert [b.text for row in buttons for b in row] == ["📝 Log Alpha", "📝 Log Bravo"]
    assert all(len((b.data or "").encode()) <= 64 for row in buttons for b in row)
    zh_text, _ = render_morning(catalogs, "zh", morning)
    assert "早上好" in zh_text and "产品演示/报价" in zh_text

    async with transaction(runtime.sessions) as session:
        team = await _team(session, runtime, now)
        draft = VisitDraft(kind=VisitKind.PHONE, purpose=VisitPurpose.DEMO, visited_at=now,
                           customer_id=a.id, notes="done")  # fmt: skip
        await visits.log_visit(session, actor=rep, draft=draft, team=team)
        morning = await plans.morning_list(session, rep.user_id, team)
        due = await plans.due_customers(session, rep, today, rules)
        plan_rows = (await session.exec(select(PlannedVisit))).all()
    assert morning.planned == [] and [d.customer.name for d in due] == ["Bravo"]
    assert sum(1 for p in plan_rows if p.done_visit_id is not None) == 1
    empty_text, empty_buttons = render_morning(catalogs, "en", plans.MorningList(today, [], []))
    assert "Nothing is planned" in empty_text and empty_buttons == []


async def test_week_overview_counts_by_local_day(runtime: Runtime) -> None:
    rules = runtime.settings.team("north")
    rep = await _actor(runtime, 1, "north")
    c = await _customer(runtime, "north", "Mike Co")
    clock = runtime.clock
    async with transaction(runtime.sessions) as session:
        # 09:00 Tuesday, then 23:30 Tuesday local (15:30 UTC): both on Tuesday.
        await visits.log_visit(session, actor=rep, team=await _team(session, runtime),
                               draft=_draft(runtime, c))  # fmt: skip
    await clock.advance(timedelta(hours=14, minutes=30))  # type: ignore[attr-defined]
    async with transaction(runtime.sessions) as session:
        await visits.log_visit(session, actor=rep, team=await _team(session, runtime),
                               draft=_draft(runtime, c, kind=VisitKind.IN_PERSON))  # fmt: skip
    await clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]  (00:30 Wednesday)
    async with transaction(runtime.sessions) as session:
        await visits.log_visit(session, actor=rep, team=await _team(session, runtime),
                               draft=_draft(runtime, c))  # fmt: skip
        days = await plans.week_overview(session, rep.user_id, date(2026, 11, 25), rules)
        figures = await visits.team_figures(session, await _team(session, runtime))
    by_day = {d.day.isoformat(): (d.in_person, d.phone) for d in days}
    assert by_day["2026-11-24"] == (1, 1) and by_day["2026-11-25"] == (0, 1)
    assert sum(d.phone + d.in_person for d in days) == 3
    assert [(f.in_person, f.phone) for f in figures] == [(1, 2)]


def test_distances_read_naturally_near_and_far() -> None:
    from views.visits import format_distance

    assert format_distance(20, "zh") == "20 米"
    assert format_distance(1106.5, "en") == "1.1 km"
    # Another city (the route's second stop in Beijing from Shanghai): whole kilometres.
    assert format_distance(1_060_100, "zh") == "1,060 公里"
    assert format_distance(1_060_100, "en") == "1,060 km"


async def test_the_customer_shortlist_offers_the_plan_then_the_last_visited_then_own(
    runtime: Runtime,
) -> None:
    """/visit's buttons come from one statement: today's plan not yet done, by name; then the
    rep's last visited customers, newest visit first; then their newest own customers; only
    their team's, six at most, and each customer once."""
    rep = await _actor(runtime, 1, "north")
    director = await _actor(runtime, 2, None, Role.DIRECTOR)
    names = ["Old", "Recent", "Planned Z", "Planned A", "Done", "Own 1", "Own 2", "Own 3"]
    made = {n: await _customer(runtime, "north", n, owner_id=rep.user_id) for n in names}
    elsewhere = await _customer(runtime, "south", "South Co", owner_id=rep.user_id)
    now = runtime.clock.now()
    today = local_today(now, "Asia/Shanghai")

    def visit(customer: Customer, days_ago: int) -> Visit:
        at = now - timedelta(days=days_ago)
        return Visit(team_id=customer.team_id, rep_id=rep.user_id, customer_id=customer.id or 0,
                     kind=VisitKind.PHONE, purpose=VisitPurpose.REVISIT, visited_at=at,
                     created_at=at, updated_at=at)  # fmt: skip

    async with transaction(runtime.sessions) as session:
        # Created one minute apart: "Own 3" is the newest own customer.
        for minutes, name in enumerate(names):
            made[name].created_at = now + timedelta(minutes=minutes)
            session.add(made[name])
        visited = {n: visit(made[n], days) for n, days in (("Old", 9), ("Recent", 1), ("Done", 3))}
        # A visit to another team's customer (before a move) never brings it back.
        session.add_all([*visited.values(), visit(elsewhere, 0)])
        await session.flush()
        for name in ("Planned Z", "Planned A", "Done"):
            done = visited["Done"].id if name == "Done" else None
            session.add(PlannedVisit(team_id=made[name].team_id, rep_id=rep.user_id,
                                     customer_id=made[name].id or 0, planned_on=today,
                                     created_at=now, done_visit_id=done))  # fmt: skip
    async with transaction(runtime.sessions) as session:
        offered = await customers.shortlist(session, rep, planned_on=today)
        tomorrow = await customers.shortlist(session, rep, planned_on=today + timedelta(days=1))
        two = await customers.shortlist(session, rep, limit=2)
        recent = await customers.recent_customer_names(session, rep)
        for_director = await customers.shortlist(session, director)

    def named(pairs: list[tuple[int, str]]) -> list[str]:
        return [name for _, name in pairs]

    assert named(offered.planned) == ["Planned A", "Planned Z"]
    assert named(offered.recent) == ["Recent", "Done", "Old", "Own 3", "Own 2", "Own 1"]
    assert tomorrow.planned == [] and tomorrow.recent == offered.recent == recent
    assert named(two.recent) == ["Recent", "Done"] and two.planned == []
    # A director sees every team, but owns no customer and logged no visit.
    assert for_director == customers.Shortlist(planned=[], recent=[])
