"""GET /metrics and /health over HTTP, in webhook and polling mode, after a scripted run; the
operations watch alerting the admins once per outbox-backlog incident."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text, update
from sqlmodel import col

from bot.app import Runtime
from bot.metrics import MetricsServer, OpsWatch, check_polling_exposure
from core.clock import ManualClock
from core.db import transaction
from core.settings import ConfigError, Settings
from models.common import Role
from models.outbox import OutboxMessage, OutboxStatus, SenderLease
from sandbox import Sandbox
from sandbox.client import SandboxClient
from sandbox.harness import LocalBot
from services import backups, outbox
from tests.conftest import ADMIN_ID
from tests.helpers import add_user

TOKEN = "metrics-token-for-the-tests-0123456789"
HEALTH_TOKEN = "health-token-for-the-tests-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

JOBS_UNDER_TEST = ("housekeeping",)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    settings.metrics.token = SecretStr(TOKEN)
    settings.metrics.port = 0
    settings.webhook.health_token = SecretStr(HEALTH_TOKEN)
    settings.backup.folder = tmp_path / "backups"
    return settings


def parse(body: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def scrape(url: str, token: str | None = TOKEN) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as client:
        response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def hold_the_outbox(runtime: Runtime, rows: int, waited: timedelta) -> None:
    """``rows`` messages due for ``waited`` that nobody may send (a long flood-control pause)."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await session.exec(  # type: ignore[call-overload]
            update(SenderLease).values(paused_until=now + timedelta(hours=1))
        )
        for n in range(rows):
            await outbox.enqueue(
                session, key=f"held:{n}", chat_id=ADMIN_ID + 1, text=f"held {n}", kind="test",
                now=now - waited,
            )  # fmt: skip


async def test_metrics_over_the_webhook_after_a_scripted_run(
    webhook_bot: LocalBot, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = webhook_bot.webhook_url.removesuffix("/telegram")
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{base}/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await client.get(f"{base}/metrics", headers=wrong)).status_code == 401
    before = await scrape(f"{base}/metrics")

    admin = await webhook_bot.chat(ADMIN_ID, "Ada")
    await admin.send("/help")  # handled
    await webhook_bot.client.add_fault("429", "sendMessage", chat_id=ADMIN_ID, retry_after=1)
    await admin.send("/help")  # handled, its reply waits out one 429
    await webhook_bot.client.add_fault("5xx", "sendMessage", chat_id=ADMIN_ID, status=502)
    await admin.send("/help")  # handled, its reply retried once after a 502

    def broken(role: object) -> list[object]:
        raise RuntimeError("a bug")

    monkeypatch.setattr("handlers.help.commands_for", broken)
    await admin.send("/help")  # failed: rolled back, apologised
    assert webhook_bot.background is not None and webhook_bot.background.scheduler is not None
    scheduler = webhook_bot.background.scheduler
    await scheduler.run(scheduler.find("housekeeping", "north"), force=True)
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    taken = clock.now() - timedelta(hours=5)
    made = backups.create_backup(
        runtime.settings.database_url, runtime.settings.backup_folder, now=taken
    )
    # The sender reads the lease's pause only every few seconds: hold its pacer too, or a round
    # already under way could send one of the held rows before the scrape.
    webhook_bot.background.sender.pacer.hold_all(3600)
    await hold_the_outbox(runtime, 3, timedelta(minutes=20))

    after = await scrape(f"{base}/metrics")
    assert delta(after, before, "salesbot_updates_total", outcome="handled") == 3
    assert delta(after, before, "salesbot_updates_total", outcome="failed") == 1
    assert delta(after, before, "salesbot_reply_latency_seconds_count") == 4
    assert delta(after, before, "salesbot_telegram_429_total", source="reply") == 1
    assert delta(after, before, "salesbot_telegram_retries_total", source="reply") == 1
    assert delta(after, before, "salesbot_job_runs_total", job="housekeeping", status="done") == 1
    assert value(after, "salesbot_outbox_backlog") == 3
    assert value(after, "salesbot_outbox_oldest_pending_seconds") == 20 * 60
    assert value(after, "salesbot_last_backup_age_seconds") == 5 * 3600
    assert made.path.is_file()

    async with httpx.AsyncClient() as client:
        plain = await client.get(f"{base}/health")
        detailed = await client.get(
            f"{base}/health", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}
        )
    # Messages due for 20 minutes that nobody sends: the outbox is stuck.
    assert plain.status_code == 503 and plain.json() == {"status": "failing"}
    assert detailed.json()["outbox_stuck"] is True
    assert detailed.json()["backup"]["newest"] == made.taken_at.isoformat()


async def test_the_webhook_serves_no_metrics_without_a_token(
    runtime: Runtime, sandbox: Sandbox, sandbox_client: SandboxClient
) -> None:
    runtime.settings.metrics.token = None
    bot = LocalBot(runtime=runtime, sandbox=sandbox, client=sandbox_client, webhook=True)
    await bot.start()
    try:
        base = bot.webhook_url.removesuffix("/telegram")
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/metrics")).status_code == 404
            assert (await client.get(f"{base}/health")).status_code == 200
    finally:
        await bot.stop()


async def test_polling_serves_metrics_on_its_own_local_port(
    local_bot: LocalBot, runtime: Runtime
) -> None:
    runtime.settings.metrics.token = None  # on 127.0.0.1, a token is optional
    assert local_bot.background is not None
    server = MetricsServer(runtime, local_bot.background)
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        before = await scrape(f"{url}/metrics", token=None)
        admin = await local_bot.chat(ADMIN_ID, "Ada")
        await admin.send("/help")
        after = await scrape(f"{url}/metrics", token=None)
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{url}/health")
    finally:
        await server.stop()
    assert delta(after, before, "salesbot_updates_total", outcome="handled") == 1
    assert value(after, "salesbot_outbox_backlog") == 0
    assert value(after, "salesbot_last_backup_age_seconds") == -1
    assert health.status_code == 200


def test_metrics_off_this_machine_need_a_token(settings: Settings) -> None:
    settings.metrics.token = None
    settings.metrics.listen = "0.0.0.0"  # noqa: S104 (the refused configuration)
    with pytest.raises(ConfigError, match=r"metrics\.token"):
        check_polling_exposure(settings)
    settings.metrics.token = SecretStr(TOKEN)
    check_polling_exposure(settings)


async def test_a_backlog_that_stays_above_its_limit_alerts_the_admins_once_per_incident(
    local_bot: LocalBot, runtime: Runtime
) -> None:
    await add_user(runtime, ADMIN_ID, "Ada", Role.ADMIN, None)
    runtime.settings.metrics.backlog_limit = 5
    assert local_bot.background is not None
    async with asyncio.timeout(10):
        while not local_bot.background.sender.holding_lease:
            await asyncio.sleep(0.02)
    watch = OpsWatch(runtime, local_bot.background)
    await hold_the_outbox(runtime, 4, timedelta(minutes=30))
    assert await watch.check() == []  # at the limit or below: no incident
    await hold_the_outbox_more(runtime, 6, 4)
    first = await watch.check()
    assert len(first) == 1
    assert await watch.check() == []  # the same incident: its alert is not queued again
    async with transaction(runtime.sessions) as session:
        alerts_queued = (
            await session.exec(  # type: ignore[call-overload]
                text("SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'outbox-backlog:%'")
            )
        ).scalar_one()
        assert alerts_queued == 1
        await session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(col(OutboxMessage.idempotency_key).like("held:%"))
            .values(status=OutboxStatus.CANCELLED)
        )
    assert await watch.check() == []  # the incident is over
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    await clock.advance(timedelta(minutes=1))
    await hold_the_outbox_more(runtime, 6, 100)
    second = await watch.check()
    assert len(second) == 1 and second != first  # a new incident, a new alert


async def hold_the_outbox_more(runtime: Runtime, rows: int, start: int) -> None:
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        for n in range(start, start + rows):
            await outbox.enqueue(
                session, key=f"held:{n}", chat_id=ADMIN_ID + 1, text=f"held {n}", kind="test",
                now=now - timedelta(minutes=30),
            )  # fmt: skip
