"""The cockpit's Map in headless Chromium: a manager sees the week's check-ins of their team,
coloured per rep with the flagged one marked, and the team's customers; another team's points
are never sent; without tiles, or with tiles that cannot be reached, the points still show with
the view fitted to them. With Amap's tiles (the default) the API sends GCJ-02 points."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from core.db import transaction
from models.common import Role
from models.customer import Customer
from models.visit import VisitKind
from sandbox.harness import LocalBot
from services.geo import wgs84_to_gcj02
from tests.collection_helpers import add_customer_in
from tests.conftest import write_config
from tests.helpers import join, team_id, user_by_tg
from tests.web.conftest import DARK_THEME, PUBLIC_URL, Cockpit, needs_chromium, screenshot
from tests.web.test_cockpit import join_language
from tests.web.test_cockpit_pages import _visit

LI_NA, ZHOU_KAI, SOUTH_REP = 6001, 6002, 6003
NORTH_MANAGER, SOUTH_MANAGER, DIRECTOR = 6100, 6101, 6103
FRIDAY_EVENING = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
# (name, owner, latitude, longitude): Shanghai for the north, Guangzhou for the south.
CUSTOMERS = [
    ("Huaxin Paints", LI_NA, 31.2304, 121.4737),
    ("Yangpu Depot", LI_NA, 31.2989, 121.5015),
    ("Minhang Hardware", ZHOU_KAI, 31.1129, 121.3815),
    ("Baiyun Tools", SOUTH_REP, 23.1291, 113.2644),
]
NO_TILES = ""


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


UNREACHABLE_TILES = f"http://127.0.0.1:{_closed_port()}/tiles/{{z}}/{{x}}/{{y}}.png"


@pytest.fixture
def config_path(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """The cockpit with the tiles a test asks for (no tiles unless it says; None: the default,
    Amap's)."""
    tiles = getattr(request, "param", NO_TILES)
    webapp = f'\n[webapp]\nenabled = true\nurl = "{PUBLIC_URL}"\n'
    if tiles is not None:
        webapp += f'map_tiles = "{tiles}"\nmap_subdomains = ""\n'
    yield write_config(tmp_path, webapp)


async def _seed(bot: LocalBot) -> dict[str, int]:
    """Customers with a location in both teams and a week of check-ins: Li Na three (one
    flagged), Zhou Kai one, a phone call without a location, last week's, a deleted one, and
    the south's rep one in Guangzhou. Returns the user ids by name."""
    runtime = bot.runtime
    ids: dict[int, int] = {}
    for telegram_id in (LI_NA, ZHOU_KAI, SOUTH_REP):
        user = await user_by_tg(runtime, telegram_id)
        assert user is not None and user.id is not None
        ids[telegram_id] = user.id
    customers = {}
    for name, owner, _lat, _lon in CUSTOMERS:
        team = "south" if owner == SOUTH_REP else "north"
        customers[name] = await add_customer_in(runtime, team, name, owner)
    north, south = await team_id(runtime, "north"), await team_id(runtime, "south")
    async with transaction(runtime.sessions) as session:
        for name, _owner, lat, lon in CUSTOMERS:
            customer = await session.get(Customer, customers[name])
            assert customer is not None
            customer.latitude, customer.longitude = lat, lon
            session.add(customer)
        # One more north customer without a location: nothing to draw for it.
        at = TUESDAY
        li, zhou, far_rep = ids[LI_NA], ids[ZHOU_KAI], ids[SOUTH_REP]
        rows = [
            _visit(north, li, customers["Huaxin Paints"], at, checkin_latitude=31.2310,
                   checkin_longitude=121.4741, distance_m=80.0),
            _visit(north, li, customers["Yangpu Depot"], at + timedelta(days=1),
                   checkin_latitude=31.3065, checkin_longitude=121.5102, distance_m=1150.0,
                   flagged=True),
            _visit(north, li, customers["Huaxin Paints"], at + timedelta(days=2),
                   checkin_latitude=31.2301, checkin_longitude=121.4733, distance_m=40.0),
            _visit(north, zhou, customers["Minhang Hardware"], at + timedelta(days=1),
                   checkin_latitude=31.1133, checkin_longitude=121.3820, distance_m=50.0),
            _visit(north, zhou, customers["Minhang Hardware"], at + timedelta(days=2),
                   kind=VisitKind.PHONE, checkin_source=None),
            _visit(north, li, customers["Yangpu Depot"], at - timedelta(days=7),
                   checkin_latitude=31.2990, checkin_longitude=121.5016),
            _visit(north, zhou, customers["Minhang Hardware"], at + timedelta(days=3),
                   checkin_latitude=31.1130, checkin_longitude=121.3816,
                   deleted_at=at + timedelta(days=3, hours=1)),
            _visit(south, far_rep, customers["Baiyun Tools"], at + timedelta(days=1),
                   checkin_latitude=23.1295, checkin_longitude=113.2650),
        ]  # fmt: skip
        session.add_all(rows)
    return {"li": li, "zhou": zhou, "south_rep": far_rep}


async def _people(bot: LocalBot) -> None:
    await join(bot, LI_NA, "Li Na", Role.REP, "north")
    await join(bot, ZHOU_KAI, "Zhou Kai", Role.REP, "north")
    await join(bot, SOUTH_REP, "Anna Weber", Role.REP, "south")
    await join(bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    await join(bot, SOUTH_MANAGER, "Tom Berg", Role.MANAGER, "south")
    await join(bot, DIRECTOR, "Zhao Min", Role.DIRECTOR, None)


async def _inside_the_map(page: Page, selector: str) -> None:
    """Every marker matched by ``selector`` is drawn inside the map's box: the view is fitted."""
    box = await page.locator("#map-box").bounding_box()
    assert box is not None
    markers = page.locator(selector)
    for index in range(await markers.count()):
        mark = await markers.nth(index).bounding_box()
        assert mark is not None
        assert box["x"] <= mark["x"] and mark["x"] + mark["width"] <= box["x"] + box["width"]
        assert box["y"] <= mark["y"] and mark["y"] + mark["height"] <= box["y"] + box["height"]


@needs_chromium
async def test_a_manager_sees_the_weeks_checkins_and_customers_of_their_team(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await _people(local_bot)
    ids = await _seed(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]

    await cockpit.open(phone, NORTH_MANAGER)
    await phone.locator('#tabs button[data-tab="map"]').click()
    checkins = phone.locator("#map-box path.checkin")
    # The week's four check-ins with a location: not the call, last week's or the deleted one.
    await expect(checkins).to_have_count(4, timeout=10_000)
    await expect(phone.locator(f"#map-box path.rep-{ids['li']}")).to_have_count(3)
    await expect(phone.locator(f"#map-box path.rep-{ids['zhou']}")).to_have_count(1)
    await expect(phone.locator("#map-box path.flagged")).to_have_count(1)
    pins = phone.locator("#map-box .customer-pin")
    await expect(pins).to_have_count(3)
    titles = {await pins.nth(i).get_attribute("title") for i in range(3)}
    assert titles == {"Huaxin Paints", "Yangpu Depot", "Minhang Hardware"}
    await expect(phone.locator(f"#map-box path.rep-{ids['south_rep']}")).to_have_count(0)
    await expect(phone.locator("#map-summary")).to_have_text(
        "Check-ins: 4 · flagged: 1 · customers: 3"
    )
    await expect(phone.locator("#map-legend")).to_contain_text("Li Na")
    await expect(phone.locator("#map-legend")).to_contain_text("Flagged check-in")
    # Reps get different colours.
    li_fill = await phone.locator(f"path.rep-{ids['li']}").first.get_attribute("fill")
    zhou_fill = await phone.locator(f"path.rep-{ids['zhou']}").first.get_attribute("fill")
    assert li_fill and zhou_fill and li_fill != zhou_fill
    await _inside_the_map(phone, "#map-box path.checkin, #map-box .customer-pin")
    # The flagged one says why when tapped.
    await phone.locator("#map-box path.flagged").click()
    await expect(phone.locator(".leaflet-popup-content")).to_contain_text(
        "⚠️ Checked in 1.1 km from the customer"
    )
    await expect(phone.locator(".leaflet-popup-content")).to_contain_text("Yangpu Depot")
    # The map pans the popup into view (an event-driven wait, bounded by Playwright's timeout).
    await phone.wait_for_function("""() => {
        const box = document.getElementById("map-box").getBoundingClientRect();
        const pop = document.querySelector(".leaflet-popup").getBoundingClientRect();
        return pop.top >= box.top && pop.right <= box.right && pop.left >= box.left;
    }""", timeout=5_000)  # fmt: skip
    await screenshot(phone, "map-en")

    # Narrowed to one rep: her check-ins and her customers only, in the colour she had.
    await phone.locator("#map-rep").select_option(label="Zhou Kai")
    await expect(checkins).to_have_count(1, timeout=10_000)
    await expect(pins).to_have_count(1)
    assert await checkins.first.get_attribute("fill") == zhou_fill
    # The month holds last week's check-in too.
    await phone.locator("#map-rep").select_option(label="All reps")
    await phone.locator('#map .segmented button[data-period="month"]').click()
    await expect(checkins).to_have_count(5, timeout=10_000)

    async with httpx.AsyncClient(base_url=cockpit.api) as client:
        north = await team_id(local_bot.runtime, "north")
        south = {"Authorization": f"tma {cockpit.init_data(SOUTH_MANAGER)}"}
        other = await client.get("map", params={"team": north}, headers=south)
        assert other.status_code == 404 and "Huaxin" not in other.text
        their_rep = await client.get("map", params={"rep": ids["li"]}, headers=south)
        assert their_rep.status_code == 404 and "Huaxin" not in their_rep.text
        own = (await client.get("map", headers=south)).json()
        assert [c["customer"] for c in own["checkins"]] == ["Baiyun Tools"]
        assert [c["name"] for c in own["customers"]] == ["Baiyun Tools"]
        assert own["tiles"] is None
        manager = {"Authorization": f"tma {cockpit.init_data(NORTH_MANAGER)}"}
        mine = (await client.get("map", headers=manager)).json()
        # No tiles: the stored WGS-84 points as they are.
        assert {(c["lat"], c["lon"]) for c in mine["checkins"]} >= {(31.231, 121.4741)}

    await join_language(local_bot, NORTH_MANAGER, "zh")
    await cockpit.open(phone, NORTH_MANAGER, lang="zh", theme=DARK_THEME)
    await phone.reload()
    await phone.locator('#tabs button[data-tab="map"]').click()
    await expect(checkins).to_have_count(4, timeout=10_000)
    await expect(phone.locator("#map-summary")).to_have_text(
        "签到 4 次 · 异常签到 1 次 · 客户 3 个"
    )
    await expect(phone.locator("#tabs")).to_contain_text("地图")
    await screenshot(phone, "map-zh-dark")


@needs_chromium
async def test_a_director_picks_the_team_of_the_map(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await _people(local_bot)
    ids = await _seed(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]
    south = await team_id(local_bot.runtime, "south")

    await cockpit.open(phone, DIRECTOR)
    await phone.locator('#tabs button[data-tab="map"]').click()
    await phone.locator("#map-team").select_option(str(south))
    await expect(phone.locator(f"#map-box path.rep-{ids['south_rep']}")).to_have_count(
        1, timeout=10_000
    )
    await expect(phone.locator("#map-box path.checkin")).to_have_count(1)
    await expect(phone.locator("#map-box .customer-pin")).to_have_count(1)
    await _inside_the_map(phone, "#map-box path.checkin, #map-box .customer-pin")
    await screenshot(phone, "map-director-en")


@needs_chromium
@pytest.mark.parametrize("config_path", [UNREACHABLE_TILES], indirect=True, ids=["closed-port"])
async def test_tiles_that_cannot_be_reached_leave_the_points_on_the_map(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await _people(local_bot)
    await _seed(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]
    origin = UNREACHABLE_TILES.split("/tiles/")[0]
    asked: list[str] = []
    phone.on("request", lambda request: asked.append(request.url))

    response = await cockpit.open(phone, NORTH_MANAGER)
    assert response is not None
    # Images: its own, the photos it fetched (blob:) and the tiles' host; nothing else outside.
    policy = response.headers["content-security-policy"]
    assert f"img-src 'self' data: blob: {origin};" in policy
    await phone.locator('#tabs button[data-tab="map"]').click()
    await expect(phone.locator("#map-box path.checkin")).to_have_count(4, timeout=10_000)
    await expect(phone.locator("#map-box .customer-pin")).to_have_count(3)
    await expect(phone.locator("#map-box img.leaflet-tile").first).to_be_attached()
    assert any(url.startswith(origin + "/tiles/") for url in asked)
    await _inside_the_map(phone, "#map-box path.checkin, #map-box .customer-pin")
    await screenshot(phone, "map-tiles-unreachable-en")


@pytest.mark.parametrize("config_path", [None], indirect=True, ids=["amap"])
async def test_with_amap_tiles_the_api_sends_gcj02_points(
    local_bot: LocalBot, cockpit: Cockpit
) -> None:
    await _people(local_bot)
    await _seed(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(base_url=cockpit.api) as client:
        manager = {"Authorization": f"tma {cockpit.init_data(NORTH_MANAGER)}"}
        response = await client.get("map", headers=manager)
    page = response.json()
    assert "autonavi.com" in page["tiles"]["url"] and page["tiles"]["subdomains"] == "1234"
    policy = response.headers["content-security-policy"]
    for n in "1234":
        assert f"https://webrd0{n}.is.autonavi.com" in policy
    huaxin = next(c for c in page["customers"] if c["name"] == "Huaxin Paints")
    lat, lon = wgs84_to_gcj02(31.2304, 121.4737)
    assert (huaxin["lat"], huaxin["lon"]) == (round(lat, 6), round(lon, 6))
    # Shanghai's GCJ-02 shift is a few hundred metres: the point did move.
    assert abs(huaxin["lon"] - 121.4737) > 0.003
