"""`salesbot demo`: a seeded demo company on the local sandbox, played from the terminal.

No token and no network: the sandbox plays Telegram, the real Application answers, and the person
at the keyboard types as any of the demo users and presses buttons by number.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import Runtime, open_runtime
from bot.migrate import upgrade
from core.clock import ManualClock
from core.db import create_engine, transaction
from core.periods import local_today
from core.settings import load_settings
from models.common import Role
from sandbox import Sandbox
from sandbox.client import SandboxClient
from sandbox.demo_terminal import DEMO_DATA, DemoUser, Terminal
from sandbox.harness import LocalBot
from services import invites, plans, teams, users
from services.customer_import import import_customers, read_table
from services.receivable_import import import_receivables, read_receivables
from services.users import Actor, by_telegram_id

DEMO_CONFIG = """\
# The demo company's configuration (written by `salesbot demo`).
[logging]
level = "WARNING"
[limits]
# A script plays a person far faster than thumbs can: the per-person rate limit would drop it.
burst = 100000
[defaults]
timezone = "Asia/Shanghai"
language = "zh"
[teams.north]
name = "North"
[teams.south]
name = "South"
"""


DEMO_USERS = (
    DemoUser(900001, "Zhou Min", Role.DIRECTOR, None, "zh"),
    DemoUser(900002, "Chen Jing", Role.MANAGER, "north", "zh"),
    DemoUser(900003, "Liu Yang", Role.MANAGER, "south", "en"),
    DemoUser(900004, "Wang Wei", Role.REP, "north", "zh"),
    DemoUser(900005, "Li Na", Role.REP, "north", "en"),
    DemoUser(900006, "Zhang Lei", Role.REP, "north", "zh"),
    DemoUser(900007, "Zhao Hui", Role.REP, "south", "en"),
    DemoUser(900008, "Sun Li", Role.REP, "south", "zh"),
)

# The owner names used in the back office's sample exports, and the demo reps they stand for:
# each rep gets the name as their employee code, as an admin would with `salesbot user code`.
SAMPLE_OWNERS = {"张三": 900004, "李四": 900005, "王五": 900006, "赵六": 900007, "钱七": 900008}

DEMO_CUSTOMERS = DEMO_DATA / "customers.csv"


async def seed(runtime: Runtime) -> None:
    """Register the demo company through the real invite path, import its customers and plan
    each rep's day with a few customers that are due."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        for person in DEMO_USERS:
            team = await teams.find_team(session, person.team) if person.team else None
            created = await invites.create_invite(
                session, actor=None, role=person.role, team_id=team.id if team else None,
                now=now, ttl=timedelta(hours=1),
            )  # fmt: skip
            await invites.redeem(
                session, payload=created.deep_link_payload, telegram_id=person.telegram_id,
                display_name=person.name, username=None, language=person.language, now=now,
            )  # fmt: skip
        for code, telegram_id in SAMPLE_OWNERS.items():
            user = await by_telegram_id(session, telegram_id)
            assert user is not None and user.id is not None
            await users.set_employee_code(
                session, actor=None, target_id=user.id, code=code, now=now
            )
    await seed_customers(runtime)
    await seed_collections(runtime)


async def seed_customers(runtime: Runtime) -> None:
    """The sample export (its bad rows are skipped), owners mapped onto the demo reps."""
    # Imported a quarter ago, so that the /due list and the plan have something to show.
    imported_at = runtime.clock.now() - timedelta(days=35)
    async with transaction(runtime.sessions) as session:
        await import_customers(session, read_table(DEMO_CUSTOMERS), team_id=None, now=imported_at)
        for telegram_id in SAMPLE_OWNERS.values():
            user = await by_telegram_id(session, telegram_id)
            if user is None:
                continue
            actor = Actor.of(user)
            rules = runtime.settings.team(
                next(p.team for p in DEMO_USERS if p.telegram_id == telegram_id) or ""
            )
            today = local_today(runtime.clock.now(), rules.timezone)
            due = await plans.due_customers(session, actor, today, rules, limit=2)
            await plans.plan_visits(
                session, actor=actor, day=today, customer_ids=[d.customer.id or 0 for d in due],
                purpose=None, today=today, now=runtime.clock.now(),
            )  # fmt: skip


async def seed_collections(runtime: Runtime) -> None:
    """Customers and their receivables from the back office's sample exports (the files' bad
    rows are skipped, as a real import would); running it again changes nothing."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        await import_customers(session, read_table(DEMO_CUSTOMERS), team_id=None, now=now)
        await session.flush()
        await import_receivables(
            session, read_receivables(DEMO_DATA / "receivables.csv"),
            settings=runtime.settings, team_id=None, now=now,
        )  # fmt: skip


async def run_demo(
    script: list[str] | None = None,
    data_dir: Path | None = None,
    out: Callable[[str], None] = print,
    files_dir: Path | None = None,
    start: datetime | None = None,
) -> None:
    """Start sandbox + bot on a fresh demo database and chat until :quit or end of input.

    The database lives in ``data_dir`` (default: a temporary folder, removed at the end unless
    something went wrong, so that it can be looked at); photos and files the bot sends are
    saved in ``files_dir`` (default: ``data_dir``/files, else a new folder that is kept). The
    demo clock starts at ``start`` (default: now) and moves only with ``:wait``."""
    scratch = None if data_dir else Path(tempfile.mkdtemp(prefix="salesbot-demo-"))
    folder = data_dir or scratch
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    if files_dir is None:
        files_dir = (
            folder / "files" if data_dir else Path(tempfile.mkdtemp(prefix="salesbot-demo-files-"))
        )
    files_dir.mkdir(parents=True, exist_ok=True)
    clean = False
    try:
        clean = await _play(folder, files_dir, script, out, start or datetime.now(UTC))
    finally:
        if scratch is not None and clean:
            shutil.rmtree(scratch, ignore_errors=True)
        elif scratch is not None:
            out(f"The demo's database and error log are kept in {scratch}")


async def _play(
    folder: Path,
    files_dir: Path,
    script: list[str] | None,
    out: Callable[[str], None],
    start: datetime,
) -> bool:
    """Seed and play; True when nothing unexpected happened on the way."""
    config = folder / "config.toml"
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    db_file = folder / "demo.db"
    db_file.unlink(missing_ok=True)
    settings = load_settings(config, database={"url": f"sqlite+aiosqlite:///{db_file}"})
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    await engine.dispose()
    runtime = await open_runtime(settings, clock=ManualClock(start))
    try:
        await seed(runtime)
        with Sandbox() as sandbox:
            async with SandboxClient(sandbox.control_url) as client:
                bot = LocalBot(runtime=runtime, sandbox=sandbox, client=client)
                await bot.start()
                try:
                    terminal = Terminal(
                        bot, DEMO_USERS, files=files_dir, errors=folder / "demo-errors.log",
                        out=out, current=DEMO_USERS[3],  # Wang Wei, a rep
                    )  # fmt: skip
                    await terminal.open_all()
                    await _chat_loop(terminal, script, out)
                    return terminal.failures == 0
                finally:
                    await bot.stop()
    finally:
        await runtime.close()


async def _chat_loop(
    terminal: Terminal, script: list[str] | None, out: Callable[[str], None]
) -> None:
    terminal.say("demo.intro", now=terminal.clock(), files=str(terminal.files))
    terminal.say("demo.help")
    interactive = script is None and sys.stdin.isatty()
    lines = iter(script) if script is not None else None
    while True:
        if lines is not None:
            line = next(lines, None)
            if line is None:
                return
            out(terminal.prompt() + _echo(line))
        elif interactive:
            try:
                line = await asyncio.to_thread(input, terminal.prompt())
            except EOFError:
                return
        else:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            out(terminal.prompt() + _echo(line.rstrip()))
        if not await terminal.handle(line):
            return


def _echo(line: str, limit: int = 200) -> str:
    """A line read from a script or a pipe, as the prompt shows it: a very long one cut short."""
    if len(line) <= limit:
        return line
    return f"{line[:limit]}… ({len(line)} characters)"
