"""The dunning schedule: which reminders are due today, written to the outbox.

The team's steps (``[defaults.collections.steps]``) are days from the due date, each with a tone
and recipients. For each team, on each run (a working day, in the team's timezone):

- A promise whose date has passed is kept (paid) or broken (unpaid). A broken promise puts its
  document back into the schedule: the next step is sent at once, with a note.
- A document is *in the schedule* while it has a balance, is not disputed, has no promise for
  today or later, and the first step's day has come. It climbs a ladder: never reminded, it
  starts at the first (friendliest) step, however old it is; then it moves up one step at a
  time, to a step whose day has come, at least ``step_interval_days`` after the last one.
- A customer (per owning rep) is reminded when one of their documents moves up: the reminder
  lists all the customer's documents in the schedule, at the highest step reached. Each person
  gets ONE message per run: the customer's reminder, or a digest with a line and a button per
  customer. Managers and directors get one escalation digest per run (by rep, then customer);
  directors only for customers owing at least ``director_min_amount``.
- Listing a document records its step in the same transaction as the outbox row, so a restart
  or a second run never sends a step twice. The outbox key
  ``dun:<customer>:<step>:<document>.<round>`` (``:rep``; ``:m<id>`` for the manager's copy,
  ``:d<id>`` for a director's; ``dun:dg:``/``dun:esc:`` and a hash of the listed reminders for
  the digests) makes each message exist once even if two runs raced.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.settings import DunningStep
from models.common import Role
from models.receivable import (
    DunningReminder,
    Promise,
    PromiseStatus,
    Receivable,
    ReceivableStatus,
)
from models.user import User
from services import audit, notices, receivables
from services.notices import Render
from services.receivables import Document
from services.team_context import TeamContext
from services.users import Actor, team_manager


def current_step(steps: list[DunningStep], days_overdue: int) -> DunningStep | None:
    """The latest step whose day has come (``days_overdue`` negative before the due date)."""
    reached = [step for step in steps if step.days <= days_overdue]
    return reached[-1] if reached else None


def next_step(
    steps: list[DunningStep],
    receivable: Receivable,
    days_overdue: int,
    today: date,
    interval_days: int,
) -> DunningStep | None:
    """The step a document is reminded at in this run, if any: a document never reminded
    starts at the first step once its day has come, however late that is; after that it climbs
    one step at a time, to a step whose day has come, at least ``interval_days`` after the
    previous one."""  # fmt: skip
    if current_step(steps, days_overdue) is None:
        return None
    if receivable.reminded_step is None:
        return steps[0]
    later = [s for s in steps if receivable.reminded_step < s.days <= days_overdue]
    if not later:
        return None
    if (
        receivable.reminded_on is not None
        and (today - receivable.reminded_on).days < interval_days
    ):
        return None
    return later[0]


@dataclass
class DunningRun:
    """What one run did, for the logs and the tests."""

    reminders: list[int] = field(default_factory=list)
    copies: int = 0
    broken: int = 0
    kept: int = 0


def _step_before(steps: list[DunningStep], days: int | None) -> int | None:
    earlier = [step.days for step in steps if days is not None and step.days < days]
    return earlier[-1] if earlier else None


async def expire_promises(
    session: AsyncSession,
    *,
    team_id: int,
    today: date,
    now: datetime,
    steps: list[DunningStep],
) -> dict[int, date]:
    """Close the team's promises whose date has passed: kept if paid, else broken.

    Returns the documents whose promise broke, with the promised date.
    """
    paid = receivables.paid_subquery()
    balance = receivables.balance_column(paid)
    query = (
        select(Promise, Receivable, balance)
        .join(Receivable, col(Receivable.id) == col(Promise.receivable_id))
        .outerjoin(paid, paid.c.receivable_id == col(Receivable.id))
        .where(
            col(Receivable.team_id) == team_id,
            col(Promise.status) == PromiseStatus.OPEN,
            col(Promise.promised_on) < today,
        )
    )
    broken: dict[int, date] = {}
    for promise, receivable, owed in (await session.exec(query)).all():
        promise.resolved_at = now
        if owed > 0:
            promise.status = PromiseStatus.BROKEN
            # Back into the schedule in a new round, with the broken promise noted: the next
            # step is sent at once (the last step again when it was reached).
            if receivable.reminded_step is not None and receivable.reminded_step >= steps[-1].days:
                receivable.reminded_step = _step_before(steps, receivable.reminded_step)
            receivable.reminded_on = None
            receivable.dunning_round += 1
            receivable.updated_at = now
            session.add(receivable)
            broken[receivable.id or 0] = promise.promised_on
            audit.record(
                session, at=now, action="receivable.promise_broken", entity="receivable",
                entity_id=receivable.id, actor_label="system",
                before={"promised_on": promise.promised_on.isoformat()},
                after={"balance": str(owed)},
            )  # fmt: skip
        else:
            promise.status = PromiseStatus.KEPT
        session.add(promise)
    await session.flush()
    return broken


@dataclass(frozen=True)
class Listed:
    """A document of the schedule and the step it is reminded at in this run (None: it is
    listed with the others but does not move)."""

    document: Document
    step: DunningStep | None


@dataclass(frozen=True)
class Reminder:
    """What a reminder shows (the view ``collections.reminder``): the customer's documents in
    the schedule, the step's tone, broken promises (document id: promised day) and the last
    contact. ``rep_name`` makes it the escalation copy for a manager or a director."""

    reminder_id: int
    customer: str
    tone: str
    documents: list[Document]
    broken: dict[int, date]
    today: date
    last_contact: date | None
    rep_name: str | None = None


async def _directors(session: AsyncSession) -> list[User]:
    query = select(User).where(col(User.role) == Role.DIRECTOR, col(User.active).is_(True))
    return list((await session.exec(query.order_by(col(User.id)))).all())


@dataclass(frozen=True)
class DigestLine:
    """One customer in a digest: the reminder that opens its documents, the step's tone, how
    many documents, what they owe (per currency) and the oldest one's days overdue."""

    reminder_id: int
    customer: str
    tone: str
    count: int
    totals: dict[str, Decimal]
    days_overdue: int
    rep_name: str


@dataclass(frozen=True)
class Digest:
    """Everything one person is told in one run (views ``collections.digest`` for the rep,
    ``collections.escalation_digest`` for a manager or a director, by rep then customer)."""

    lines: list[DigestLine]
    today: date


@dataclass
class _Pending:
    """A customer's reminder written in this run, waiting for its message."""

    reminder: DunningReminder
    shown: Reminder
    line: DigestLine
    stepped: list[tuple[Receivable, int]]
    recipients: list[str]


def _digest_key(kind: str, person: User, items: list[_Pending]) -> str:
    # The same reminders give the same key, so a racing second run adds nothing.
    joined = "|".join(sorted(item.reminder.key for item in items))
    return f"dun:{kind}:u{person.id}:{hashlib.sha256(joined.encode()).hexdigest()[:20]}"


async def run_dunning(
    session: AsyncSession,
    *,
    render: Render,
    team: TeamContext,
    today: date,
    now: datetime,
) -> DunningRun:
    """Write today's reminders of one team to the outbox (see the module docstring); ``today``
    is the run's day in the team's timezone."""
    rules = team.rules.collections
    steps = rules.steps
    run = DunningRun()
    broken = await expire_promises(
        session, team_id=team.team_id, today=today, now=now, steps=steps
    )
    run.broken = len(broken)
    docs = await receivables.documents(
        session,
        col(Receivable.team_id) == team.team_id,
        col(Receivable.status) == ReceivableStatus.OPEN,
    )
    groups: dict[tuple[int, int | None], list[Listed]] = defaultdict(list)
    for doc in docs:
        if doc.promised_on is not None or current_step(steps, doc.days_overdue(today)) is None:
            continue
        step = next_step(steps, doc.receivable, doc.days_overdue(today), today,
                         rules.step_interval_days)  # fmt: skip
        groups[(doc.receivable.customer_id, doc.receivable.owner_id)].append(Listed(doc, step))
    if not groups:
        return run
    contacts = await receivables.last_contacts(session, [c for c, _ in groups])
    manager = await team_manager(session, team.team_id)
    by_rep: dict[int, tuple[User, list[_Pending]]] = {}
    for (customer_id, owner_id), listed in groups.items():
        due = [item for item in listed if item.step is not None]
        if not due:
            continue
        driving = max(due, key=lambda item: item.step.days if item.step else 0)
        assert driving.step is not None
        step = driving.step
        owner = await session.get(User, owner_id) if owner_id is not None else None
        rep = owner if owner is not None and owner.active else manager
        if rep is None or rep.id is None:
            continue
        receivable = driving.document.receivable
        key = f"dun:{customer_id}:{step.days}:{driving.document.id}.{receivable.dunning_round}"
        if (
            await session.exec(select(DunningReminder.id).where(DunningReminder.key == key))
        ).first() is not None:
            continue
        reminder = DunningReminder(
            team_id=team.team_id, customer_id=customer_id, recipient_id=rep.id,
            step_days=step.days, tone=step.tone, run_on=today, key=key, created_at=now,
            documents=[
                {"id": item.document.id,
                 "step": item.step.days if item.step else item.document.receivable.reminded_step,
                 "prev": item.document.receivable.reminded_step}
                for item in listed
            ],
        )  # fmt: skip
        session.add(reminder)
        await session.flush()
        last = contacts.get(customer_id)
        shown = Reminder(
            reminder_id=reminder.id or 0, customer=driving.document.customer_name,
            tone=step.tone, documents=[item.document for item in listed],
            broken=broken, today=today, last_contact=team.local(last).date() if last else None,
        )  # fmt: skip
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for item in listed:
            totals[item.document.receivable.currency] += item.document.balance
        line = DigestLine(
            reminder_id=reminder.id or 0, customer=driving.document.customer_name,
            tone=step.tone, count=len(listed), totals=dict(totals),
            days_overdue=max(item.document.days_overdue(today) for item in listed),
            rep_name=rep.display_name,
        )  # fmt: skip
        stepped = [(item.document.receivable, item.step.days) for item in due if item.step]
        pending = _Pending(reminder, shown, line, stepped, list(step.recipients))
        by_rep.setdefault(rep.id, (rep, []))[1].append(pending)
    sent: list[_Pending] = []
    for rep, items in by_rep.values():
        sent += await _send_to_rep(session, render, rep, items, today=today, now=now)
    run.reminders = [item.reminder.id or 0 for item in sent]
    run.copies = await _escalate(session, render, team, sent, manager, rep_ids=set(by_rep),
                                 today=today, now=now)  # fmt: skip
    await session.flush()
    return run


async def _send_to_rep(
    session: AsyncSession,
    render: Render,
    rep: User,
    items: list[_Pending],
    *,
    today: date,
    now: datetime,
) -> list[_Pending]:
    """One message to the rep: the customer's full reminder when there is one customer, else a
    digest with a line and a button per customer. Nothing queued (a duplicate, or the run's
    limit for this chat): the reminders are dropped and the documents keep their state."""
    items.sort(key=lambda item: (-item.line.days_overdue, item.line.customer))
    if len(items) == 1:
        outbox_id = await notices.send(
            session, render, view="collections.reminder", data=items[0].shown,
            lang=rep.language, key=f"{items[0].reminder.key}:rep", chat_id=rep.telegram_id,
            recipient_id=rep.id, kind="dunning.reminder", now=now,
        )  # fmt: skip
    else:
        outbox_id = await notices.send(
            session, render, view="collections.digest",
            data=Digest([item.line for item in items], today), lang=rep.language,
            key=_digest_key("dg", rep, items), chat_id=rep.telegram_id, recipient_id=rep.id,
            kind="dunning.reminder", now=now,
        )  # fmt: skip
    if outbox_id is None:
        for item in items:
            await session.delete(item.reminder)
        return []
    for item in items:
        item.reminder.outbox_id = outbox_id
        session.add(item.reminder)
        for receivable, step_days in item.stepped:
            receivable.reminded_step, receivable.reminded_on = step_days, today
            session.add(receivable)
    return items


async def _escalate(
    session: AsyncSession,
    render: Render,
    team: TeamContext,
    sent: list[_Pending],
    manager: User | None,
    *,
    rep_ids: set[int],
    today: date,
    now: datetime,
) -> int:
    """One escalation message per manager and director for the whole run (by rep, then
    customer); directors only hear of customers owing at least the team's threshold."""
    threshold = team.rules.collections.director_min_amount
    audience: dict[int, tuple[User, list[_Pending]]] = {}
    directors = await _directors(session)
    for item in sent:
        told: list[User] = []
        if "manager" in item.recipients and manager is not None:
            told.append(manager)
        if "director" in item.recipients and max(item.line.totals.values()) >= threshold:
            told += directors
        for person in told:
            if person.id is not None and person.id != item.reminder.recipient_id:
                audience.setdefault(person.id, (person, []))[1].append(item)
    copies = 0
    for person, items in audience.values():
        items.sort(key=lambda item: (item.line.rep_name, -item.line.days_overdue,
                                     item.line.customer))  # fmt: skip
        if len(items) == 1:
            only = items[0]
            suffix = f"m{person.id}" if manager is not None and person.id == manager.id else (
                f"d{person.id}")  # fmt: skip
            queued = await notices.send(
                session, render, view="collections.reminder",
                data=replace(only.shown, rep_name=only.line.rep_name), lang=person.language,
                key=f"{only.reminder.key}:{suffix}", chat_id=person.telegram_id,
                recipient_id=person.id, kind="dunning.escalation", now=now,
            )  # fmt: skip
        else:
            queued = await notices.send(
                session, render, view="collections.escalation_digest",
                data=Digest([item.line for item in items], today), lang=person.language,
                key=_digest_key("esc", person, items), chat_id=person.telegram_id,
                recipient_id=person.id, kind="dunning.escalation", now=now,
            )  # fmt: skip
        copies += queued is not None
    return copies


async def reminder_team(session: AsyncSession, reminder_id: int) -> int:
    """The team a reminder belongs to ("not found" for an unknown id)."""
    reminder = await session.get(DunningReminder, reminder_id)
    if reminder is None:
        raise NotAllowedError("collections.not_found")
    return reminder.team_id


async def open_reminder(
    session: AsyncSession, actor: Actor, reminder_id: int, team: TeamContext
) -> Reminder:
    """A customer's reminder opened from a digest: its documents still open and visible to
    ``actor`` as of today, with the tone it was sent at."""
    reminder = await session.get(DunningReminder, reminder_id)
    if reminder is None:
        raise NotAllowedError("collections.not_found")
    ids = [int(entry["id"]) for entry in reminder.documents]
    found = await receivables.documents(
        session, col(Receivable.id).in_(ids), receivables.visibility(actor)
    )
    if not found:
        raise UserFacingError("collections.nothing_open")
    last = (await receivables.last_contacts(session, [reminder.customer_id])).get(
        reminder.customer_id
    )
    return Reminder(
        reminder_id=reminder_id, customer=found[0].customer_name, tone=reminder.tone,
        documents=found, broken={}, today=team.today,
        last_contact=team.local(last).date() if last else None,
    )  # fmt: skip
