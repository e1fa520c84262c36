"""The cockpit's first page in headless Chromium (Debian's chromium through Playwright): bytes
transferred until the Team page shows its figures, and the time to first render.

A manager of a team of 12 reps with a week of visits opens the page on a phone-sized screen,
served by the cockpit's own ASGI app over uvicorn on 127.0.0.1 (gzip on, as in production).
Each run is a fresh browser context (nothing cached). Reported: bytes (all responses, as sent
on the wire), first contentful paint, and the moment the rep table is filled (figures shown).

    .venv/bin/python -m bench.cockpit_page [runs]
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import async_playwright
from sqlmodel import col, select

from bench.common import bench_runtime, serve_cockpit
from core.db import transaction
from models.common import Role
from models.customer import Customer
from models.team import Team
from models.user import User
from models.visit import Visit, VisitKind, VisitPurpose
from sandbox.webapp_login import page_url, signed_init_data

TOKEN = "123456:bench-cockpit"
REPS = 12
MANAGER_TG = 900_000
MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


async def _seed(runtime: Any) -> None:
    rng = random.Random(18)
    now = MONDAY
    async with transaction(runtime.sessions) as session:
        team = (await session.exec(select(Team).where(col(Team.key) == "north"))).one()
        assert team.id is not None
        session.add(User(telegram_id=MANAGER_TG, display_name="Chen Jing", role=Role.MANAGER,
                         team_id=team.id, created_at=now, updated_at=now))  # fmt: skip
        for n in range(REPS):
            rep = User(telegram_id=MANAGER_TG + 1 + n, display_name=f"Rep {n + 1:02d}",
                       role=Role.REP, team_id=team.id, created_at=now, updated_at=now)  # fmt: skip
            customer = Customer(team_id=team.id, name=f"Customer {n}", name_key=f"customer {n}",
                                created_at=now, updated_at=now)  # type: ignore[call-arg]  # fmt: skip
            session.add_all([rep, customer])
            await session.flush()
            assert rep.id is not None and customer.id is not None
            for _ in range(rng.randint(8, 25)):
                when = MONDAY + timedelta(days=rng.randint(0, 4), hours=rng.randint(0, 8))
                session.add(Visit(
                    team_id=team.id, rep_id=rep.id, customer_id=customer.id,
                    kind=rng.choice([VisitKind.IN_PERSON, VisitKind.PHONE]),
                    purpose=VisitPurpose.REVISIT, visited_at=when, created_at=when,
                    updated_at=when,
                ))  # fmt: skip


async def main(runs: int) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    async with bench_runtime() as runtime:
        await _seed(runtime)
        await runtime.clock.set(MONDAY + timedelta(days=4, hours=10))  # type: ignore[attr-defined]
        async with serve_cockpit(runtime, TOKEN) as root:
            base = root + "app/"
            sizes, paints, shown = [], [], []
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium, headless=True,
                    args=["--headless", "--no-sandbox", "--disable-gpu"],
                )  # fmt: skip
                for _ in range(runs + 1):
                    context = await browser.new_context(viewport={"width": 390, "height": 844})
                    page = await context.new_page()
                    init = signed_init_data(
                        TOKEN, telegram_id=MANAGER_TG, first_name="Chen", language_code="zh",
                        at=runtime.clock.now(),
                    )  # fmt: skip
                    await page.goto(page_url(base, init))
                    await page.wait_for_selector("#reps tbody tr.rep", timeout=30_000)
                    figures = await page.evaluate("""() => {
                        const entries = [...performance.getEntriesByType('navigation'),
                                         ...performance.getEntriesByType('resource')];
                        const paint = performance.getEntriesByName('first-contentful-paint')[0];
                        return { bytes: entries.reduce((s, e) => s + e.transferSize, 0),
                                 fcp: paint ? paint.startTime : null, shown: performance.now() };
                    }""")  # fmt: skip
                    await context.close()
                    if _ == 0:
                        continue  # the first run warms the server's imports and SQLite's cache
                    sizes.append(figures["bytes"])
                    paints.append(figures["fcp"])
                    shown.append(figures["shown"])
                await browser.close()
    print(f"cockpit first page, {runs} runs, {REPS} reps, headless Chromium 390x844:")
    print(f"  bytes transferred: {statistics.median(sizes) / 1024:.1f} KB (median)")
    print(f"  first contentful paint: median {statistics.median(paints):.0f} ms, "
          f"max {max(paints):.0f} ms")  # fmt: skip
    print(f"  figures shown (rep table filled): median {statistics.median(shown):.0f} ms, "
          f"max {max(shown):.0f} ms")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
