"""The cockpit in a real browser: Debian's chromium (``apt-get install chromium``, as .ci/run
does) driven by Playwright; no browser is downloaded. The cockpit is served as `salesbot run`
serves it while polling, on a free local port, next to the bot running against the sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, Response, async_playwright

from bot.cockpit import cockpit_for, local_socket
from sandbox.harness import DEFAULT_TOKEN, LocalBot
from sandbox.webapp_login import page_url, signed_init_data
from tests.conftest import write_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PUBLIC_URL = "https://cockpit.example.test/app/"
ROOT = Path(__file__).resolve().parents[2]
# Screenshots of every page, in both languages: looked at by people, kept by CI.
ARTIFACTS = Path(os.environ.get("SALESBOT_ARTIFACTS", ROOT / "test-artifacts")) / "web"
# Telegram's dark theme, as tgWebAppThemeParams carries it.
DARK_THEME = {
    "bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499",
    "link_color": "#6ab3f3", "button_color": "#5288c1", "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c", "destructive_text_color": "#ec3942",
}  # fmt: skip

# Each browser test module sets ``pytestmark = needs_chromium``.
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium is not installed (apt-get install chromium)"
)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(
        tmp_path, f'\n[webapp]\nenabled = true\nurl = "{PUBLIC_URL}"\nmax_age_seconds = 3600\n'
    )


@dataclass
class Cockpit:
    """The running cockpit: its local address and a way to sign anyone in."""

    base: str
    bot: LocalBot

    @property
    def api(self) -> str:
        return self.base.removesuffix("app/") + "api/"

    def init_data(
        self, telegram_id: int, *, lang: str = "en", at: datetime | None = None,
        token: str = DEFAULT_TOKEN,
    ) -> str:  # fmt: skip
        when = at or self.bot.runtime.clock.now()
        return signed_init_data(
            token, telegram_id=telegram_id, first_name=str(telegram_id), language_code=lang,
            at=when,
        )  # fmt: skip

    def url(self, init_data: str, theme: dict[str, str] | None = None) -> str:
        return page_url(self.base, init_data, theme)

    async def open(
        self, page: Page, telegram_id: int, *, lang: str = "en",
        theme: dict[str, str] | None = None,
    ) -> Response | None:  # fmt: skip
        """Open the cockpit in ``page`` signed in as ``telegram_id``, as Telegram opens it."""
        return await page.goto(self.url(self.init_data(telegram_id, lang=lang), theme))


@pytest.fixture
async def cockpit(local_bot: LocalBot) -> AsyncIterator[Cockpit]:
    assert local_bot.app is not None
    sock = local_socket()
    config = uvicorn.Config(
        cockpit_for(local_bot.app), log_config=None, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    yield Cockpit(f"http://127.0.0.1:{sock.getsockname()[1]}/app/", local_bot)
    server.should_exit = True
    await task


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A phone-sized page; no request leaves 127.0.0.1."""
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    outside: list[str] = []

    async def only_local(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.url.startswith("http://127.0.0.1"):
            await route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(request.url)
            await route.abort()  # type: ignore[attr-defined]

    await context.route("**/*", only_local)
    page = await context.new_page()
    yield page
    await context.close()
    assert outside == [], f"the page asked for something outside the cockpit: {outside}"


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
