"""`salesbot demo`: a seeded demo company on the local sandbox, played from the terminal.

No token and no network: the sandbox plays Telegram, the real Application answers, and the person
at the keyboard types as any of the demo users and presses buttons by number.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import Runtime, open_runtime
from bot.clock import ManualClock
from bot.db import create_engine, transaction
from bot.harness import Chat, LocalBot
from bot.migrate import upgrade
from bot.sandbox import Sandbox
from bot.sandbox.client import SandboxClient, SandboxMessage
from bot.settings import load_settings
from models.common import Role
from services import invites, plans, teams, users
from services.customer_import import import_customers, read_table
from services.periods import local_today
from services.receivable_import import import_receivables, read_receivables
from services.users import Actor, by_telegram_id

DEMO_CONFIG = """\
# The demo company's configuration (written by `salesbot demo`).
[logging]
level = "WARNING"
[defaults]
timezone = "Asia/Shanghai"
language = "zh"
[teams.north]
name = "North"
[teams.south]
name = "South"
"""


@dataclass(frozen=True)
class DemoUser:
    telegram_id: int
    name: str
    role: Role
    team: str | None
    language: str


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

DEMO_DATA = Path(__file__).parent / "demo_data"
# The owner names used in the back office's sample exports, and the demo reps they stand for:
# each rep gets the name as their employee code, as an admin would with `salesbot user code`.
SAMPLE_OWNERS = {"张三": 900004, "李四": 900005, "王五": 900006, "赵六": 900007, "钱七": 900008}

HELP = """\
Type as the current user; /help shows what they can do. Demo commands:
  1, 2, 3 ...       press that button of the latest message with buttons (a number
                    beyond its buttons is sent as text; :say 2 sends "2" as text)
  :who              list the demo users          :as N | :as NAME   switch user
  :loc LAT LON      share a location             :photo [caption]   send a photo
  Try /visit, /today, /due, /customers, /expense, /collections, /report; as a manager
  (:as 2) /team, /pending, /reports, /summary.
  A customer to check in at: :loc 30.276849 120.160030 (杭州华丰建材股份有限公司)
  :wait 2h | 1d     move the demo clock forward  :quit              leave
"""

TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(TAG.sub("", text))


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


class Terminal:
    """The interactive (or scripted) chat loop."""

    def __init__(self, bot: LocalBot, out: Callable[[str], None] = print) -> None:
        self.bot = bot
        self.out = out
        self.chats: dict[int, Chat] = {}
        self.current = DEMO_USERS[3]
        # The newest message id each person has been shown, so that messages the bot sends by
        # itself (an approval card, a notice) are shown once, when that person is played.
        self.seen: dict[int, int] = {}

    async def chat(self, person: DemoUser | None = None) -> Chat:
        person = person or self.current
        if person.telegram_id not in self.chats:
            first, _, last = person.name.partition(" ")
            self.chats[person.telegram_id] = await self.bot.chat(
                person.telegram_id, first, language_code=person.language, last_name=last
            )
        return self.chats[person.telegram_id]

    async def open_all(self) -> None:
        """Every demo person has the bot open, so messages to them can arrive."""
        for person in DEMO_USERS:
            chat = await self.chat(person)
            messages = await chat.bot_messages()
            self.seen[person.telegram_id] = max((m.message_id for m in messages), default=0)

    async def show_arrived(self) -> None:
        """Messages that reached the current person by themselves since they last looked."""
        await self.bot.drain_outbox()
        chat = await self.chat()
        seen = self.seen.get(chat.user_id, 0)
        arrived = [m for m in await chat.bot_messages() if m.message_id > seen]
        if arrived:
            self.out("📨 " + (f"{len(arrived)} new" if len(arrived) > 1 else "new"))
            self.show(arrived)

    def prompt(self) -> str:
        person = self.current
        team = f", {person.team}" if person.team else ""
        return f"[{person.name} · {person.role.value}{team}] > "

    def show(self, messages: list[SandboxMessage]) -> None:
        for message in messages:
            seen = self.seen.get(message.chat_id, 0)
            self.seen[message.chat_id] = max(seen, message.message_id)
            self.out("🤖 " + plain(message.text or message.caption or f"({message.kind})"))
            number = 1
            for row in message.buttons:
                labels = []
                for button in row:
                    labels.append(f"[{number}] {button.text}")
                    number += 1
                self.out("     " + "   ".join(labels))

    async def handle(self, line: str) -> bool:
        """Act on one input line; False when the person wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line in (":quit", ":q", ":exit"):
            return False
        if line in (":help", "?"):
            self.out(HELP)
            return True
        if line == ":who":
            for index, person in enumerate(DEMO_USERS, start=1):
                marker = "*" if person == self.current else " "
                team = person.team or "all teams"
                self.out(f" {marker}{index}. {person.name} — {person.role.value}, {team}")
            return True
        if line.startswith(":as "):
            self.switch(line[4:].strip())
            await self.show_arrived()
            return True
        if line.startswith(":wait "):
            await self.wait(line[6:].strip())
            await self.show_arrived()
            return True
        chat = await self.chat()
        if line.startswith(":say "):
            self.show(await chat.send(line[5:]))
        elif line.isdigit() and await self.pressable(chat, int(line)):
            self.show(await self.press(chat, int(line)))
        elif line.startswith(":loc "):
            lat, lon = (float(x) for x in line[5:].split()[:2])
            self.show(await chat.share_location(lat, lon, accuracy=15.0, live=True))
        elif line.startswith(":photo"):
            self.show(await chat.send_photo(caption=line[6:].strip() or None))
        else:
            self.show(await chat.send(line))
        await self.show_arrived()
        return True

    def switch(self, who: str) -> None:
        chosen = None
        if who.isdigit() and 1 <= int(who) <= len(DEMO_USERS):
            chosen = DEMO_USERS[int(who) - 1]
        else:
            matches = [p for p in DEMO_USERS if who.lower() in p.name.lower()]
            chosen = matches[0] if len(matches) == 1 else None
        if chosen is None:
            self.out("No such demo user; :who lists them.")
            return
        self.current = chosen
        self.out(f"You are now {chosen.name} ({chosen.role.value}).")

    async def wait(self, amount: str) -> None:
        match = re.fullmatch(r"(\d+)\s*([mhd])", amount)
        if not match or not isinstance(self.bot.runtime.clock, ManualClock):
            self.out("Say how long, e.g. :wait 30m, :wait 2h or :wait 1d.")
            return
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        await self.bot.runtime.clock.advance(timedelta(**{unit: int(match.group(1))}))
        self.out(f"⏩ The demo clock is now {self.bot.runtime.clock.now():%Y-%m-%d %H:%M} UTC.")

    async def pressable(self, chat: Chat, number: int) -> bool:
        """Whether the latest message with buttons has a button ``number``; otherwise a typed
        number is an answer (an amount, a quantity) and goes to the bot as text."""
        messages = [m for m in await chat.bot_messages() if m.buttons]
        if not messages:
            return False
        return 1 <= number <= sum(len(row) for row in messages[-1].buttons)

    async def press(self, chat: Chat, number: int) -> list[SandboxMessage]:
        messages = [m for m in await chat.bot_messages() if m.buttons]
        if not messages:
            self.out("There are no buttons to press.")
            return []
        latest = messages[-1]
        flat = [button for row in latest.buttons for button in row]
        if not 1 <= number <= len(flat):
            self.out(f"Press a number from 1 to {len(flat)}.")
            return []
        before = latest.text
        replies = await chat.tap(flat[number - 1].text, message_id=latest.message_id)
        edited = next(m for m in await chat.bot_messages() if m.message_id == latest.message_id)
        if edited.text != before:
            self.out("✎ " + plain(edited.text or ""))
        return replies


async def run_demo(
    script: list[str] | None = None,
    data_dir: Path | None = None,
    out: Callable[[str], None] = print,
) -> None:
    """Start sandbox + bot on a fresh demo database and chat until :quit or end of input."""
    with tempfile.TemporaryDirectory(prefix="salesbot-demo-") as scratch:
        folder = data_dir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "config.toml"
        config.write_text(DEMO_CONFIG, encoding="utf-8")
        db_file = folder / "demo.db"
        db_file.unlink(missing_ok=True)
        settings = load_settings(config, database={"url": f"sqlite+aiosqlite:///{db_file}"})
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        await engine.dispose()
        runtime = await open_runtime(settings, clock=ManualClock(datetime.now(UTC)))
        try:
            await seed(runtime)
            with Sandbox() as sandbox:
                async with SandboxClient(sandbox.control_url) as client:
                    bot = LocalBot(runtime=runtime, sandbox=sandbox, client=client)
                    await bot.start()
                    try:
                        terminal = Terminal(bot, out)
                        await terminal.open_all()
                        await _chat_loop(terminal, script, out)
                    finally:
                        await bot.stop()
        finally:
            await runtime.close()


async def _chat_loop(
    terminal: Terminal, script: list[str] | None, out: Callable[[str], None]
) -> None:
    out(
        "salesbot demo — a sales company with 2 teams, 2 managers, 5 reps and a director, "
        "and 40 customers."
    )
    out(HELP)
    interactive = script is None and sys.stdin.isatty()
    lines = iter(script) if script is not None else None
    while True:
        if lines is not None:
            line = next(lines, None)
            if line is None:
                return
            out(terminal.prompt() + line)
        elif interactive:
            try:
                line = await asyncio.to_thread(input, terminal.prompt())
            except EOFError:
                return
        else:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            out(terminal.prompt() + line.rstrip())
        if not await terminal.handle(line):
            return
