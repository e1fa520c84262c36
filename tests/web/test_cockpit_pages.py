"""The cockpit's other pages in headless Chromium: a manager taps a rep for their visits of the
week (note, check-in distance and flags, time on site), the Collections page shows open
balances and aging per rep as /collections counts them, and a director's Company page has one
row per team; a manager of another team gets "not found" from page and API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from playwright.async_api import Page, expect

from core.db import transaction
from models.common import Role
from models.visit import (
    AttachmentKind,
    CheckinSource,
    Visit,
    VisitAttachment,
    VisitKind,
    VisitPurpose,
)
from sandbox.harness import LocalBot
from services.receivable_aging import Scope, aging
from tests.collection_helpers import add_customer_in, add_receivable
from tests.helpers import join, team_id, user_by_tg
from tests.web.conftest import DARK_THEME, Cockpit, needs_chromium, screenshot
from tests.web.test_cockpit import join_language

pytestmark = needs_chromium

LI_NA, ZHOU_KAI = 6001, 6002
NORTH_MANAGER, SOUTH_MANAGER, DIRECTOR = 6100, 6101, 6103
FRIDAY_EVENING = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)


def _visit(team: int, rep: int, customer: int, when: datetime, **fields: object) -> Visit:
    values: dict[str, object] = {
        "team_id": team, "rep_id": rep, "customer_id": customer, "kind": VisitKind.IN_PERSON,
        "purpose": VisitPurpose.REVISIT, "visited_at": when, "created_at": when,
        "updated_at": when, "checkin_source": CheckinSource.CURRENT,
    }  # fmt: skip
    values.update(fields)
    return Visit(**values)  # type: ignore[arg-type]


async def _seed_week(bot: LocalBot) -> int:
    """Li Na's week as check-ins and check-outs store it; returns her user id."""
    runtime = bot.runtime
    north = await team_id(runtime, "north")
    rep = await user_by_tg(runtime, LI_NA)
    assert rep is not None and rep.id is not None
    drums = await add_customer_in(runtime, "north", "Huaxin Paints", LI_NA)
    depot = await add_customer_in(runtime, "north", "Yangpu Depot", LI_NA)
    tuesday = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    async with transaction(runtime.sessions) as session:
        far = _visit(
            north, rep.id, drums, tuesday, notes="Asked for samples of the new 20 L drum.",
            next_step="Bring two samples", distance_m=850.0, flagged=True,
            checked_out_at=tuesday + timedelta(minutes=6), short_visit=True,
        )  # fmt: skip
        near = _visit(
            north, rep.id, depot, tuesday + timedelta(days=2), notes="Order of 30 drums agreed.",
            distance_m=40.0, checked_out_at=tuesday + timedelta(days=2, minutes=45),
        )  # fmt: skip
        first = _visit(
            north, rep.id, depot, tuesday + timedelta(days=3), location_set_here=True,
            is_open=True, kind=VisitKind.IN_PERSON, notes="",
        )  # fmt: skip
        old = _visit(north, rep.id, drums, tuesday - timedelta(days=7), notes="last week")
        session.add_all([far, near, first, old])
        await session.flush()
        assert far.id is not None
        session.add(VisitAttachment(visit_id=far.id, kind=AttachmentKind.PHOTO,
                                    file_id="photo-1", created_at=tuesday))  # fmt: skip
    return rep.id


async def test_a_manager_taps_a_rep_for_their_visits_of_the_week(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await join(local_bot, LI_NA, "Li Na", Role.REP, "north")
    await join(local_bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    await join(local_bot, SOUTH_MANAGER, "Anna Weber", Role.MANAGER, "south")
    rep_id = await _seed_week(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]

    await cockpit.open(phone, NORTH_MANAGER)
    await phone.locator("#reps tbody tr.rep", has_text="Li Na").click()
    visits = phone.locator("#visits li")
    # This week's three visits, newest first; last week's is not among them.
    await expect(visits).to_have_count(3, timeout=10_000)
    await expect(phone.locator("#rep-title")).to_contain_text("Li Na · this week")
    await expect(visits.nth(0)).to_contain_text("location set here")
    await expect(visits.nth(0)).to_contain_text("on site")
    await expect(visits.nth(1)).to_contain_text("Order of 30 drums agreed.")
    await expect(visits.nth(1)).to_contain_text("40 m from the customer")
    await expect(visits.nth(1)).to_contain_text("45 min")
    far = visits.nth(2)
    await expect(far).to_contain_text("Asked for samples of the new 20 L drum.")
    await expect(far.locator(".flag")).to_have_text(
        ["⚠️ Checked in 850 m from the customer", "⚠️ Short visit"]
    )
    await expect(far).to_contain_text("6 min")
    await expect(far).to_contain_text("📎 1")
    await expect(phone.locator("#visits")).not_to_contain_text("last week")
    await screenshot(phone, "rep-en")
    await phone.locator("#rep-back").click()
    await expect(phone.locator("#reps")).to_be_visible()

    async with httpx.AsyncClient(base_url=cockpit.api) as client:
        south = {"Authorization": f"tma {cockpit.init_data(SOUTH_MANAGER)}"}
        other = await client.get(f"rep/{rep_id}", headers=south)
        assert other.status_code == 404 and "Li Na" not in other.text
        north = {"Authorization": f"tma {cockpit.init_data(NORTH_MANAGER)}"}
        month = await client.get(f"rep/{rep_id}", params={"period": "month"}, headers=north)
        assert month.status_code == 200 and len(month.json()["visits"]) == 4

    await join_language(local_bot, NORTH_MANAGER, "zh")
    await cockpit.open(phone, NORTH_MANAGER, lang="zh", theme=DARK_THEME)
    await phone.reload()
    await phone.locator("#reps tbody tr.rep", has_text="Li Na").click()
    await expect(visits).to_have_count(3, timeout=10_000)
    await expect(visits.nth(2).locator(".flag")).to_have_text(
        ["⚠️ 异常签到：距客户 850 米", "⚠️ 停留过短"]
    )
    await expect(visits.nth(1)).to_contain_text("距客户 40 米")
    await screenshot(phone, "rep-zh-dark")


async def _seed_receivables(bot: LocalBot) -> None:
    runtime = bot.runtime
    huaxin = await add_customer_in(runtime, "north", "Huaxin Coatings", LI_NA)
    depot = await add_customer_in(runtime, "north", "Yangpu Warehouse", ZHOU_KAI)
    friday = date(2026, 11, 27)
    plan = [
        ("INV-1", huaxin, LI_NA, "12000", friday + timedelta(days=10)),
        ("INV-2", huaxin, LI_NA, "8500.50", friday - timedelta(days=12)),
        ("INV-3", huaxin, LI_NA, "30000", friday - timedelta(days=95)),
        ("INV-4", depot, ZHOU_KAI, "4200", friday - timedelta(days=40)),
    ]
    for number, customer, owner, amount, due in plan:
        await add_receivable(runtime, number, customer=customer, owner_tg=owner, amount=amount,
                             due=due)  # fmt: skip


async def test_the_collections_page_shows_aging_per_rep_as_collections_counts_it(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await join(local_bot, LI_NA, "Li Na", Role.REP, "north")
    await join(local_bot, ZHOU_KAI, "Zhou Kai", Role.REP, "north")
    await join(local_bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    await join(local_bot, SOUTH_MANAGER, "Anna Weber", Role.MANAGER, "south")
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]
    await _seed_receivables(local_bot)
    runtime = local_bot.runtime
    north = await team_id(runtime, "north")
    async with transaction(runtime.sessions) as session:
        counted = await aging(session, runtime.settings, Scope(team_id=north), runtime.clock.now())
    assert counted.total.totals() == {"CNY": Decimal("54700.50")}

    await cockpit.open(phone, NORTH_MANAGER)
    await phone.locator('#tabs button[data-tab="collections"]').click()
    rows = phone.locator("#aging tbody tr")
    await expect(rows).to_have_count(2, timeout=10_000)
    # The most overdue first.
    await expect(rows.nth(0).locator("td").first).to_have_text("Li Na")
    li_na = rows.nth(0)
    await expect(li_na.locator('td[data-metric="open"]')).to_have_text("CN¥50,500.50")
    await expect(li_na.locator('td[data-metric="overdue"]')).to_have_text("CN¥38,500.50")
    await expect(li_na.locator('td[data-metric="0-30"]')).to_have_text("CN¥8,500.50")
    await expect(li_na.locator('td[data-metric="90+"]')).to_have_text("CN¥30,000.00")
    await expect(rows.nth(1).locator('td[data-metric="31-60"]')).to_have_text("CN¥4,200.00")
    # Nobody has anything 61-90 days overdue: no such column.
    await expect(phone.locator('#aging td[data-metric="61-90"]')).to_have_count(0)
    await expect(phone.locator("#aging tfoot td").nth(1)).to_have_text("CN¥54,700.50")
    await screenshot(phone, "collections-en")

    async with httpx.AsyncClient(base_url=cockpit.api) as client:
        south = {"Authorization": f"tma {cockpit.init_data(SOUTH_MANAGER)}"}
        other = await client.get("collections", params={"team": north}, headers=south)
        assert other.status_code == 404 and "Li Na" not in other.text
        own = await client.get("collections", headers=south)
        assert own.status_code == 200 and own.json()["reps"] == []

    await join_language(local_bot, NORTH_MANAGER, "zh")
    await cockpit.open(phone, NORTH_MANAGER, lang="zh", theme=DARK_THEME)
    await phone.reload()
    await phone.locator('#tabs button[data-tab="collections"]').click()
    await expect(rows).to_have_count(2, timeout=10_000)
    await expect(phone.locator("#aging thead")).to_contain_text("逾期")
    await expect(phone.locator("#aging thead")).to_contain_text("90 天以上")
    await screenshot(phone, "collections-zh-dark")


async def test_a_director_sees_one_row_per_team_and_a_manager_no_company_page(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await join(local_bot, LI_NA, "Li Na", Role.REP, "north")
    await join(local_bot, ZHOU_KAI, "Zhou Kai", Role.REP, "north")
    await join(local_bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    await join(local_bot, DIRECTOR, "Zhao Min", Role.DIRECTOR, None)
    await _seed_week(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]
    await _seed_receivables(local_bot)

    await cockpit.open(phone, DIRECTOR)
    tab = phone.locator('#tabs button[data-tab="company"]')
    await tab.click()
    rows = phone.locator("#teams tbody tr")
    async with httpx.AsyncClient(base_url=cockpit.api) as client:
        director = {"Authorization": f"tma {cockpit.init_data(DIRECTOR)}"}
        page = (await client.get("company", headers=director)).json()
        manager = {"Authorization": f"tma {cockpit.init_data(NORTH_MANAGER)}"}
        refused = await client.get("company", headers=manager)
        assert refused.status_code == 404 and "Li Na" not in refused.text
    names = [team["name"] for team in page["teams"]]
    await expect(rows).to_have_count(len(names), timeout=10_000)
    assert len(names) >= 2
    north_row = rows.filter(has_text="North")
    await expect(north_row.locator('td[data-metric="in_person"]')).to_have_text("3")
    await expect(north_row.locator('td[data-metric="open_balance"]')).to_have_text("CN¥54,700.50")
    await screenshot(phone, "company-en")
    # Tapping a team opens its Team page.
    await north_row.locator("td").first.click()
    await expect(phone.locator("#reps tbody tr.rep")).to_have_count(2, timeout=10_000)

    await cockpit.open(phone, NORTH_MANAGER)
    await phone.reload()
    await expect(phone.locator("#reps tbody tr.rep")).to_have_count(2, timeout=10_000)
    await expect(tab).to_be_hidden()

    await join_language(local_bot, DIRECTOR, "zh")
    await cockpit.open(phone, DIRECTOR, lang="zh", theme=DARK_THEME)
    await phone.reload()
    await tab.click()
    await expect(rows).to_have_count(len(names), timeout=10_000)
    await expect(phone.locator("#company-title")).to_have_text("公司汇总")
    await screenshot(phone, "company-zh-dark")
