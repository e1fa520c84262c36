"""The demo's chat loop: one person at a time types, taps buttons by number and sends media.

Nothing a person types or taps may end the demo: what Telegram would refuse (the sandbox says
so with a ``SandboxError``) is shown as one line, and anything unexpected is shown as one line
too, its traceback kept in the demo's error log.
"""

from __future__ import annotations

import html
import logging
import mimetypes
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.clock import ManualClock
from core.db import transaction
from core.i18n import language_from_telegram
from models.common import Role
from sandbox.client import InlineButton, SandboxError, SandboxMessage
from sandbox.harness import Chat, LocalBot
from sandbox.media import ogg_opus_silence
from services.users import by_telegram_id

log = logging.getLogger(__name__)

DEMO_DATA = Path(__file__).parent / "demo_data"
SAMPLE_PHOTO = DEMO_DATA / "shelf.jpg"
# Drawn with Pillow (a Chinese card, slightly rotated, JPEG) for the card reader to scan.
SAMPLE_CARD = DEMO_DATA / "business_card.jpg"
SAMPLE_DOCUMENT = DEMO_DATA / "customers.csv"
TAG = re.compile(r"<[^>]+>")
DEMO_COMMAND = re.compile(r":[a-z]+")
MAX_VOICE_SECONDS = 60


def plain(text: str) -> str:
    return html.unescape(TAG.sub("", text))


@dataclass(frozen=True)
class DemoUser:
    telegram_id: int
    name: str
    role: Role
    team: str | None
    language: str


@dataclass(frozen=True)
class Shown:
    """What the person last saw of a bot message: an edit that changes neither (a repeat of the
    same text and keyboard) is not shown again."""

    text: str
    buttons: tuple[str, ...]


def _image_suffix(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    return ".bin"


def _document_path(given: str) -> Path | None:
    """The file a person named (``~`` allowed), or the shipped sample CSV; None if missing."""
    path = Path(given).expanduser() if given else SAMPLE_DOCUMENT
    return path if path.is_file() else None


class Terminal:
    """Plays the demo's people; ``handle`` acts on one input line."""

    def __init__(
        self,
        bot: LocalBot,
        people: tuple[DemoUser, ...],
        files: Path,
        errors: Path,
        out: Callable[[str], None] = print,
        current: DemoUser | None = None,
    ) -> None:
        self.bot = bot
        self.people = people
        self.files = files
        self.errors = errors
        self.out = out
        self.current = current or people[0]
        self.language = self._telegram_language(self.current)
        self.failures = 0
        self.chats: dict[int, Chat] = {}
        # The newest message id each person has been shown, so that messages the bot sends by
        # itself (an approval card, a notice) are shown once, when that person is played.
        self.seen: dict[int, int] = {}
        self.shown: dict[int, Shown] = {}
        # Per chat, the message whose buttons were shown last: numbers press its buttons.
        self.keyboard: dict[int, int] = {}

    # -- texts ---------------------------------------------------------------------

    def t(self, key: str, /, **params: Any) -> str:
        return self.bot.runtime.texts.t(self.language, key, **params)

    def say(self, key: str, /, **params: Any) -> None:
        self.out(self.t(key, **params))

    def _telegram_language(self, person: DemoUser) -> str:
        return language_from_telegram(
            person.language, fallback=self.bot.runtime.settings.default_language
        )

    async def follow_language(self) -> None:
        """Speak as the bot speaks to the person played: their choice (/lang), else their
        Telegram client's language, else the configured default."""
        async with transaction(self.bot.runtime.sessions) as session:
            user = await by_telegram_id(session, self.current.telegram_id)
        chosen = user.language if user is not None else None
        self.language = chosen or self._telegram_language(self.current)

    def prompt(self) -> str:
        person = self.current
        team = f", {person.team}" if person.team else ""
        return f"[{person.name} · {self.t(f'roles.{person.role.value}')}{team}] > "

    def clock(self) -> str:
        settings = self.bot.runtime.settings
        zone = settings.team(self.current.team or "").timezone
        now = self.bot.runtime.clock.now().astimezone(settings.team(self.current.team or "").tz)
        return f"{now:%Y-%m-%d %H:%M} ({zone})"

    # -- chats ---------------------------------------------------------------------

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
        for person in self.people:
            chat = await self.chat(person)
            messages = await chat.bot_messages()
            self.seen[person.telegram_id] = max((m.message_id for m in messages), default=0)
            for message in messages:
                self.shown[message.message_id] = self._state(message)
        await self.follow_language()

    async def refresh(self, *, arrived: bool = False) -> None:
        """Show what changed in the current chat: edited messages with their new text and
        buttons, then new messages (``arrived``: they came by themselves, not as an answer)."""
        await self.bot.drain_outbox()
        chat = await self.chat()
        seen = self.seen.get(chat.user_id, 0)
        messages = [m for m in await chat.bot_messages() if not m.deleted]
        edited: list[SandboxMessage] = []
        new: list[SandboxMessage] = []
        for message in messages:
            if message.message_id > seen:
                new.append(message)
            elif message.message_id in self.shown and self._state(message) != self.shown.get(
                message.message_id
            ):
                edited.append(message)
        if arrived and new:
            self.say("demo.arrived", count=len(new))
        for message in edited:
            await self.show(message, prefix="✎ ")
        for message in new:
            await self.show(message)
        await self.follow_language()

    @staticmethod
    def _state(message: SandboxMessage) -> Shown:
        return Shown(message.text or message.caption or "", tuple(message.button_texts()))

    async def show(self, message: SandboxMessage, prefix: str = "🤖 ") -> None:
        self.seen[message.chat_id] = max(self.seen.get(message.chat_id, 0), message.message_id)
        self.shown[message.message_id] = self._state(message)
        self.out(prefix + self._describe(message))
        if message.file is not None and prefix == "🤖 ":
            await self._save(message)
        number = 1
        for row in message.buttons:
            labels = []
            for button in row:
                labels.append(f"[{number}] {button.text}")
                number += 1
            self.out("     " + "   ".join(labels))
        if message.buttons:
            self.keyboard[message.chat_id] = message.message_id
        elif self.keyboard.get(message.chat_id) == message.message_id:
            del self.keyboard[message.chat_id]

    def _describe(self, message: SandboxMessage) -> str:
        body = plain(message.text or message.caption or "")
        if message.kind == "text":
            return body
        if message.location is not None:
            where = f"📍 {message.location['latitude']:.6f}, {message.location['longitude']:.6f}"
            return f"{where} {body}".rstrip()
        name = (message.file or {}).get("file_name")
        icon = {"photo": "🖼", "document": "📄", "voice": "🎤"}.get(message.kind, "📦")
        label = f"{icon} {name}" if name else f"{icon} ({message.kind})"
        return f"{label} {body}".rstrip()

    async def _save(self, message: SandboxMessage) -> None:
        """Keep a photo or file the bot sent in the demo's files folder, and say where."""
        assert message.file is not None
        data = await self.bot.client.file_bytes(str(message.file["file_id"]))
        given = message.file.get("file_name")
        name = Path(given).name if given else f"{message.kind}-{message.message_id}"
        if not Path(name).suffix:
            name += _image_suffix(data)
        target = self.files / name
        if target.exists():
            target = self.files / f"{target.stem}-{message.message_id}{target.suffix}"
        self.files.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.say("demo.saved", path=str(target))

    # -- input ---------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Act on one input line; False when the person wants to leave. Never raises for
        anything a person can type."""
        try:
            return await self._handle(line.strip())
        except SandboxError as exc:
            # The fake Telegram refused what the real one would refuse: say so and go on.
            self.say("demo.refused", reason=exc.message)
        except Exception as exc:
            # The demo must outlive any one line; the traceback goes to the log, not the screen.
            self.failures += 1
            with self.errors.open("a", encoding="utf-8") as log_file:
                log_file.write(f"--- {line[:200]!r}\n{traceback.format_exc()}\n")
            self.say("demo.failed", error=f"{type(exc).__name__}: {exc}"[:300],
                     log=str(self.errors))  # fmt: skip
        try:
            await self.refresh()
        except Exception:
            log.debug("refresh after a failed line", exc_info=True)
        return True

    async def _handle(self, line: str) -> bool:
        if not line:
            return True
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        if command in (":quit", ":q", ":exit"):
            return False
        if command in (":help", "?"):
            self.say("demo.help")
            return True
        if command == ":who":
            self.who()
            return True
        if command == ":as":
            await self.switch(rest)
            await self.refresh(arrived=True)
            return True
        if command == ":wait":
            await self.wait(rest)
            await self.refresh(arrived=True)
            return True
        chat = await self.chat()
        acts: dict[str, Callable[[Chat, str], Any]] = {
            ":say": self._say,
            ":loc": self._location,
            ":photo": self._photo,
            ":card": self._card,
            ":voice": self._voice,
            ":doc": self._document,
            ":contact": self._contact,
        }
        if command in acts:
            await acts[command](chat, rest)
        elif DEMO_COMMAND.fullmatch(command):
            self.say("demo.unknown_command", command=command)
            return True
        elif line.isdigit() and await self.keyboard_of(chat, int(line)) is not None:
            await self.press(chat, int(line))
        else:
            await chat.send(line)
        await self.refresh()
        return True

    def who(self) -> None:
        for index, person in enumerate(self.people, start=1):
            marker = "*" if person == self.current else " "
            team = person.team or self.t("demo.all_teams")
            role = self.t(f"roles.{person.role.value}")
            self.out(f" {marker}{index}. {person.name} — {role}, {team}")

    async def switch(self, who: str) -> None:
        chosen = None
        if who.isdigit() and 1 <= int(who) <= len(self.people):
            chosen = self.people[int(who) - 1]
        elif who:
            matches = [p for p in self.people if who.lower() in p.name.lower()]
            chosen = matches[0] if len(matches) == 1 else None
        if chosen is None:
            self.say("demo.no_such_user")
            return
        self.current = chosen
        await self.follow_language()
        self.say("demo.now_playing", name=chosen.name, role=self.t(f"roles.{chosen.role.value}"))

    async def wait(self, amount: str) -> None:
        match = re.fullmatch(r"(\d{1,4})\s*([mhd])", amount)
        clock = self.bot.runtime.clock
        if not match or not isinstance(clock, ManualClock):
            self.say("demo.wait_usage")
            return
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        await clock.advance(timedelta(**{unit: int(match.group(1))}))
        self.say("demo.clock", now=self.clock())

    # -- acts ----------------------------------------------------------------------

    async def _say(self, chat: Chat, text: str) -> None:
        await chat.send(text)

    async def _location(self, chat: Chat, rest: str) -> None:
        try:
            latitude, longitude = (float(x) for x in rest.replace(",", " ").split())
        except ValueError:
            self.say("demo.loc_usage")
            return
        await chat.share_location(latitude, longitude, accuracy=15.0, live=True)

    async def _photo(self, chat: Chat, caption: str) -> None:
        await chat.send_photo(caption=caption or None, content=SAMPLE_PHOTO.read_bytes())

    async def _card(self, chat: Chat, _rest: str) -> None:
        await chat.send_photo(content=SAMPLE_CARD.read_bytes())

    async def _voice(self, chat: Chat, rest: str) -> None:
        seconds = int(rest) if rest.isdigit() else 3
        seconds = max(1, min(seconds, MAX_VOICE_SECONDS))
        await chat.send_voice(seconds, content=ogg_opus_silence(seconds))

    async def _document(self, chat: Chat, rest: str) -> None:
        path = _document_path(rest)
        if path is None:
            self.say("demo.no_file", path=rest)
            return
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        await chat.send_document(path.name, path.read_bytes(), mime)

    async def _contact(self, chat: Chat, rest: str) -> None:
        name, _, phone = rest.rpartition(" ")
        if not name.strip() or not re.fullmatch(r"\+?[\d\-() ]{3,20}", phone):
            self.say("demo.contact_usage")
            return
        await chat.send_contact(phone, name.strip(), own=False)

    # -- buttons -------------------------------------------------------------------

    async def keyboard_of(self, chat: Chat, number: int) -> SandboxMessage | None:
        """The message whose button ``number`` a typed number presses: the one whose buttons
        were shown last, else the newest with buttons. None when it has no such button, so the
        number is an answer (an amount, a quantity) and goes to the bot as text."""
        messages = [m for m in await chat.bot_messages() if m.buttons and not m.deleted]
        chosen = next(
            (m for m in messages if m.message_id == self.keyboard.get(chat.user_id)),
            messages[-1] if messages else None,
        )
        if chosen is None or not 1 <= number <= len(chosen.button_texts()):
            return None
        return chosen

    async def press(self, chat: Chat, number: int) -> None:
        message = await self.keyboard_of(chat, number)
        assert message is not None
        button = [b for row in message.buttons for b in row][number - 1]
        if button.callback_data is None:
            self.out(self._elsewhere(button))
            return
        await chat.press(message.message_id, number)

    def _elsewhere(self, button: InlineButton) -> str:
        """What a button that sends no callback does in the Telegram app."""
        raw = button.raw
        inline = next(
            (raw[k] for k in ("switch_inline_query_current_chat", "switch_inline_query",
                              "switch_inline_query_chosen_chat") if k in raw),
            None,
        )  # fmt: skip
        if inline is not None:
            query = inline if isinstance(inline, str) else str(inline.get("query", ""))
            bot = self.bot.app.bot.username if self.bot.app is not None else "bot"
            return self.t("demo.button_inline", bot=bot, query=query)
        if button.url:
            return self.t("demo.button_url", url=button.url)
        kinds = [k for k in raw if k != "text"]
        return self.t("demo.button_other", kind=", ".join(kinds) or "?")
