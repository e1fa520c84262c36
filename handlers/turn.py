"""One update, one unit of work: who is asking, one database transaction, then the replies.

Replies are collected while the transaction runs and sent only after it committed, so the user is
never told "done" about a change that was rolled back.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from core import metrics
from core.db import transaction, writer_turn
from core.errors import UserFacingError
from core.i18n import person_language
from core.periods import format_day
from core.settings import Settings
from handlers.context import Ctx, Deps
from handlers.error_text import escaped_params, plural_count
from handlers.replies import Button, Keyboard, Reply, deliver
from handlers.retry import GaveUp, RetryPolicy
from models.common import Role
from models.user import User
from services import outbox, team_context, updates, users
from services.notices import Render
from services.team_context import TeamContext
from services.users import Actor

log = logging.getLogger(__name__)

TurnFn = Callable[["Turn"], Awaitable[None]]
PtbHandler = Callable[[Update, Ctx], Coroutine[Any, Any, None]]
ALL_ROLES = frozenset(Role)


class Turn:
    """The context of handling one update on behalf of one person."""

    def __init__(
        self, update: Update, ctx: Ctx, session: AsyncSession, user: User | None, lang: str
    ) -> None:
        self.update = update
        self.ctx = ctx
        self.session = session
        self.user = user
        self.lang = lang
        self.replies: list[Reply] = []
        self.after_commit: list[Callable[[], Awaitable[None]]] = []
        self._teams: dict[int, TeamContext] = {}

    @property
    def deps(self) -> Deps:
        return self.ctx.deps

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise RuntimeError("this turn has no registered sender")
        return Actor.of(self.user)

    @property
    def now(self) -> datetime:
        return self.deps.clock.now()

    @property
    def chat_id(self) -> int:
        chat = self.update.effective_chat
        if chat is not None:
            return chat.id
        sender = self.update.effective_user
        assert sender is not None
        return sender.id

    @property
    def text(self) -> str:
        message = self.update.effective_message
        return (message.text or "") if message else ""

    def t(self, key: str, /, **params: Any) -> str:
        return self.deps.texts.t(self.lang, key, **_dates_shown(params, self.lang))

    def tn(self, key: str, count: float | None, /, **params: Any) -> str:
        return self.deps.texts.tn(self.lang, key, count, **_dates_shown(params, self.lang))

    def say(self, text: str, buttons: Keyboard | None = None, **options: Any) -> None:
        self.replies.append(Reply(text=text, buttons=buttons, **options))

    def say_key(self, key: str, /, buttons: Keyboard | None = None, **params: Any) -> None:
        self.say(self.t(key, **params), buttons)

    def edit(self, message_id: int, text: str, buttons: Keyboard | None = None) -> None:
        self.replies.append(Reply(text=text, buttons=buttons, edit_message_id=message_id))

    def delete(self, message_id: int) -> None:
        self.replies.append(Reply(text="", delete_message_id=message_id))

    @property
    def render(self) -> Render:
        """The views layer as services take it, to queue messages to other people."""
        return self.deps.render

    async def team(self, team_id: int | None = None) -> TeamContext:
        """The context of ``team_id`` (default: the sender's team), resolved once per update."""
        wanted = team_id if team_id is not None else self.actor.team_id
        if wanted is None:
            raise UserFacingError("errors.team_not_found")
        found = self._teams.get(wanted)
        if found is None:
            found = await team_context.resolve(self.session, self.deps.settings, wanted, self.now)
            self._teams[wanted] = found
        return found

    def button(self, key: str, data: str) -> Button:
        return Button(self.t(key), data=data)


async def after_reply(deps: Deps, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Work a reply's ``on_sent`` does once Telegram accepted it (keeping the message for later
    edits): a transaction of its own, as the turn's committed already; the outbox sender is
    woken when the work queued messages."""
    async with writer_turn(deps.sessions), transaction(deps.sessions) as session:
        await work(session)
        queued = outbox.wrote_messages(session)
    if queued and deps.sender is not None:
        deps.sender.wake()


def sender_name(update: Update) -> tuple[str, str | None]:
    sender = update.effective_user
    assert sender is not None
    return sender.full_name[:128] or str(sender.id), sender.username


async def _load_sender(
    session: AsyncSession, update: Update, deps: Deps, fingerprint: str | None
) -> User | None:
    sender = update.effective_user
    assert sender is not None
    cache = deps.extras.setdefault("sender_cache", users.SenderCache())
    user = await cache.sender(session, sender.id, fingerprint)
    name, username = sender_name(update)
    now = deps.clock.now()
    if sender.id in deps.settings.access.admins and (
        user is None or user.role != Role.ADMIN or not user.active
    ):
        return await users.register_config_admin(
            session,
            telegram_id=sender.id,
            display_name=name,
            username=username,
            language=language_of(deps.settings, update, user),
            now=now,
        )
    if user is not None and user.active:
        await users.refresh_profile(session, user, display_name=name, username=username, now=now)
    return user


def language_of(settings: Settings, update: Update, user: User | None) -> str:
    """The language to answer the sender of ``update`` in, by the one rule of
    ``core.i18n.person_language``: their choice, their client's language, the configured
    default."""
    sender = update.effective_user
    return person_language(
        chosen=user.language if user is not None else None,
        client_code=sender.language_code if sender is not None else None,
        default=settings.language_default(),
    )


async def language_for(deps: Deps, update: Update) -> str:
    """``language_of`` the sender, reading their stored choice outside any turn."""
    sender = update.effective_user
    user = None
    if sender is not None:
        try:
            async with deps.sessions() as session:
                user = await users.by_telegram_id(session, sender.id)
        except Exception:
            log.warning("could not read the language of %s; using the rule's fallbacks", sender.id)
    return language_of(deps.settings, update, user)


async def send_replies(
    ctx: Ctx, update: Update, replies: list[Reply], *, first_out: Callable[[], None] | None = None
) -> None:
    """Deliver a committed turn's replies in order, each retried by the one retry policy;
    ``first_out`` is called once the first one is out (delivered or given up).

    The work is committed, so a reply that cannot be delivered is logged, never replaced by an
    apology (which would say that nothing was saved). Replies after one that ran out of time
    are not tried: the deadline bounds how long the person's next updates wait behind them.
    """
    policy = RetryPolicy(ctx.deps.settings.delivery)
    deadline = policy.reply_deadline()
    chat_id = _chat_id(update)
    for index, reply in enumerate(replies):
        if time.monotonic() >= deadline:
            log.error(
                "update %s: reply %s of %s not sent, out of time", update.update_id, index + 1,
                len(replies),
            )  # fmt: skip
            continue
        try:
            message_id = await deliver(ctx.bot, chat_id, reply, policy, deadline)
            if first_out is not None:
                first_out()
                first_out = None
        except Exception as exc:
            log.error(
                "update %s: reply %s of %s to chat %s not delivered: %s", update.update_id,
                index + 1, len(replies), reply.chat_id or chat_id, exc,
                exc_info=not isinstance(exc, GaveUp | TelegramError),
            )  # fmt: skip
            if isinstance(exc, Forbidden) and (reply.chat_id or chat_id) == chat_id:
                return  # blocked by the person: the other replies cannot arrive either
            continue
        if reply.on_sent is not None and message_id is not None:
            try:
                await reply.on_sent(message_id)
            except Exception:
                # The reply is out and the turn committed; the message just stays as sent.
                log.exception("update %s: keeping reply %s failed", update.update_id, index + 1)


async def answer_callback(update: Update) -> None:
    """Stop the button's spinner first thing; a late or repeated answer is harmless."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer()
    except BadRequest as exc:
        log.debug("callback answer refused: %s", exc.message)
    except TelegramError as exc:
        # Only the spinner: Telegram stops it by itself; the turn's replies must still go out.
        log.info("callback of update %s not answered: %s", update.update_id, exc)


# How long a button's spinner may turn before it is stopped ahead of the turn's reply.
SPINNER_GRACE_SECONDS = 0.15


@dataclass
class ResponseCall:
    """The one Bot API call a webhook's HTTP response may carry: Telegram runs it when it reads
    the response, and returns no result. The webhook endpoint offers one per update
    (``response_call``); a quick turn stops its button's spinner there, a call saved."""

    body: dict[str, Any] | None = None

    def carry(self, method: str, **params: Any) -> bool:
        if self.body is not None:
            return False
        self.body = {"method": method, **params}
        return True


response_call: ContextVar[ResponseCall | None] = ContextVar("response_call", default=None)


class _Spinner:
    """The spinner of a tapped button. On a webhook, a turn that ends within
    ``SPINNER_GRACE_SECONDS`` stops it in the webhook's response, which Telegram reads right
    after the turn's replies. With long polling the callback is answered right after the turn's
    first reply: the person sees the answer and the spinner stop together, and a quick turn's
    reply does not wait behind the answer's round trip. A turn that takes longer than the grace
    (or sends nothing) has it answered then, ahead of its reply."""

    def __init__(self, ctx: Ctx, update: Update) -> None:
        self._ctx, self._update = ctx, update
        self._task: asyncio.Task[None] | None = None
        self._carried = False
        self._response = response_call.get()
        self._timer = asyncio.get_running_loop().call_later(SPINNER_GRACE_SECONDS, self.stop)

    @property
    def first_out(self) -> Callable[[], None] | None:
        """What to do once the first reply is out: nothing when the response will carry it."""
        return None if self._response is not None else self.stop

    def stop(self) -> None:
        if self._task is None and not self._carried:
            self._timer.cancel()
            self._task = self._ctx.application.create_task(answer_callback(self._update))

    async def stopped(self, *, may_carry: bool = True) -> None:
        """Stop the spinner by now; ``may_carry`` is False when work follows the replies (the
        response, and so the answer, would wait for it)."""
        query, response = self._update.callback_query, self._response
        waiting = self._task is None and not self._carried
        if waiting and may_carry and response is not None and query is not None:
            self._timer.cancel()
            self._carried = response.carry("answerCallbackQuery", callback_query_id=query.id)
        self.stop()
        if self._task is not None:
            await self._task


@dataclass
class _Outcome:
    replies: list[Reply] = field(default_factory=list)
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    queued: bool = False
    # Rolled back on an unexpected error (the apology is its reply).
    failed: bool = False


def turn_handler(
    *, roles: Collection[Role] = ALL_ROLES, registered: bool = True
) -> Callable[[TurnFn], PtbHandler]:
    """Wrap a turn function: check the sender's registration and role, run it in a transaction."""

    def wrap(fn: TurnFn) -> PtbHandler:
        @functools.wraps(fn)
        async def handler(update: Update, ctx: Ctx) -> None:
            if update.effective_user is None:
                return
            spinner = _Spinner(ctx, update) if update.callback_query is not None else None
            started = time.perf_counter()
            outcome: _Outcome | None = None
            try:
                outcome = await _run(update, ctx, fn, roles, registered)
                if outcome is not None:
                    metrics.UPDATES.labels("failed" if outcome.failed else "handled").inc()
                    if outcome.queued and ctx.deps.sender is not None:
                        ctx.deps.sender.wake()
                    first_out = spinner.first_out if spinner is not None else None
                    await send_replies(ctx, update, outcome.replies, first_out=first_out)
            finally:
                if spinner is not None:
                    await spinner.stopped(may_carry=not (outcome and outcome.after_commit))
            if outcome is None:
                return
            metrics.REPLY_LATENCY.observe(time.perf_counter() - started)
            for task in outcome.after_commit:
                try:
                    await task()
                except Exception:
                    # Committed work: an apology now would be untrue; the failure is logged.
                    log.exception("update %s: follow-up after commit failed", update.update_id)

        return handler

    return wrap


async def _run(
    update: Update, ctx: Ctx, fn: TurnFn, roles: Collection[Role], registered: bool
) -> _Outcome | None:
    """The transaction of one turn; None when the update was handled before (a redelivery)."""
    sender = update.effective_user
    assert sender is not None
    deps = ctx.deps
    lang = language_of(deps.settings, update, None)
    try:
        async with writer_turn(deps.sessions), deps.sessions() as session, session.begin():
            await updates.serialize_person(session, sender.id)
            first, fingerprint = await updates.first_delivery_of(
                session, update.update_id, deps.clock.now(), sender.id
            )
            if not first:
                log.info("update %s was delivered again; ignored", update.update_id)
                return None
            user = await _load_sender(session, update, deps, fingerprint)
            lang = language_of(deps.settings, update, user)
            turn = Turn(update, ctx, session, user, lang)
            refusal = _refusal(user, roles, registered)
            if refusal is not None:
                turn.say_key(refusal)
            else:
                await fn(turn)
            return _Outcome(turn.replies, turn.after_commit, outbox.wrote_messages(session))
    except UserFacingError as exc:
        params = _dates_shown(escaped_params(exc.params), lang)
        text = deps.texts.tn(lang, exc.key, plural_count(exc), **params)
        return _Outcome([Reply(text=text)])
    except Exception:
        # Whatever failed (a bug, the database, a Telegram call made during the work), the
        # transaction was rolled back: "nothing was saved" is true.
        log.exception("update %s failed; its work was rolled back", update.update_id)
        return _Outcome([Reply(text=deps.texts.t(lang, "errors.unexpected"))], failed=True)


def _chat_id(update: Update) -> int:
    if update.effective_chat is not None:
        return update.effective_chat.id
    assert update.effective_user is not None
    return update.effective_user.id


def _dates_shown(params: dict[str, Any], lang: str) -> dict[str, Any]:
    """A date among the parameters (e.g. of a service's UserFacingError) reads as a day in the
    user's language."""
    return {
        key: format_day(v, lang) if type(v) is date else v  # datetime is a date too: not those
        for key, v in params.items()
    }


def _refusal(user: User | None, roles: Collection[Role], registered: bool) -> str | None:
    if not registered:
        return None
    if user is None:
        return "access.not_registered"
    if not user.active:
        return "access.deactivated"
    if Role(user.role) not in roles:
        return "access.role_not_allowed"
    return None
