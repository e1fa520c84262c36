"""Approvals in chat: /request and one shortcut per type, /myrequests, /pending, and the card
buttons (Approve, Reject, Ask for info, receipts, view, withdraw, answer).

Reject and Ask for info take the reason as the next message (a small DB-backed form); so does
the requester's answer. Callback data (``ap|<request>|<action>[|<step>]``) only names a request
and an action: every tap is re-checked by the service (role, requester, step still open).
"""

from __future__ import annotations

import html
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from core.errors import UserFacingError
from core.i18n import format_money
from core.periods import format_short_day
from handlers.approval_form import REQUEST_FORM, REQUESTERS, env_of
from handlers.commands import declare
from handlers.customer_fields import expect_text
from handlers.error_text import say_error
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.replies import Button, Keyboard
from handlers.turn import PtbHandler, Turn, turn_handler
from models.approval import ApprovalRequest, RequestStatus
from models.common import Role
from services import approval_cards, approval_lists, approvals
from services.approval_cards import (
    ANSWER,
    APPROVE,
    CALLBACK,
    INFO,
    RECEIPTS,
    REJECT,
    VIEW,
    WITHDRAW,
    WITHDRAW_CONFIRM,
    CardData,
    callback,
)
from services.approval_types import RequestType, get_type, ordered_types
from services.money import from_minor

APPROVERS = frozenset({Role.MANAGER, Role.DIRECTOR})
PENDING_CARDS = 5
PENDING_LINES = 20

declare("request", roles=REQUESTERS, order=30)
for _number, _kind in enumerate(ordered_types()):
    declare(_kind.command, roles=REQUESTERS, order=31 + _number)
declare("myrequests", roles=REQUESTERS, order=37)
declare("pending", roles=APPROVERS, order=38)


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


async def list_line(turn: Turn, request: ApprovalRequest) -> str:
    """One line of a list: state icon, number, type, amount, day, state and level."""
    kind = get_type(request.type)
    parts = [f"#{request.id} {kind.icon} {turn.t(kind.name_key)}"]
    if request.amount_minor is not None:
        parts.append(format_money(from_minor(request.amount_minor), request.currency, turn.lang))
    day = await approval_lists.local_day(turn.session, env_of(turn), request)
    parts.append(format_short_day(day, turn.lang))
    state = turn.t(f"approvals.state_{request.status}")
    if request.status == RequestStatus.PENDING:
        state += " · " + turn.t(f"approvals.level_{request.chain[request.step_no]}")
    icon = approval_cards.REQUEST_ICONS[RequestStatus(request.status)]
    return f"{icon} {' · '.join(parts)} — {state}"


@turn_handler(roles=REQUESTERS)
async def my_requests(turn: Turn) -> None:
    """My latest requests with their state; a button opens each one."""
    listed = await approval_lists.my_requests(turn.session, turn.actor)
    if not listed:
        turn.say_key("approvals.my_none")
        return
    lines = [turn.t("approvals.my_title")] + [await list_line(turn, r) for r in listed]
    buttons = [Button(f"#{r.id}", data=callback(r.id or 0, VIEW)) for r in listed]
    turn.say("\n".join(lines), [buttons[i : i + 5] for i in range(0, len(buttons), 5)])


@turn_handler(roles=APPROVERS)
async def pending(turn: Turn) -> None:
    """What waits for my decision, oldest first; each card follows with its buttons."""
    waiting = await approval_lists.pending_for(turn.session, env_of(turn), turn.actor)
    if not waiting:
        turn.say_key("approvals.pending_none")
        return
    lines = [turn.t("approvals.pending_title", count=len(waiting))]
    lines += [await list_line(turn, r) for r in waiting[:PENDING_LINES]]
    if len(waiting) > PENDING_CARDS:
        lines.append(turn.t("approvals.pending_more", shown=PENDING_CARDS))
    turn.say("\n".join(lines))
    await approval_lists.send_pending_cards(
        turn.session, env_of(turn), turn.actor, waiting[:PENDING_CARDS],
        nonce=str(turn.update.update_id),
    )  # fmt: skip


# -- buttons ------------------------------------------------------------------------------


def parse(data: str) -> tuple[int, str, int | None]:
    """(request id, action, step) of ``ap|12|a|0``; UserFacingError for anything else."""
    parts = data.split("|")
    if len(parts) not in (3, 4) or parts[0] != CALLBACK or not parts[1].isdigit():
        raise UserFacingError("approvals.stale")
    step = parts[3] if len(parts) == 4 else None
    if step is not None and not step.isdigit():
        raise UserFacingError("approvals.stale")
    return int(parts[1]), parts[2], int(step) if step is not None else None


@turn_handler()
async def on_button(turn: Turn) -> None:
    """Every approval button; the service decides whether this person may do it now."""
    query = turn.update.callback_query
    assert query is not None
    request_id, action, step = parse(query.data or "")
    if action in (APPROVE, REJECT, INFO):
        if step is None:
            raise UserFacingError("approvals.stale")
        await _decision(turn, request_id, action, step)
    elif action in BUTTONS:
        await BUTTONS[action](turn, request_id)
    else:
        raise UserFacingError("approvals.stale")


async def _decision(turn: Turn, request_id: int, action: str, step: int) -> None:
    env = env_of(turn)
    if action == APPROVE:
        result = await approvals.decide(
            turn.session, env, turn.actor, request_id=request_id, step_no=step,
            action=approvals.Action.APPROVE,
        )  # fmt: skip
        say_decided(turn, result, approvals.Action.APPROVE)
        return
    request = await approvals.check_can_decide(turn.session, env, turn.actor, request_id, step)
    data = await approval_cards.load(turn.session, env, request)
    title = approval_cards.short_title(turn.deps.texts, turn.lang, data)
    await start_form(turn, REASON_FORM, {"request_id": request_id, "step": step,
                                         "action": action, "title": title})  # fmt: skip


def say_decided(turn: Turn, result: approvals.Result, action: approvals.Action) -> None:
    request = result.request
    name = html.escape(result.data.requester.display_name)
    names = html.escape(", ".join(result.approvers))
    if action is approvals.Action.APPROVE and request.status == RequestStatus.PENDING:
        key = f"approvals.done_next_{request.chain[request.step_no]}"
    else:
        key = f"approvals.done_{action}"
    turn.say(turn.t(key, id=request.id, name=name, names=names))


async def _receipts(turn: Turn, request_id: int) -> None:
    count = await approval_lists.send_receipts(
        turn.session, env_of(turn), turn.actor, request_id, nonce=str(turn.update.update_id)
    )
    turn.say_key("approvals.receipts_sent", id=request_id, count=count)


def requester_buttons(turn: Turn, data: CardData) -> Keyboard:
    request = data.request
    if request.requester_id != turn.actor.user_id or not RequestStatus(request.status).open:
        return []
    rows: Keyboard = []
    if request.status == RequestStatus.INFO:
        rows.append([Button(turn.t("approvals.answer"), data=callback(data.id, ANSWER))])
    rows.append([Button(turn.t("approvals.withdraw"), data=callback(data.id, WITHDRAW))])
    return rows


async def _view(turn: Turn, request_id: int) -> None:
    data = await approval_lists.card_for(turn.session, env_of(turn), turn.actor, request_id)
    rows = requester_buttons(turn, data)
    if data.attachments:
        label = turn.t("approvals.show_receipts", count=len(data.attachments))
        rows.append([Button(label, data=callback(data.id, RECEIPTS))])
    turn.say(approval_cards.render(turn.deps.texts, turn.lang, data, trail=True), rows)


async def _ask_withdraw(turn: Turn, request_id: int) -> None:
    data = await approval_lists.card_for(turn.session, env_of(turn), turn.actor, request_id)
    if not requester_buttons(turn, data):
        raise UserFacingError(f"approvals.closed_{data.request.status}", id=request_id)
    yes = Button(turn.t("approvals.withdraw_yes"), data=callback(request_id, WITHDRAW_CONFIRM))
    no = Button(turn.t("approvals.withdraw_no"), data=callback(request_id, VIEW))
    buttons = [[yes, no]]
    title = approval_cards.short_title(turn.deps.texts, turn.lang, data)
    turn.say(turn.t("approvals.withdraw_confirm", request=title), buttons)


async def _withdraw(turn: Turn, request_id: int) -> None:
    result = await approvals.withdraw(
        turn.session, env_of(turn), turn.actor, request_id=request_id
    )
    turn.say_key("approvals.withdrawn", id=result.request.id)


async def _answer(turn: Turn, request_id: int) -> None:
    data = await approval_lists.card_for(turn.session, env_of(turn), turn.actor, request_id)
    request = data.request
    if request.requester_id != turn.actor.user_id:
        raise UserFacingError("approvals.not_found")
    if request.status != RequestStatus.INFO:
        raise UserFacingError("approvals.no_question", id=request_id)
    title = approval_cards.short_title(turn.deps.texts, turn.lang, data)
    await start_form(turn, ANSWER_FORM, {"request_id": request_id, "title": title})


BUTTONS = {
    RECEIPTS: _receipts,
    VIEW: _view,
    WITHDRAW: _ask_withdraw,
    WITHDRAW_CONFIRM: _withdraw,
    ANSWER: _answer,
}


# -- the next message as a reason or an answer --------------------------------------------


class ReasonForm(Form):
    """Why an approver rejects, or what they ask: the decision happens when it arrives."""

    name = "approval_reason"
    first_step = "reason"
    roles = APPROVERS

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        key = (
            "approvals.ask_reject_reason" if data["action"] == REJECT else "approvals.ask_question"
        )
        return Prompt(turn.t(key, request=data["title"]))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        reason = _bounded_text(answer)
        action = approvals.Action.REJECT if data["action"] == REJECT else approvals.Action.INFO
        try:
            result = await approvals.decide(
                turn.session, env_of(turn), turn.actor, request_id=int(data["request_id"]),
                step_no=int(data["step"]), action=action, reason=reason,
            )  # fmt: skip
        except UserFacingError as error:
            say_error(turn, error)
            return None
        say_decided(turn, result, action)
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
        names = html.escape(", ".join(result.approvers))
        turn.say_key("approvals.answer_sent", id=result.request.id, names=names)
        return None


def _bounded_text(answer: FormInput) -> str:
    text = expect_text(answer)
    if len(text) > approvals.MAX_REASON:
        raise InputError("approvals.reason_too_long", limit=approvals.MAX_REASON, length=len(text))
    return text


REASON_FORM = register_form(ReasonForm())
ANSWER_FORM = register_form(AnswerForm())


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("request", request_command))
    for kind in ordered_types():
        app.add_handler(CommandHandler(kind.command, shortcut(kind)))
    app.add_handler(CommandHandler("myrequests", my_requests))
    app.add_handler(CommandHandler("pending", pending))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{CALLBACK}\|"))
