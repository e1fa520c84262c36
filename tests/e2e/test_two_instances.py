"""Two real `salesbot run --webhook` processes on one database behind a round-robin proxy."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import func, select

from bot.app import Runtime
from core.db import transaction
from models.common import Role
from models.invite import Invite
from models.job_run import JobRun, RunStatus
from models.outbox import OutboxMessage, OutboxStatus
from models.team import Team
from models.user import User
from sandbox import Sandbox
from sandbox.client import SandboxClient, SandboxMessage
from services import outbox
from tests.conftest import ADMIN_ID, fresh_database, separate_database, write_config
from tests.customer_helpers import add_customer, visits_of
from tests.helpers import make_invite, payload_from, user_by_tg
from tests.instances import SECRET, Pair, stop_instance, two_instances

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Short leases, so that the survivor takes over a killed instance's work within seconds.
FAST_FAILOVER = {
    "SALESBOT_DELIVERY__SENDER_LEASE_SECONDS": "3",
    "SALESBOT_DELIVERY__SENDING_LEASE_SECONDS": "5",
    "SALESBOT_DELIVERY__POLL_INTERVAL_SECONDS": "0.2",
}
# The tests on the shared pair run on one xdist worker, one after the other, in file order.
shares_the_pair = pytest.mark.xdist_group("two_instances")


def _blocking(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` to the end from a module fixture, on a loop of its own (in a thread,
    so that no test's event loop is touched)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def shared_pair(
    sandbox: Sandbox, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """A and B, started once for the tests that can share them, on a database of their own."""
    workdir = tmp_path_factory.mktemp("two_instances")
    database_url = _blocking(separate_database(template_db, workdir, "pair"))
    pair = Pair(sandbox, write_config(workdir), database_url, workdir, FAST_FAILOVER)
    try:
        _blocking(pair.start())
        yield pair
    finally:
        _blocking(pair.stop())


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, template_db: str, tmp_path: Path) -> str:
    """A test on the shared pair sees the pair's database; the others get a fresh one."""
    if "shared_pair" in request.fixturenames:
        pair: Pair = request.getfixturevalue("shared_pair")
        return pair.database_url
    return await fresh_database(template_db, tmp_path)


async def settle(client: SandboxClient, update_id: int) -> None:
    """Wait until the webhook delivery of this update was accepted (= fully handled)."""
    async with asyncio.timeout(30):
        while True:
            deliveries = (await client.webhook())["deliveries"]
            if any(d["update_id"] == update_id and d["status"] == 200 for d in deliveries):
                return
            await asyncio.sleep(0.02)


async def say(client: SandboxClient, user_id: int, text: str) -> list[SandboxMessage]:
    before = len(await client.bot_messages(user_id))
    await settle(client, await client.send_message(user_id, text))
    return (await client.bot_messages(user_id))[before:]


async def tap(client: SandboxClient, user_id: int, label: str) -> list[SandboxMessage]:
    messages = await client.bot_messages(user_id)
    target = next(m for m in reversed(messages) if any(label in t for t in m.button_texts()))
    text = next(t for t in target.button_texts() if label in t)
    before = len(messages)
    await settle(client, await client.press(user_id, target.message_id, button_text=text))
    return (await client.bot_messages(user_id))[before:]


@shares_the_pair
async def test_forms_ordering_and_duplicates_across_two_instances(
    shared_pair: Pair, runtime: Runtime, sandbox_client: SandboxClient
) -> None:
    client = sandbox_client
    await client.add_user(ADMIN_ID, "Ada", language_code="en")
    invites_before = await _count(runtime, Invite)
    async with shared_pair.running() as (proxy, _instances):
        # A form started on one instance is finished on the other.
        await say(client, ADMIN_ID, "/invite")
        await tap(client, ADMIN_ID, "sales rep")
        replies = await tap(client, ADMIN_ID, "North")
        assert proxy.served_by[-3:] in (["A", "B", "A"], ["B", "A", "B"])
        payload = payload_from(replies[-1].text or "")
        await client.add_user(5001, "Nia")
        await say(client, 5001, f"/start {payload}")
        assert (await user_by_tg(runtime, 5001)) is not None

        # A burst from one person, alternating between instances, is applied in order.
        burst = ["/me", "/help", "/lang", "/me", "/cancel", "hello", "/help", "/me"]
        before = len(await client.bot_messages(ADMIN_ID))
        ids = [await client.send_message(ADMIN_ID, text) for text in burst]
        await settle(client, ids[-1])
        replies = (await client.bot_messages(ADMIN_ID))[before:]
        kinds = [_kind(m.text or "") for m in replies]
        assert kinds == ["me", "help", "lang", "me", "cancel", "unknown", "help", "me"]
        served = proxy.served_by[-len(burst) :]
        assert set(served) == {"A", "B"}

        # The same update delivered twice (a webhook retry) is handled once.
        update = _command(990_000_001, ADMIN_ID, "/invite")
        async with httpx.AsyncClient() as http:
            for _ in range(2):
                answer = await http.post(proxy.url, json=update, headers={SECRET_HEADER: SECRET})
                assert answer.status_code == 200
            refused = await http.post(proxy.url, json=update)
            assert refused.status_code == 403
        prompts = [m for m in await client.bot_messages(ADMIN_ID) if m.message_id > 0]
        assert sum("Choose the role" in (m.text or "") for m in prompts) == 2  # first + this one
    assert await _count(runtime, Invite) == invites_before + 1


@shares_the_pair
async def test_a_redelivered_save_stores_one_visit(
    shared_pair: Pair, runtime: Runtime, sandbox_client: SandboxClient
) -> None:
    client = sandbox_client
    await client.configure(webhook_retry_delay=0.2)
    # The instances run on the real clock, this test's runtime on the manual one.
    payload = await make_invite(runtime, Role.REP, "north", ttl=timedelta(days=3650))
    await client.add_user(5101, "Wang")
    async with shared_pair.running() as (proxy, _instances):
        await say(client, 5101, f"/start {payload}")
        await add_customer(runtime, "north", "Hangzhou Huafeng", owner_tg=5101)
        await say(client, 5101, "/visit")
        await tap(client, 5101, "Hangzhou Huafeng")
        await tap(client, 5101, "Phone")
        await say(client, 5101, "Wants a quote for the spring order.")
        proxy.lose_next_response = True  # the instance saves, but its answer never arrives
        replies = await tap(client, 5101, "Save")
        deliveries = [d for d in (await client.webhook())["deliveries"] if d["status"] == 502]
        assert len(deliveries) == 1  # Telegram saw a failure and delivered the tap again
        served = proxy.served_by[-2:]
        assert sorted(served) == ["A", "B"]
    visits = await visits_of(runtime, 5101)
    assert len(visits) == 1
    assert sum("Visit saved" in (m.text or "") for m in replies) == 1


@shares_the_pair
async def test_reminders_go_out_once_while_one_instance_is_killed(
    shared_pair: Pair, runtime: Runtime, sandbox_client: SandboxClient
) -> None:
    client = sandbox_client
    chats = [6000 + n for n in range(20)]
    for chat in chats:
        await client.add_user(chat, f"Rep {chat}")
    async with shared_pair.running() as (_proxy, instances):
        texts = []
        async with transaction(runtime.sessions) as session:
            for round_no in range(4):
                for chat in chats:
                    text = f"reminder {round_no} for {chat}"
                    texts.append(text)
                    await outbox.enqueue(
                        session, key=f"kill:{chat}:{round_no}", chat_id=chat,
                        kind="dunning.reminder", text=text, now=runtime.clock.now(),
                    )  # fmt: skip
        # Let one instance start sending, then kill whichever holds the sender role.
        async with asyncio.timeout(30):
            while len(await _delivered(client, chats)) < 15:
                await asyncio.sleep(0.05)
        holder = await _sender_holder(runtime)
        victim = next(i for i in instances if holder.startswith(_host_pid(i)))
        await asyncio.to_thread(stop_instance, victim, signal.SIGKILL)
        async with transaction(runtime.sessions) as session:
            in_flight = (
                await session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENDING)
                )
            ).one()
        async with asyncio.timeout(90):
            while await _pending(runtime) > 0:
                await asyncio.sleep(0.2)
        delivered = Counter(await _delivered(client, chats))
        assert set(delivered) == set(texts)  # nothing lost
        repeated = sum(count - 1 for count in delivered.values())
        # Only a message Telegram accepted in the very moment of the kill may go out again.
        assert repeated <= in_flight


# It waits for the next real minute: the one test of APScheduler firing in a real process.
@pytest.mark.timeout(300)
async def test_weekly_summary_goes_out_once_from_two_instances_and_survives_a_kill(
    runtime: Runtime, sandbox: Sandbox, sandbox_client: SandboxClient, database_url: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Both instances' schedulers fire the summary at the same minute: one claims it. That one
    is killed at once, wherever it is (building, queueing or sending): the survivor's recovery
    pass or sender finishes the job, and the manager and the director get it exactly once."""
    client = sandbox_client
    people = {
        7001: (Role.MANAGER, "north"),
        7002: (Role.REP, "north"),
        7003: (Role.DIRECTOR, None),
    }
    async with transaction(runtime.sessions) as session:
        # The instances run on the real clock: the teams must exist before its "now".
        await session.exec(update(Team).values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    for tg, (role, team) in people.items():
        await client.add_user(tg, f"Person {tg}", language_code="en")
        await _add_user(runtime, tg, role, team)
    at = _next_minute(ZoneInfo("Asia/Shanghai"), lead=timedelta(seconds=20))
    (tmp_path / "config").mkdir()
    config = write_config(tmp_path / "config", _only_weekly_summary(at))
    fast_failover = {
        **FAST_FAILOVER,
        "SALESBOT_SCHEDULER__STALE_RUN_MINUTES": "0.1",
        "SALESBOT_SCHEDULER__RECOVER_EVERY_SECONDS": "1",
    }
    async with two_instances(
        sandbox, config=config, database_url=database_url, workdir=tmp_path,
        extra_env=fast_failover,
    ) as (_proxy, instances):  # fmt: skip
        async with asyncio.timeout(150):
            while (run := await _summary_run(runtime)) is None:
                await asyncio.sleep(0.02)
        claimer = next((i for i in instances if run.instance.startswith(_host_pid(i))), None)
        assert claimer is not None, run.instance
        await asyncio.to_thread(stop_instance, claimer, signal.SIGKILL)
        in_flight = await _count_outbox(runtime, OutboxStatus.SENDING)
        async with asyncio.timeout(90):
            while True:
                run = await _summary_run(runtime)
                assert run is not None
                if run.status == RunStatus.DONE and await _pending(runtime) == 0:
                    break
                await asyncio.sleep(0.2)
    async with transaction(runtime.sessions) as session:
        runs = (await session.exec(select(JobRun).where(JobRun.job == "weekly_summary"))).all()
        rows = (await session.exec(select(OutboxMessage))).all()
    assert len(runs) == 1
    by_chat = Counter(row.chat_id for row in rows)
    # The manager: message, chart and workbook; the director: the roll-up.
    assert by_chat[7001] >= 3 and by_chat[7003] >= 1 and 7002 not in by_chat
    assert all(row.status == OutboxStatus.SENT for row in rows)
    for chat in (7001, 7003):
        received = await client.bot_messages(chat)
        repeated = len(received) - by_chat[chat]
        # Only a message Telegram accepted in the very moment of the kill may go out again.
        assert 0 <= repeated <= in_flight, (chat, [m.kind for m in received])
    kinds = [m.kind for m in await client.bot_messages(7001)]
    assert {"text", "photo", "document"} <= set(kinds), kinds


def _next_minute(zone: ZoneInfo, *, lead: timedelta) -> datetime:
    """The first whole minute at least ``lead`` from now, in ``zone``."""
    moment = datetime.now(zone) + lead + timedelta(minutes=1)
    return moment.replace(second=0, microsecond=0)


def _only_weekly_summary(at: datetime) -> str:
    """Config that runs north's weekly summary at ``at`` (its weekday and time) and no other
    job, for either team."""
    import scheduler.jobs  # noqa: F401  (registers every job)
    from scheduler.registry import JOBS

    lines = ["[scheduler]", "catch_up_days = 1"]
    for team in ("north", "south"):
        for name in JOBS:
            lines.append(f"[teams.{team}.jobs.{name}]")
            if team == "north" and name == "weekly_summary":
                lines.append(f'at = "{at:%a} {at:%H:%M}"'.lower())
            else:
                lines.append("enabled = false")
    return "\n" + "\n".join(lines) + "\n"


async def _add_user(runtime: Runtime, telegram_id: int, role: Role, team: str | None) -> None:
    async with transaction(runtime.sessions) as session:
        team_row = (
            (await session.exec(select(Team).where(Team.key == team))).one() if team else None
        )
        now = runtime.clock.now()
        session.add(
            User(
                telegram_id=telegram_id, display_name=f"Person {telegram_id}", role=role,
                team_id=team_row.id if team_row else None, language="en", created_at=now,
                updated_at=now,
            )
        )  # fmt: skip


async def _summary_run(runtime: Runtime) -> JobRun | None:
    async with transaction(runtime.sessions) as session:
        query = select(JobRun).where(JobRun.job == "weekly_summary")
        return (await session.exec(query)).first()


async def _count(runtime: Runtime, table: type[Any]) -> int:
    async with transaction(runtime.sessions) as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def _count_outbox(runtime: Runtime, status: OutboxStatus) -> int:
    async with transaction(runtime.sessions) as session:
        query = (
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
        )
        return int((await session.exec(query)).one())


def _kind(text: str) -> str:
    if "Telegram id" in text:
        return "me"
    if "What you can do" in text:
        return "help"
    if "Choose your language" in text:
        return "lang"
    if "nothing to cancel" in text or "Cancelled" in text:
        return "cancel"
    if "did not understand" in text:
        return "unknown"
    return text[:20]


def _command(update_id: int, user_id: int, text: str) -> dict[str, object]:
    sender = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 77_001,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Ada"},
            "from": sender,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def _delivered(client: SandboxClient, chats: list[int]) -> list[str]:
    found: list[str] = []
    for chat in chats:
        found.extend(m.text or "" for m in await client.bot_messages(chat))
    return found


async def _pending(runtime: Runtime) -> int:
    async with transaction(runtime.sessions) as session:
        query = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])  # type: ignore[attr-defined]
            )
        )
        return int((await session.exec(query)).one())


async def _sender_holder(runtime: Runtime) -> str:
    from models.outbox import SenderLease

    async with transaction(runtime.sessions) as session:
        lease = (await session.exec(select(SenderLease))).one()
        return lease.holder


def _host_pid(instance: object) -> str:
    import socket

    process = instance.process  # type: ignore[attr-defined]
    return f"{socket.gethostname()[:24]}:{process.pid}:"
