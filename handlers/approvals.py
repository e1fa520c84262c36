"""Approvals in chat: /request and one shortcut per type, /myrequests, /pending, and the card
buttons (Approve, Reject, Ask for info, receipts, view, withdraw, answer).

Reject and Ask for info take the reason as the next message (a small DB-backed form); so does
the requester's answer. A button's data (one codec per action, views/approval_cards.py) only
names a request and an action: every tap is re-checked by the service (role, requester, step
still open).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from handlers.approval_form import REQUEST_FORM, REQUESTERS, env_of
from handlers.commands import declare
from handlers.customer_fields import expect_text
from handlers.error_text import say_error
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.turn import PtbHandler, Turn, turn_handler
from models.approval import ApprovalRequest, RequestStatus
from models.common import Role
from services import approval_cards, approval_cc, approval_lists, approvals
from services.approval_types import RequestType, ordered_types
from views import approvals as views
from views.approval_cards import (
    ANSWER,
    APPROVE,
    APPROVE_COMMENT,
    DECIDE,
    DECIDED_LIST,
    INFO,
    PENDING_OPEN,
    RECEIPTS,
    REJECT,
    RESUBMIT,
    TRANSFER,
    VIEW,
    WITHDRAW,
    WITHDRAW_CONFIRM,
    short_title,
)
from views.callbacks import Callback, StaleButton

APPROVERS = frozenset({Role.MANAGER, Role.DIRECTOR})
ACTIONS = {APPROVE: approvals.Action.APPROVE, REJECT: approvals.Action.REJECT,
           INFO: approvals.Action.INFO, APPROVE_COMMENT: approvals.Action.APPROVE}  # fmt: skip

declare("request", roles=REQUESTERS, order=30)
for _number, _kind in enumerate(ordered_types()):
    declare(_kind.command, roles=REQUESTERS, order=31 + _number)
declare("myrequests", roles=REQUESTERS, order=37)
declare("pending", roles=APPROVERS, order=38)
declare("cc", order=39)


@turn_handler(roles=REQUESTERS)
async def request_command(turn: Turn) -> None:
    """Start a request: choose its type, then the type's fields."""
    await start_form(turn, REQUEST_FORM)


def shortcut(kind: RequestType) -> PtbHandler:
    """/expense, /discount...: the request form, already at the type's first field."""

    @turn_handler(roles=REQUESTERS)
    async def start_type(turn: Turn) -> None:
        await start_form(turn, REQUEST_FORM, {"type": kind.key})

    return start_type


async def _listed(
    turn: Turn, requests: Sequence[ApprovalRequest], *, whose: bool = True
) -> list[views.Listed]:
    """Each request with the day it was made and today, in its own team's timezone, its
    customer's name and (``whose``) its requester's."""
    names = await approval_lists.customer_names(turn.session, requests)
    people = await approval_lists.requester_names(turn.session, requests) if whose else {}
    listed = []
    for r in requests:
        team = await turn.team(r.team_id)
        day = team.local(r.created_at).date()
        listed.append(views.Listed(r, day, team.today, names.get(r.customer_id or 0),
                                   people.get(r.requester_id)))  # fmt: skip
    return listed


@turn_handler(roles=REQUESTERS)
async def my_requests(turn: Turn) -> None:
    """My latest requests with their state; a button opens each one."""
    listed = await approval_lists.my_requests(turn.session, turn.actor)
    turn.say(*views.my_requests(turn.deps.texts, turn.lang,
                                await _listed(turn, listed, whose=False)))  # fmt: skip


@turn_handler()
async def copied(turn: Turn) -> None:
    """/cc: the requests copied to me (抄送), newest first; a button opens each one."""
    listed = await approval_cc.copied_to(turn.session, turn.actor)
    turn.say(*views.my_requests(turn.deps.texts, turn.lang, await _listed(turn, listed),
                                copied=True))  # fmt: skip


@turn_handler(roles=APPROVERS)
async def pending(turn: Turn) -> None:
    """What waits for my decision, oldest first, one line and one button each."""
    waiting = await approval_lists.pending_for(turn.session, env_of(turn), turn.actor)
    turn.say(*views.pending(turn.deps.texts, turn.lang, await _listed(turn, waiting)))


@turn_handler(roles=APPROVERS)
async def on_decided(turn: Turn) -> None:
    """已处理: the requests I approved or rejected, most recent first; each opens read-only."""
    _unpack(turn, DECIDED_LIST)
    done = await approval_lists.decided_by(turn.session, env_of(turn), turn.actor)
    turn.say(*views.decided_list(turn.deps.texts, turn.lang, await _listed(turn, done)))


@turn_handler(roles=APPROVERS)
async def on_pending_open(turn: Turn) -> None:
    """A request picked from /pending: a fresh copy of its card, with the decision buttons."""
    request_id = _unpack(turn, PENDING_OPEN).request
    env = env_of(turn)
    waiting = [r for r in await approval_lists.pending_for(turn.session, env, turn.actor)
               if r.id == request_id]  # fmt: skip
    if not waiting:
        raise UserFacingError("approvals.pending_gone")
    await approval_lists.send_pending_cards(
        turn.session, env, turn.actor, waiting, nonce=str(turn.update.update_id)
    )


# -- buttons ------------------------------------------------------------------------------


def _unpack(turn: Turn, codec: Callback[Any]) -> Any:
    """The tapped button's value; data of another shape is an out-of-date approval button."""
    query = turn.update.callback_query
    assert query is not None
    try:
        return codec.unpack(query.data)
    except StaleButton:
        raise UserFacingError("approvals.stale") from None


@turn_handler()
async def on_decision(turn: Turn) -> None:
    """Approve at once; approve with a comment, reject and ask for information take the text
    as the next message. The service decides whether this person may decide this step now."""
    tapped = _unpack(turn, DECIDE)
    action = ACTIONS.get(tapped.action)
    if action is None:
        raise UserFacingError("approvals.stale")
    env = env_of(turn)
    if tapped.action == APPROVE:
        result = await approvals.decide(
            turn.session, env, turn.actor, request_id=tapped.request, step_no=tapped.step,
            action=action,
        )  # fmt: skip
        turn.say(views.decided(turn.deps.texts, turn.lang, result, action))
        return
    request = await approvals.check_can_decide(
        turn.session, env, turn.actor, tapped.request, tapped.step
    )
    data = await approval_cards.load(turn.session, env, request)
    title = short_title(turn.deps.texts, turn.lang, data)
    await start_form(turn, REASON_FORM, {"request_id": tapped.request, "step": tapped.step,
                                         "action": str(action), "title": title})  # fmt: skip


@turn_handler()
async def on_receipts(turn: Turn) -> None:
    """Send the request's receipts again."""
    request_id = _unpack(turn, RECEIPTS).request
    label, count = await approval_lists.send_receipts(
        turn.session, env_of(turn), turn.actor, request_id, nonce=str(turn.update.update_id)
    )
    turn.say(turn.tn("approvals.receipts_sent", count, id=label, count=count))


@turn_handler()
async def on_view(turn: Turn) -> None:
    """Open the request with its audit trail (anyone who may see it)."""
    request_id = _unpack(turn, VIEW).request
    data = await approval_lists.card_for(turn.session, env_of(turn), turn.actor, request_id)
    turn.say(*views.opened(turn.deps.texts, turn.lang, data, turn.actor.user_id))


@turn_handler()
async def on_withdraw(turn: Turn) -> None:
    """The requester asks to withdraw: confirm first."""
    request_id = _unpack(turn, WITHDRAW).request
    data = await approval_lists.card_for(turn.session, env_of(turn), turn.actor, request_id)
    if not views.may_withdraw(data, turn.actor.user_id):
        raise UserFacingError(f"approvals.closed_{data.request.status}", id=data.request.label)
    turn.say(*views.withdraw_confirm(turn.deps.texts, turn.lang, data))


@turn_handler()
async def on_withdraw_confirm(turn: Turn) -> None:
    request_id = _unpack(turn, WITHDRAW_CONFIRM).request
    result = await approvals.withdraw(
        turn.session, env_of(turn), turn.actor, request_id=request_id
    )
    turn.say_key("approvals.withdrawn", id=result.request.label)


@turn_handler()
async def on_answer(turn: Turn) -> None:
    """The requester answers an approver's question: the answer is the next message."""
    request_id = _unpack(turn, ANSWER).request
    data = await approval_lists.card_for(turn.session, env_of(turn), turn.actor, request_id)
    request = data.request
    if request.requester_id != turn.actor.user_id:
        raise UserFacingError("approvals.not_found")
    if request.status != RequestStatus.INFO:
        raise UserFacingError("approvals.no_question", id=request.label)
    title = short_title(turn.deps.texts, turn.lang, data)
    await start_form(turn, ANSWER_FORM, {"request_id": request_id, "title": title})


async def _questions(turn: Turn) -> approvals.OpenQuestions | None:
    """The open questions a typed text could answer; None when it cannot be an answer."""
    message = turn.update.message
    if turn.user is None or message is None or not message.text:
        return None
    if turn.actor.role not in REQUESTERS or message.text.startswith("/"):
        return None
    replied = message.reply_to_message
    return await approvals.open_questions(
        turn.session, turn.actor, chat_id=turn.chat_id,
        replied_message_id=replied.message_id if replied is not None else None,
    )  # fmt: skip


async def _answer(turn: Turn, request_id: int) -> None:
    result = await approvals.answer_info(
        turn.session, env_of(turn), turn.actor, request_id=request_id, answer=turn.text
    )
    turn.say(views.answer_sent(turn.deps.texts, turn.lang, result))


async def replied_answer(turn: Turn) -> bool:
    """A Telegram reply to a card or notice of a request waiting for the sender's answer is the
    answer, whatever form is open."""
    if turn.update.message is None or turn.update.message.reply_to_message is None:
        return False  # not a reply: no query on every form step's path
    questions = await _questions(turn)
    if questions is None or questions.replied is None or questions.target is None:
        return False
    await _answer(turn, questions.target)
    return True


async def typed_answer(turn: Turn) -> bool:
    """A text typed outside any form answers the sender's only open question; with several
    open, the sender is asked to reply to the question or tap its button."""
    questions = await _questions(turn)
    if questions is None or not questions.waiting:
        return False
    if questions.replied is not None and questions.target is None:
        replied = await approvals.get_request(turn.session, questions.replied)
        raise UserFacingError("approvals.no_question", id=replied.label)
    if questions.target is None:
        titles = [
            short_title(turn.deps.texts, turn.lang,
                        await approval_cards.load(turn.session, env_of(turn), request))
            for request in questions.waiting
        ]  # fmt: skip
        turn.say(*views.which_question(turn.deps.texts, turn.lang, questions.waiting, titles))
        return True
    await _answer(turn, questions.target)
    return True


@turn_handler(roles=REQUESTERS)
async def on_resubmit(turn: Turn) -> None:
    """The requester edits a rejected or questioned request: the form opens at its summary,
    filled in, and Submit sends it as a new request naming the old one."""
    found = await approvals.resubmittable(
        turn.session, turn.actor, _unpack(turn, RESUBMIT).request
    )
    draft = found.draft
    await start_form(turn, REQUEST_FORM, {
        "type": draft.type, "values": draft.values, "files": draft.files,
        "customer_name": found.customer_name, "resubmit_of": found.request_id, "_return": True,
        "resubmit_label": found.label, "resubmit_status": found.status,
        "resubmit_reason": found.reason,
    })  # fmt: skip


@turn_handler(roles=APPROVERS)
async def on_transfer(turn: Turn) -> None:
    """转交: the approver picks another approver of the step's level, then an optional reason."""
    tapped = _unpack(turn, TRANSFER)
    env = env_of(turn)
    request, targets = await approvals.transfer_targets(
        turn.session, env, turn.actor, tapped.request, tapped.step
    )
    if not targets:
        raise UserFacingError("approvals.transfer_nobody")
    data = await approval_cards.load(turn.session, env, request)
    await start_form(turn, TRANSFER_FORM, {
        "request_id": tapped.request, "step": tapped.step,
        "title": short_title(turn.deps.texts, turn.lang, data),
        "targets": [[u.id, u.display_name] for u in targets],
    })  # fmt: skip


BUTTONS: dict[Callback[Any], PtbHandler] = {
    DECIDE: on_decision,
    RECEIPTS: on_receipts,
    VIEW: on_view,
    WITHDRAW: on_withdraw,
    WITHDRAW_CONFIRM: on_withdraw_confirm,
    ANSWER: on_answer,
    RESUBMIT: on_resubmit,
    TRANSFER: on_transfer,
}


# -- the next message as a reason or an answer --------------------------------------------


class ReasonForm(Form):
    """Why an approver rejects, or what they ask: the decision happens when it arrives."""

    name = "approval_reason"
    first_step = "reason"
    roles = APPROVERS

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        action = _reason_action(data)
        return Prompt(views.reason_prompt(turn.deps.texts, turn.lang, action, data["title"]))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        reason = _bounded_text(answer)
        action = _reason_action(data)
        try:
            result = await approvals.decide(
                turn.session, env_of(turn), turn.actor, request_id=int(data["request_id"]),
                step_no=int(data["step"]), action=action, reason=reason,
            )  # fmt: skip
        except UserFacingError as error:
            say_error(turn, error)
            return None
        turn.say(views.decided(turn.deps.texts, turn.lang, result, action))
        return None


class AnswerForm(Form):
    """The requester's answer to an approver's question."""

    name = "approval_answer"
    first_step = "answer"
    roles = REQUESTERS

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        return Prompt(turn.t("approvals.ask_answer", request=data["title"]))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        text = _bounded_text(answer)
        try:
            result = await approvals.answer_info(
                turn.session, env_of(turn), turn.actor, request_id=int(data["request_id"]),
                answer=text,
            )  # fmt: skip
        except UserFacingError as error:
            say_error(turn, error)
            return None
        turn.say(views.answer_sent(turn.deps.texts, turn.lang, result))
        return None


class TransferForm(Form):
    """转交: to whom (the approvers of the same level), then why (skippable)."""

    name = "approval_transfer"
    first_step = "to"
    roles = APPROVERS

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        if step == "to":
            choices = [[(str(name), f"u:{uid}")] for uid, name in data["targets"]]
            return Prompt(turn.t("approvals.transfer_to", request=data["title"]), choices)
        name = next(str(n) for uid, n in data["targets"] if uid == data["to"])
        return Prompt(turn.t("approvals.transfer_reason", name=html.escape(name)),
                      skippable=True)  # fmt: skip

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        if step == "to":
            chosen = (answer.choice or "").removeprefix("u:")
            if not chosen.isdigit() or int(chosen) not in {uid for uid, _ in data["targets"]}:
                raise InputError("approvals.use_buttons")
            data["to"] = int(chosen)
            return "reason"
        reason = "" if answer.skipped else _bounded_text(answer)
        try:
            result = await approvals.transfer(
                turn.session, env_of(turn), turn.actor, request_id=int(data["request_id"]),
                step_no=int(data["step"]), to_id=int(data["to"]), reason=reason,
            )  # fmt: skip
        except UserFacingError as error:
            say_error(turn, error)
            return None
        turn.say(views.transferred(turn.deps.texts, turn.lang, result))
        return None


def _reason_action(data: dict[str, Any]) -> approvals.Action:
    """The action a reason is for; forms started before the codecs stored "r" or "i"."""
    stored = str(data["action"])
    return ACTIONS.get(stored) or approvals.Action(stored)


def _bounded_text(answer: FormInput) -> str:
    text = expect_text(answer)
    if len(text) > approvals.MAX_REASON:
        raise InputError("approvals.reason_too_long", limit=approvals.MAX_REASON, length=len(text))
    return text


REASON_FORM = register_form(ReasonForm())
ANSWER_FORM = register_form(AnswerForm())
TRANSFER_FORM = register_form(TransferForm())


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("request", request_command))
    for kind in ordered_types():
        app.add_handler(CommandHandler(kind.command, shortcut(kind)))
    app.add_handler(CommandHandler("myrequests", my_requests))
    app.add_handler(CommandHandler("pending", pending))
    app.add_handler(CommandHandler("cc", copied))
    app.add_handler(CallbackQueryHandler(on_pending_open, pattern=PENDING_OPEN.pattern))
    app.add_handler(CallbackQueryHandler(on_decided, pattern=DECIDED_LIST.pattern))
    for codec, handler in BUTTONS.items():
        app.add_handler(CallbackQueryHandler(handler, pattern=codec.pattern))
