"""The managers' cockpit in headless Chromium: a manager signs in with Telegram's initData and
sees their team's figures (the weekly summary's), in their language and Telegram's theme;
anyone else, an old sign-in, a forged one and another team are refused by page and API;
approving from the page while the card is tapped in the chat records one decision."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect

from core.db import transaction
from models.approval import RequestStatus, StepStatus
from models.common import Role
from sandbox.harness import LocalBot
from services.summary import build_team_summary
from services.team_context import resolve
from services.users import Actor, set_language
from tests.approval_helpers import (
    MANAGER,
    REP,
    card_of,
    expense,
    requests,
    steps,
    team_of,
    text_of,
)
from tests.e2e.test_summary import seed_visits
from tests.helpers import join, team_id, user_by_tg
from tests.web.conftest import DARK_THEME, Cockpit, needs_chromium, screenshot

pytestmark = needs_chromium

REPS = {6001: "Li Na", 6002: "Zhou Kai", 6003: "Sun Yu"}
NORTH_MANAGER, SOUTH_MANAGER, SOUTH_REP = 6100, 6101, 6102
FRIDAY_EVENING = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)


async def join_language(bot: LocalBot, telegram_id: int, code: str) -> str:
    """The person's choice, as /lang stores it."""
    async with transaction(bot.runtime.sessions) as session:
        user = await user_by_tg(bot.runtime, telegram_id)
        assert user is not None
        chosen = await set_language(session, Actor.of(user), code, bot.runtime.clock.now())
        return chosen.language


async def _team_ready(page: Page) -> None:
    await expect(page.locator("#reps tbody tr.rep")).to_have_count(len(REPS), timeout=10_000)


async def _cells(page: Page, metric: str) -> dict[str, str]:
    rows = page.locator("#reps tbody tr.rep")
    found: dict[str, str] = {}
    for index in range(await rows.count()):
        row = rows.nth(index)
        name = await row.locator("td").first.inner_text()
        cell = row.locator(f'td[data-metric="{metric}"]')
        found[name] = (await cell.inner_text()).split("/")[0].strip()
    return found


async def test_a_manager_sees_the_summary_figures_of_their_team(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    for telegram_id, name in REPS.items():
        await join(local_bot, telegram_id, name, Role.REP, "north")
    await join(local_bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    expected = await seed_visits(local_bot.runtime, "north", REPS, seed=18)
    runtime = local_bot.runtime
    # Friday evening in Shanghai: the whole seeded week has happened.
    await runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]
    async with transaction(runtime.sessions) as session:
        team = await resolve(
            session, runtime.settings, await team_id(runtime, "north"), runtime.clock.now()
        )
        summary = await build_team_summary(session, team, "week", team.today)

    await cockpit.open(phone, NORTH_MANAGER)
    await _team_ready(phone)
    in_person, by_phone = await _cells(phone, "in_person"), await _cells(phone, "phone")
    for telegram_id, name in REPS.items():
        assert in_person[name] == str(expected[(telegram_id, "in_person")])
        assert by_phone[name] == str(expected[(telegram_id, "phone")])
    # The same figures as the weekly summary's message, rep by rep.
    assert in_person == {line.name: str(line.values["in_person"]) for line in summary.reps}
    await expect(phone.locator("#team-title")).to_contain_text("North")
    await expect(phone.locator("#team-choice")).to_be_hidden()  # a manager picks no team
    assert await phone.locator("canvas#chart").bounding_box() is not None
    await screenshot(phone, "team-en")

    # Chinese (chosen with /lang), in Telegram's dark theme: the page follows both.
    manager = await join_language(local_bot, NORTH_MANAGER, "zh")
    assert manager == "zh"
    await cockpit.open(phone, NORTH_MANAGER, lang="zh", theme=DARK_THEME)
    await phone.reload()
    await _team_ready(phone)
    await expect(phone.locator("#tabs button").first).to_have_text("团队")
    background = await phone.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)"
    await screenshot(phone, "team-zh-dark")


async def test_only_a_valid_fresh_sign_in_of_a_manager_gets_in(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await join(local_bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    await join(local_bot, 6001, "Li Na", Role.REP, "north")
    await join(local_bot, SOUTH_MANAGER, "Anna Weber", Role.MANAGER, "south")
    now = local_bot.runtime.clock.now()
    valid = cockpit.init_data(NORTH_MANAGER)
    refused = {
        "rep": (cockpit.init_data(6001), 403, "for managers, directors and admins"),
        "expired": (cockpit.init_data(NORTH_MANAGER, at=now - timedelta(hours=2)), 401,
                    "has expired"),
        "forged": (valid.replace("hash=", "hash=0") [:-1], 401, "could not be verified"),
        "other bot": (cockpit.init_data(NORTH_MANAGER, token="42:another-bot"), 401,
                      "could not be verified"),
        "stranger": (cockpit.init_data(999_999), 403, "for managers, directors and admins"),
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=cockpit.api) as client:
        ok = await client.get("me", headers={"Authorization": f"tma {valid}"})
        assert ok.status_code == 200 and ok.json()["role"] == "manager"
        assert (await client.get("me")).status_code == 401
        for name, (init_data, status, _) in refused.items():
            for path in ("me", "team", "approvals"):
                answer = await client.get(path, headers={"Authorization": f"tma {init_data}"})
                assert answer.status_code == status, (name, path)
            answer = await client.post(
                "approvals/1", headers={"Authorization": f"tma {init_data}"},
                json={"step": 0, "action": "approve"},
            )  # fmt: skip
            assert answer.status_code == status, (name, "decide")
        # A manager asking for another team's figures: not found, never the figures.
        south = await team_id(local_bot.runtime, "south")
        other = await client.get(
            "team", params={"team": south}, headers={"Authorization": f"tma {valid}"}
        )
        assert other.status_code == 404 and "Team not found" in other.json()["message"]
    for name, (init_data, _, message) in refused.items():
        await phone.goto(cockpit.url(init_data))
        await phone.reload()
        await expect(phone.locator("#status")).to_contain_text(message)
        await expect(phone.locator("#team")).to_be_hidden()
        await expect(phone.locator("#tabs")).to_be_hidden()
        if name == "expired":
            await screenshot(phone, "refused-expired-en")
    # No initData at all (the page opened outside Telegram): the configured language, zh.
    await phone.goto(cockpit.base)
    await expect(phone.locator("#status")).to_contain_text("菜单按钮")


async def test_approving_from_the_page_while_the_card_is_tapped_records_one_decision(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    people = await team_of(local_bot, directors=1)
    await expense(people.rep, "800")
    await local_bot.drain_outbox()
    (request,) = await requests(local_bot)
    assert request.id is not None
    card = await card_of(people.manager, request.id)

    await cockpit.open(phone, MANAGER)
    await phone.locator("#tabs button[data-tab=approvals]").click()
    item = phone.locator(f'#queue li[data-request="{request.id}"]')
    await expect(item).to_contain_text("Wang Wei")
    await expect(item).to_contain_text("800")
    await screenshot(phone, "approvals-en")

    # The same decision from the page and from the chat's card, at once.
    await asyncio.gather(
        item.get_by_role("button", name="Approve").click(),
        people.manager.tap("✅ Approve", card.message_id),
    )
    await expect(item.locator(".done")).not_to_be_empty()
    decided = [s for s in await steps(local_bot, request.id) if s.status != StepStatus.PENDING]
    assert [s.status for s in decided] == [StepStatus.APPROVED]
    (after,) = await requests(local_bot)
    assert after.status in (RequestStatus.PENDING, RequestStatus.APPROVED)
    assert after.step_no == 1 or after.status == RequestStatus.APPROVED
    # The chat's card was edited: no more decision buttons for the manager.
    await local_bot.drain_outbox()
    edited = await card_of(people.manager, request.id, with_buttons=False)
    assert "Approve" not in [b for row in (edited.buttons or []) for b in row]
    assert text_of(edited) != text_of(card)
    manager = await user_by_tg(local_bot.runtime, MANAGER)
    assert manager is not None and decided[0].decided_by_id == manager.id
    _ = REP  # the requester of the expense


async def test_a_rejection_from_the_page_needs_a_reason_and_reaches_the_requester(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    people = await team_of(local_bot, directors=1)
    await expense(people.rep, "650")
    (request,) = await requests(local_bot)
    await join_language(local_bot, MANAGER, "zh")
    await cockpit.open(phone, MANAGER, lang="zh")
    await phone.locator("#tabs button[data-tab=approvals]").click()
    item = phone.locator(f'#queue li[data-request="{request.id}"]')
    await expect(item).to_contain_text("650")
    await item.get_by_role("button", name="驳回").click()
    await item.get_by_role("button", name="确认驳回").click()  # no reason yet: refused
    await expect(item.locator(".done")).not_to_be_empty()
    (still,) = await requests(local_bot)
    assert still.status == RequestStatus.PENDING
    await item.locator("textarea").fill("发票抬头不对，请重开")
    await screenshot(phone, "approvals-zh-reject")
    await item.get_by_role("button", name="确认驳回").click()
    await expect(item.locator(".done")).to_contain_text("驳回")
    (after,) = await requests(local_bot)
    assert after.status == RequestStatus.REJECTED
    await local_bot.drain_outbox()
    told = text_of(await people.rep.last_reply())
    assert "发票抬头不对" in told or "Invoice" in told or str(request.id) in told
