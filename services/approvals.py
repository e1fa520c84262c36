"""Approval requests: submit, decide level by level, ask for information, withdraw, remind and
escalate in working hours.

Integrity: a request carries a version, and every change is a conditional UPDATE on it (and on
the state it was read in), inside the transaction that also writes the audit row and the
outbox messages. Two approvers tapping at once, a double tap, an old card or forged callback
data therefore leave exactly one recorded decision; the others are told who decided. Reps never
decide, nobody decides their own request, and who may decide is re-checked on every action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.i18n import format_money
from core.periods import format_clock, format_short_day
from core.registry import Registry
from models.approval import (
    ApprovalAttachment,
    ApprovalRequest,
    ApprovalStep,
    RequestStatus,
    StepStatus,
)
from models.audit import AuditEntry
from models.common import Role
from models.customer import Customer
from models.outbox import OutboxMessage
from models.user import User
from services import (
    approval_access,
    approval_cards,
    approval_cc,
    approval_numbers,
    audit,
    customers,
    users,
)
from services.approval_cards import CardData, Env, Header, RequestNotice
from services.approval_routing import chain_for
from services.approval_types import (
    FieldContext,
    FieldError,
    FieldKind,
    RequestType,
    check_complete,
    get_type,
)
from services.invoice_rule import InvoiceCheck, check_invoice_request
from services.money import to_minor
from services.team_context import TeamContext
from services.users import Actor

# What happens when a request made by another part of salesbot (RequestType.requestable False)
# is approved, rejected or withdrawn, in the transaction of that decision: a credit note is
# applied once approved. Registered by the module that makes the requests, under the type key.
Outcome = Callable[[AsyncSession, "Env", ApprovalRequest, Actor], Awaitable[None]]
OUTCOMES: Registry[Outcome] = Registry("approval outcome")

REQUESTERS = frozenset({Role.REP, Role.MANAGER})
APPROVER_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR})
MAX_REASON = 1000
LIST_LIMIT = 10


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    INFO = "info"


@dataclass
class Draft:
    """A filled request form: the type, the typed values, the receipts."""

    type: str
    values: dict[str, Any]
    files: list[dict[str, str]] = field(default_factory=list)
    # People of the team the requester copies (抄送), by user id.
    cc: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    """What an action did, for the reply to the person who acted."""

    request: ApprovalRequest
    data: CardData
    next_level: str | None = None
    approvers: list[str] = field(default_factory=list)
    # The people copied (抄送) on submission.
    copied: list[str] = field(default_factory=list)


def field_context(team: TeamContext) -> FieldContext:
    rules = team.rules.approvals
    return FieldContext(
        today=team.today, currency=rules.currency, max_amount=rules.max_amount,
        max_files=rules.max_attachments,
    )  # fmt: skip


def state_of(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "status": str(request.status),
        "step": request.step_no,
        "level": request.chain[request.step_no] if request.chain else None,
    }


def record_change(
    session: AsyncSession,
    env: Env,
    request: ApprovalRequest,
    action: str,
    *,
    actor_id: int | None,
    before: dict[str, Any] | None,
    reason: str = "",
) -> None:
    audit.record(
        session, at=env.now, action=f"approval.{action}", entity="approval",
        entity_id=request.id, actor_id=actor_id, before=before, after=state_of(request),
        reason=reason,
    )  # fmt: skip


# -- submitting ---------------------------------------------------------------------------


async def submit(
    session: AsyncSession,
    env: Env,
    team: TeamContext,
    actor: Actor,
    draft: Draft,
    *,
    previous_id: int | None = None,
    currency: str | None = None,
) -> Result:
    """Create a request from a filled form, route it, and send its card to the first level.
    Its amounts are in the team's approval currency, or in ``currency`` when the request is
    about money that has its own (a credit note on a USD invoice is in USD).

    Every value is validated again (the form may have been filled days ago). Raises
    FieldError naming the field to ask again, or UserFacingError.
    """
    if actor.role not in REQUESTERS or actor.team_id != team.team_id:
        raise NotAllowedError("approvals.cannot_request")
    kind = get_type(draft.type)
    rules = team.rules
    check_complete(kind, draft.values, len(draft.files), field_context(team))
    if len(draft.files) > rules.approvals.max_attachments:
        raise FieldError("receipts", "approvals.too_many_files",
                         limit=rules.approvals.max_attachments)  # fmt: skip
    customer_id: int | None = None
    if kind.customer_field is not None:
        customer_id = await _own_team_customer(session, actor, draft.values.get("customer"))
    refuse_invoice(
        await invoice_check(session, env, kind, draft.values, customer_id), actor.language
    )
    chain, amount, discount = await _route(session, actor, draft, team)
    first = await approval_access.level_approvers(
        session, team_id=team.team_id, requester_id=actor.user_id, level=chain[0], now=env.now
    )
    if not first:
        raise UserFacingError("approvals.no_approver")
    request = ApprovalRequest(
        team_id=team.team_id, requester_id=actor.user_id, type=kind.key,
        status=RequestStatus.PENDING, currency=currency or rules.approvals.currency,
        amount_minor=to_minor(amount) if amount is not None else None,
        discount_bp=int(discount * 100) if discount is not None else None,
        customer_id=customer_id, details=_details(draft.values, kind.fields), chain=chain,
        step_no=0, version=1, created_at=env.now, updated_at=env.now,
        number=await approval_numbers.next_number(session, team.team_id, team.today.year),
    )  # fmt: skip
    session.add(request)
    await session.flush()
    assert request.id is not None
    session.add(ApprovalStep(request_id=request.id, step_no=0, level=chain[0],
                             waiting_since=env.now))  # fmt: skip
    for file in draft.files:
        session.add(
            ApprovalAttachment(
                request_id=request.id, kind=file.get("kind", "photo"), file_id=file["file_id"],
                file_name=(file.get("name") or None), created_at=env.now,
            )
        )  # fmt: skip
    record_change(session, env, request, "submitted", actor_id=actor.user_id, before=None)
    if previous_id is not None:
        changes = await _changes(session, kind, previous_id, request, len(draft.files))
        audit.record(
            session, at=env.now, action="approval.resubmission", entity="approval",
            entity_id=request.id, actor_id=actor.user_id, before=None,
            after={**state_of(request), "previous": previous_id, "changes": changes},
        )  # fmt: skip
    # The CC rows first: the approvers' cards name who is copied.
    cc = await approval_cc.add(
        session, env, team, actor, request, draft.cc, deciders={u.id for u in first if u.id}
    )
    data = await approval_cards.load(session, env, request)
    for approver in first:
        await approval_cards.send_card(
            session, env, data, approver, kind="card", key=f"ap:{request.id}:s0:card:{approver.id}"
        )
    copied = await approval_cc.send_copies(session, env, data, cc)
    return Result(request, data, next_level=chain[0], approvers=[u.display_name for u in first],
                  copied=copied)  # fmt: skip


async def _changes(
    session: AsyncSession, kind: RequestType, previous_id: int, request: ApprovalRequest,
    files: int,
) -> list[list[Any]]:  # fmt: skip
    """What a resubmission changed, field by field: [name, before, after] as stored (the
    customer by name, the receipts by count), for the new card's history."""
    previous = await get_request(session, previous_id)
    before_files = len(
        (
            await session.exec(
                select(ApprovalAttachment.id).where(
                    col(ApprovalAttachment.request_id) == previous_id
                )
            )
        ).all()
    )
    changes: list[list[Any]] = []
    for spec in kind.fields:
        old: Any
        new: Any
        if spec.kind is FieldKind.FILES:
            old, new = before_files, files
        elif spec.kind is FieldKind.CUSTOMER:
            old = await _customer_name(session, previous.customer_id)
            new = await _customer_name(session, request.customer_id)
        else:
            old, new = previous.details.get(spec.name), request.details.get(spec.name)
        if old != new:
            changes.append([spec.name, old, new])
    return changes


async def _customer_name(session: AsyncSession, customer_id: int | None) -> str | None:
    found = await session.get(Customer, customer_id) if customer_id else None
    return found.name if found else None


async def _route(
    session: AsyncSession, actor: Actor, draft: Draft, team: TeamContext
) -> tuple[list[str], Decimal | None, Decimal | None]:
    """(chain of levels, amount, discount %) of a draft under the team's routing rules."""
    kind = get_type(draft.type)
    amount = kind.amount(draft.values)
    discount = kind.discount(draft.values) if kind.discount is not None else None
    manager = await users.team_manager(session, team.team_id)
    chain = chain_for(
        team.rules.approvals.routes.get(kind.key, []), amount=amount, discount=discount,
        requester_is_manager=actor.role is Role.MANAGER,
        team_has_manager=manager is not None and manager.id != actor.user_id,
    )  # fmt: skip
    return chain, amount, discount


@dataclass(frozen=True)
class Preview:
    """Who a draft would go to, shown on the summary before it is submitted."""

    chain: list[str]
    amount: Decimal | None
    discount: Decimal | None
    currency: str
    first_approvers: list[str]
    invoice: InvoiceCheck | None = None
    # Who decides first: they get the card itself, so the CC list does not offer them.
    first_approver_ids: tuple[int, ...] = ()


async def invoice_check(
    session: AsyncSession,
    env: Env,
    kind: RequestType,
    values: dict[str, Any],
    customer_id: int | None,
) -> InvoiceCheck | None:
    """The collected share of an invoice request's contract, None for other types or a
    contract that is not among the customer's receivables."""
    contract = str(values.get("contract") or "") if kind.key == approval_cards.INVOICE else ""
    if not contract:
        return None
    return await check_invoice_request(
        session, env.settings, contract_no=contract, customer_id=customer_id
    )


def refuse_invoice(check: InvoiceCheck | None, lang: str) -> None:
    """FieldError on the contract when the team refuses invoices below the collected share."""
    if check is None or not check.refused:
        return
    share = check.share
    raise FieldError(
        "contract", "collections.invoice_refused", number=share.document_no,
        percent=share.percent_text, threshold=check.threshold_percent,
        collected=format_money(share.collected, share.currency, lang),
        amount=format_money(share.amount, share.currency, lang),
    )  # fmt: skip


async def preview(
    session: AsyncSession, env: Env, team: TeamContext, actor: Actor, draft: Draft
) -> Preview:
    if actor.team_id != team.team_id:
        raise NotAllowedError("approvals.cannot_request")
    chain, amount, discount = await _route(session, actor, draft, team)
    first = await approval_access.level_approvers(
        session, team_id=team.team_id, requester_id=actor.user_id, level=chain[0], now=env.now
    )
    kind = get_type(draft.type)
    customer = draft.values.get("customer")
    invoice = await invoice_check(
        session, env, kind, draft.values, int(customer) if customer not in (None, "") else None
    )
    return Preview(chain, amount, discount, team.rules.approvals.currency,
                   [u.display_name for u in first], invoice,
                   tuple(u.id for u in first if u.id is not None))  # fmt: skip


def _details(values: dict[str, Any], fields: Sequence[Any]) -> dict[str, Any]:
    known = {spec.name for spec in fields}
    return {key: value for key, value in values.items() if key in known and value is not None}


async def _own_team_customer(session: AsyncSession, actor: Actor, raw: Any) -> int:
    if raw in (None, ""):
        raise FieldError("customer", "approvals.field_missing")
    try:
        customer = await customers.get_visible(session, actor, int(raw))
    except (TypeError, ValueError):
        raise FieldError("customer", "customers.not_found") from None
    except UserFacingError:
        raise FieldError("customer", "customers.not_found") from None
    if customer.team_id != actor.team_id or customer.id is None:
        raise FieldError("customer", "customers.not_found")
    return customer.id


# -- loading and checking -----------------------------------------------------------------


async def get_request(session: AsyncSession, request_id: int) -> ApprovalRequest:
    """The request as committed now (never a stale copy from earlier in the session)."""
    found = (
        await session.exec(
            select(ApprovalRequest)
            .where(col(ApprovalRequest.id) == request_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise UserFacingError("approvals.not_found")
    return found


async def _step(session: AsyncSession, request_id: int, step_no: int) -> ApprovalStep | None:
    return (
        await session.exec(
            select(ApprovalStep)
            .where(
                col(ApprovalStep.request_id) == request_id, col(ApprovalStep.step_no) == step_no
            )
            .execution_options(populate_existing=True)
        )
    ).first()


async def _name(session: AsyncSession, user_id: int | None) -> str:
    user = await session.get(User, user_id) if user_id else None
    return user.display_name if user else "—"


async def _check_still_open(
    session: AsyncSession, env: Env, request: ApprovalRequest, step_no: int, actor: Actor
) -> ApprovalStep:
    """The step the tapped card was for, if it still waits for a decision; otherwise say who
    decided it (or what happened) instead."""
    step = await _step(session, request.id or 0, step_no)
    if step is None or step_no > request.step_no:
        raise UserFacingError("approvals.stale")
    if request.status == RequestStatus.WITHDRAWN:
        raise UserFacingError("approvals.already_withdrawn", id=request.label)
    if step.status != StepStatus.PENDING:
        name = await _name(session, step.decided_by_id)
        if step.decided_by_id == actor.user_id:
            raise UserFacingError(f"approvals.already_{step.status}_by_you", id=request.label)
        if step.status == StepStatus.ESCALATED:
            raise UserFacingError("approvals.already_escalated", id=request.label)
        at = await _clock(session, env, request, step, actor.language)
        raise UserFacingError(
            f"approvals.already_{step.status}", id=request.label, name=name, at=at
        )
    if request.status == RequestStatus.INFO:
        raise UserFacingError("approvals.waiting_for_info", id=request.label)
    if step.assignee_id is not None and step.assignee_id != actor.user_id:
        name = await _name(session, step.assignee_id)
        raise UserFacingError("approvals.already_transferred", id=request.label, name=name)
    return step


async def _clock(
    session: AsyncSession, env: Env, request: ApprovalRequest, step: ApprovalStep, lang: str
) -> str:
    """When a step was decided, in the request's team's time."""
    moment = step.decided_at or request.updated_at
    team = await env.team_context(session, request.team_id)
    day = format_short_day(team.local(moment).date(), lang)
    return f"{day} {format_clock(moment, team.timezone)}"


async def check_can_decide(
    session: AsyncSession, env: Env, actor: Actor, request_id: int, step_no: int
) -> ApprovalRequest:
    """Refuse reps, the requester, a decided or changed step and anyone who is not an
    approver of the step now; return the request otherwise."""
    if actor.role not in APPROVER_ROLES:
        raise NotAllowedError("approvals.reps_cannot_decide")
    request = await get_request(session, request_id)
    # Before anything about its state: who decided it and when is not for other teams.
    if not await approval_access.may_see(session, actor, request, env.now):
        raise NotAllowedError("approvals.not_found")
    if request.requester_id == actor.user_id:
        raise NotAllowedError("approvals.own_request")
    await _check_still_open(session, env, request, step_no, actor)
    allowed = await approval_access.approvers(session, request, env.now)
    if actor.user_id not in {u.id for u in allowed}:
        for earlier in range(request.step_no):
            step = await _step(session, request_id, earlier)
            if step is not None and step.decided_by_id == actor.user_id:
                raise NotAllowedError("approvals.approved_earlier_level", id=request.label)
        raise NotAllowedError("approvals.not_your_approval")
    return request


async def transition(
    session: AsyncSession, env: Env, request: ApprovalRequest, **values: Any
) -> bool:
    """Apply ``values`` only if nobody changed the request since it was read; True if so."""
    result = await session.exec(
        update(ApprovalRequest)  # type: ignore[arg-type]
        .where(
            col(ApprovalRequest.id) == request.id,
            col(ApprovalRequest.version) == request.version,
        )
        .values(version=request.version + 1, updated_at=env.now, **values)
    )
    if result.rowcount != 1:
        return False
    await session.refresh(request)
    return True


async def _lost_race(
    session: AsyncSession, env: Env, request: ApprovalRequest, step_no: int, actor: Actor
) -> UserFacingError:
    """Someone else changed the request between reading and writing: explain what happened."""
    fresh = await get_request(session, request.id or 0)
    try:
        await _check_still_open(session, env, fresh, step_no, actor)
    except UserFacingError as error:
        return error
    return UserFacingError("approvals.changed_meanwhile", id=fresh.label)


# -- deciding -----------------------------------------------------------------------------


async def decide(
    session: AsyncSession,
    env: Env,
    actor: Actor,
    *,
    request_id: int,
    step_no: int,
    action: Action,
    reason: str = "",
) -> Result:
    """Approve (on to the next level, or final), reject, or ask the requester for more
    information. Reject and ask need a reason. Exactly one decision per step is recorded."""
    reason = reason.strip()
    if action is not Action.APPROVE and not reason:
        raise UserFacingError("approvals.reason_required")
    if len(reason) > MAX_REASON:
        raise UserFacingError("approvals.reason_too_long", limit=MAX_REASON, length=len(reason))
    request = await check_can_decide(session, env, actor, request_id, step_no)
    step = await _step(session, request_id, step_no)
    assert step is not None
    before = state_of(request)
    final = action is not Action.APPROVE or step_no + 1 >= len(request.chain)
    values: dict[str, Any]
    if action is Action.INFO:
        values = {"status": RequestStatus.INFO}
    elif final:
        status = RequestStatus.APPROVED if action is Action.APPROVE else RequestStatus.REJECTED
        values = {"status": status, "decided_at": env.now, "decided_by_id": actor.user_id}
    else:
        values = {"step_no": step_no + 1}
    if not await transition(session, env, request, **values):
        raise await _lost_race(session, env, request, step_no, actor)
    if action is not Action.INFO:
        step.status = StepStatus.APPROVED if action is Action.APPROVE else StepStatus.REJECTED
        step.decided_by_id, step.decided_at, step.reason = actor.user_id, env.now, reason
        session.add(step)
    next_level = None
    if action is Action.APPROVE and not final:
        next_level = request.chain[request.step_no]
        session.add(ApprovalStep(request_id=request_id, step_no=request.step_no,
                                 level=next_level, waiting_since=env.now))  # fmt: skip
    audit_action = {Action.APPROVE: "approved", Action.REJECT: "rejected",
                    Action.INFO: "info_requested"}[action]  # fmt: skip
    record_change(session, env, request, audit_action, actor_id=actor.user_id, before=before,
            reason=reason)  # fmt: skip
    await session.flush()
    await _outcome(session, env, request, actor)
    data = await approval_cards.load(session, env, request)
    await approval_cards.refresh_copies(session, env, data)
    named = await _after_decision(session, env, data, action, step_no, actor, reason)
    return Result(request, data, next_level=next_level, approvers=named)


async def _outcome(
    session: AsyncSession, env: Env, request: ApprovalRequest, actor: Actor
) -> None:
    """Act on a closed request of a type that has an outcome (its refusal rolls back all)."""
    outcome = OUTCOMES.get(request.type)
    if outcome is not None and not RequestStatus(request.status).open:
        await outcome(session, env, request, actor)


async def _after_decision(
    session: AsyncSession,
    env: Env,
    data: CardData,
    action: Action,
    step_no: int,
    actor: Actor,
    reason: str,
) -> list[str]:
    """Tell the requester; hand the request to the next level when there is one."""
    request = data.request
    key = f"ap:{data.id}:v{request.version}:requester"
    if action is Action.INFO:
        event = "info"
    elif action is Action.REJECT:
        event = "rejected"
    elif request.status == RequestStatus.APPROVED:
        event = "approved"
    else:
        event = f"next_{request.chain[request.step_no]}"
    notice = RequestNotice(data, event, name=actor.display_name, text=reason, step=step_no + 1,
                           steps=len(request.chain))  # fmt: skip
    await approval_cards.notify(session, env, data.requester, notice, key=key)
    if event in ("approved", "rejected"):
        await approval_cc.tell_outcome(session, env, notice)
    if not event.startswith("next_"):
        return []
    return await send_to_level(session, env, data, kind="card")


async def send_to_level(
    session: AsyncSession, env: Env, data: CardData, *, kind: str, header: Header | None = None
) -> list[str]:
    """Send the card to everyone who may decide the current step; their names."""
    request = data.request
    people = await approval_access.approvers(session, request, env.now)
    for person in people:
        await approval_cards.send_card(
            session, env, data, person, kind=kind, header=header,
            key=f"ap:{data.id}:s{request.step_no}:v{request.version}:{kind}:{person.id}",
        )  # fmt: skip
    return [person.display_name for person in people]


# -- transferring (转交) -------------------------------------------------------------------


async def transfer_targets(
    session: AsyncSession, env: Env, actor: Actor, request_id: int, step_no: int
) -> tuple[ApprovalRequest, list[User]]:
    """Who the current approver may hand the step to: the other active people of its level
    (managers at the manager level, a team having one, so another team's manager as with
    /delegate; directors at the director level), never the requester or an earlier approver."""
    request = await check_can_decide(session, env, actor, request_id, step_no)
    pool = await approval_access.transfer_pool(session, request)
    return request, [u for u in pool if u.id != actor.user_id]


async def transfer(
    session: AsyncSession,
    env: Env,
    actor: Actor,
    *,
    request_id: int,
    step_no: int,
    to_id: int,
    reason: str = "",
) -> Result:
    """Hand the step to another approver of its level: only they decide it now. Audited; the
    new approver gets the card, every other copy loses its buttons, the requester is told. A
    conditional update on the version, so a transfer racing a decision records one of them."""
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise UserFacingError("approvals.reason_too_long", limit=MAX_REASON, length=len(reason))
    request, targets = await transfer_targets(session, env, actor, request_id, step_no)
    target = next((u for u in targets if u.id == to_id), None)
    if target is None:
        raise UserFacingError("approvals.transfer_target_gone")
    before = state_of(request)
    if not await transition(session, env, request):
        raise await _lost_race(session, env, request, step_no, actor)
    step = await _step(session, request_id, step_no)
    assert step is not None
    step.assignee_id, step.waiting_since, step.reminded_at = target.id, env.now, None
    session.add(step)
    audit.record(
        session, at=env.now, action="approval.transferred", entity="approval",
        entity_id=request.id, actor_id=actor.user_id, before=before,
        after={**state_of(request), "to": target.id}, reason=reason,
    )  # fmt: skip
    await session.flush()
    data = await approval_cards.load(session, env, request)
    await approval_cards.refresh_copies(session, env, data)
    header = Header("transferred", {"name": actor.display_name, "reason": reason})
    await approval_cards.send_card(
        session, env, data, target, kind="transferred", header=header,
        key=f"ap:{data.id}:s{step_no}:v{request.version}:transferred:{target.id}",
    )  # fmt: skip
    notice = RequestNotice(data, "transferred", name=actor.display_name, text=reason,
                           to=target.display_name)  # fmt: skip
    await approval_cards.notify(
        session, env, data.requester, notice, key=f"ap:{data.id}:v{request.version}:requester"
    )
    return Result(request, data, approvers=[target.display_name])


# -- the requester's side -----------------------------------------------------------------


async def _own_open_request(
    session: AsyncSession, actor: Actor, request_id: int
) -> ApprovalRequest:
    request = await get_request(session, request_id)
    if request.requester_id != actor.user_id:
        raise NotAllowedError("approvals.not_found")
    if not RequestStatus(request.status).open:
        raise UserFacingError(f"approvals.closed_{request.status}", id=request.label)
    return request


async def answer_info(
    session: AsyncSession, env: Env, actor: Actor, *, request_id: int, answer: str
) -> Result:
    """The requester answers an approver's question: the request waits for the same level
    again (its reminder clock restarts), and the approvers get the card with the answer."""
    answer = answer.strip()
    if not answer:
        raise UserFacingError("approvals.answer_empty")
    if len(answer) > MAX_REASON:
        raise UserFacingError("approvals.reason_too_long", limit=MAX_REASON, length=len(answer))
    request = await _own_open_request(session, actor, request_id)
    if request.status != RequestStatus.INFO:
        raise UserFacingError("approvals.no_question", id=request.label)
    before = state_of(request)
    if not await transition(session, env, request, status=RequestStatus.PENDING):
        raise UserFacingError("approvals.changed_meanwhile", id=request.label)
    step = await _step(session, request_id, request.step_no)
    assert step is not None
    step.waiting_since, step.reminded_at = env.now, None
    session.add(step)
    record_change(session, env, request, "info_answered", actor_id=actor.user_id, before=before,
            reason=answer)  # fmt: skip
    await session.flush()
    data = await approval_cards.load(session, env, request)
    await approval_cards.refresh_copies(session, env, data)
    named = await send_to_level(
        session, env, data, kind="answer", header=Header("answer", {"name": actor.display_name})
    )
    return Result(request, data, approvers=named)


@dataclass(frozen=True)
class OpenQuestions:
    """The requester's requests waiting for their answer, and the one a message replies to."""

    waiting: list[ApprovalRequest]
    # The request of the bot message the typed text replies to (None: not a reply to one).
    replied: int | None = None

    @property
    def target(self) -> int | None:
        """The request a typed text answers: the replied one if it waits for an answer,
        otherwise the only waiting one."""
        ids = [r.id for r in self.waiting if r.id is not None]
        if self.replied is not None:
            return self.replied if self.replied in ids else None
        return ids[0] if len(ids) == 1 else None


async def open_questions(
    session: AsyncSession, actor: Actor, *, chat_id: int, replied_message_id: int | None
) -> OpenQuestions:
    """What a text the requester typed outside any form may answer."""
    waiting = list(
        (
            await session.exec(
                select(ApprovalRequest)
                .where(
                    col(ApprovalRequest.requester_id) == actor.user_id,
                    col(ApprovalRequest.status) == RequestStatus.INFO,
                )
                .order_by(col(ApprovalRequest.updated_at))
            )
        ).all()
    )
    replied = None
    if replied_message_id is not None:
        replied = await request_of_message(session, chat_id, replied_message_id)
    return OpenQuestions(waiting, replied)


async def request_of_message(session: AsyncSession, chat_id: int, message_id: int) -> int | None:
    """The request a bot message in the chat is about (a card copy or a notice), if any."""
    rows = await session.exec(
        select(OutboxMessage.id, OutboxMessage.meta).where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.telegram_message_id) == message_id,
        )
    )
    for _row_id, meta in rows.all():
        found = (meta or {}).get("approval_request")
        if found is not None:
            return int(found)
    return None


@dataclass(frozen=True)
class Resubmittable:
    """A rejected or questioned request as a draft to edit, with its customer's name, its
    number, its state and why it came back (the rejection's reason or the question)."""

    request_id: int
    draft: Draft
    customer_name: str
    label: str = ""
    status: str = ""
    reason: str = ""


async def resubmittable(session: AsyncSession, actor: Actor, request_id: int) -> Resubmittable:
    """The requester's rejected request, or one waiting for their answer, as a filled draft."""
    request = await get_request(session, request_id)
    if request.requester_id != actor.user_id:
        raise NotAllowedError("approvals.not_found")
    if request.status not in (RequestStatus.REJECTED, RequestStatus.INFO):
        raise UserFacingError("approvals.cannot_resubmit", id=request.label)
    if not get_type(request.type).requestable:
        # Made by another part of salesbot (a credit note): decided again there, not edited.
        raise UserFacingError("approvals.cannot_resubmit", id=request.label)
    files = [
        {"kind": a.kind, "file_id": a.file_id, "name": a.file_name or ""}
        for a in (
            await session.exec(
                select(ApprovalAttachment)
                .where(col(ApprovalAttachment.request_id) == request_id)
                .order_by(col(ApprovalAttachment.id))
            )
        ).all()
    ]
    customer = (
        await customers.get_visible(session, actor, request.customer_id)
        if (request.customer_id)
        else None
    )
    draft = Draft(request.type, dict(request.details), files)
    why = (
        "approval.rejected"
        if request.status == RequestStatus.REJECTED
        else "approval.info_requested"
    )
    reason = (
        await session.exec(
            select(AuditEntry.reason)
            .where(
                col(AuditEntry.entity) == "approval",
                col(AuditEntry.entity_id) == request_id,
                col(AuditEntry.action) == why,
            )
            .order_by(col(AuditEntry.id).desc())
        )
    ).first()
    return Resubmittable(request_id, draft, customer.name if customer else "", request.label,
                         str(request.status), reason or "")  # fmt: skip


async def resubmit(
    session: AsyncSession,
    env: Env,
    team: TeamContext,
    actor: Actor,
    draft: Draft,
    previous_id: int,
) -> Result:
    """Submit the edited draft as a new request that names the one it replaces; a request
    still waiting for the requester's answer is closed (withdrawn) by it. Both keep their
    own fields and history."""
    previous = await get_request(session, previous_id)
    if previous.requester_id != actor.user_id:
        raise NotAllowedError("approvals.not_found")
    if previous.status not in (RequestStatus.REJECTED, RequestStatus.INFO):
        raise UserFacingError("approvals.cannot_resubmit", id=previous.label)
    if not get_type(previous.type).requestable:
        raise UserFacingError("approvals.cannot_resubmit", id=previous.label)
    before = state_of(previous)
    if previous.status == RequestStatus.INFO:
        values = {"status": RequestStatus.WITHDRAWN, "decided_at": env.now,
                  "decided_by_id": actor.user_id}  # fmt: skip
        if not await transition(session, env, previous, **values):
            raise UserFacingError("approvals.changed_meanwhile", id=previous.label)
        step = await _step(session, previous_id, previous.step_no)
        if step is not None and step.status == StepStatus.PENDING:
            step.status, step.decided_at = StepStatus.WITHDRAWN, env.now
            session.add(step)
    result = await submit(session, env, team, actor, draft, previous_id=previous_id)
    audit.record(
        session, at=env.now, action="approval.resubmitted", entity="approval",
        entity_id=previous_id, actor_id=actor.user_id, before=before,
        after={**state_of(previous), "resubmitted_as": result.request.id},
    )  # fmt: skip
    await session.flush()
    old = await approval_cards.load(session, env, previous)
    await approval_cards.refresh_copies(session, env, old)
    return result


async def withdraw(session: AsyncSession, env: Env, actor: Actor, *, request_id: int) -> Result:
    """The requester takes back a request that is still open; every card says so."""
    request = await _own_open_request(session, actor, request_id)
    before = state_of(request)
    values = {"status": RequestStatus.WITHDRAWN, "decided_at": env.now,
              "decided_by_id": actor.user_id}  # fmt: skip
    if not await transition(session, env, request, **values):
        fresh = await get_request(session, request_id)
        raise UserFacingError(f"approvals.closed_{fresh.status}", id=fresh.label)
    step = await _step(session, request_id, request.step_no)
    if step is not None and step.status == StepStatus.PENDING:
        step.status, step.decided_at, step.decided_by_id = StepStatus.WITHDRAWN, env.now, None
        session.add(step)
    record_change(session, env, request, "withdrawn", actor_id=actor.user_id, before=before)
    await session.flush()
    await _outcome(session, env, request, actor)
    data = await approval_cards.load(session, env, request)
    await approval_cards.refresh_copies(session, env, data)
    return Result(request, data)
