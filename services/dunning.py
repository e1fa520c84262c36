"""The dunning schedule: which reminders are due today, written to the outbox.

The team's steps (``[defaults.collections.steps]``) are days from the due date, each with a tone
and recipients. For each team, on each run (a working day, in the team's timezone):

- A promise whose date has passed is kept (paid) or broken (unpaid). A broken promise puts its
  document back into the schedule at its current step, with a note in the next reminder.
- A document is *in the schedule* while it has a balance, is not disputed and has no promise for
  today or later. Its *current step* is the latest step whose day has come.
- A customer (per owning rep) gets a reminder when one of their documents has reached a step
  later than the one it was last listed at: ONE message, at the latest such step, listing all
  the customer's documents in the schedule with the total, and buttons to record what happened.
  Steps missed (a weekend, a pause) are not sent one by one: the current step is.
- Listing a document records its step in the same transaction as the outbox row, so a restart
  or a second run never sends a step twice. The outbox key
  ``dun:<customer>:<step>:<document>.<round>`` (``:rep``; ``:m<id>`` for the manager's copy,
  ``:d<id>`` for a director's) makes each message exist once even if two runs raced.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
from services.users import team_manager


def current_step(steps: list[DunningStep], days_overdue: int) -> DunningStep | None:
    """The latest step whose day has come (``days_overdue`` negative before the due date)."""
    reached = [step for step in steps if step.days <= days_overdue]
    return reached[-1] if reached else None


@dataclass
class DunningRun:
    """What one run did, for the logs and the tests."""

    reminders: list[int] = field(default_factory=list)
    copies: int = 0
    broken: int = 0
    kept: int = 0


async def expire_promises(
    session: AsyncSession, *, team_id: int, today: date, now: datetime
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
            # Back into the schedule: its current step is reminded again, in a new round.
            receivable.reminded_step = None
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
    document: Document
    step: DunningStep


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
    steps = team.rules.collections.steps
    run = DunningRun()
    broken = await expire_promises(session, team_id=team.team_id, today=today, now=now)
    run.broken = len(broken)
    docs = await receivables.documents(
        session,
        col(Receivable.team_id) == team.team_id,
        col(Receivable.status) == ReceivableStatus.OPEN,
    )
    groups: dict[tuple[int, int | None], list[Listed]] = defaultdict(list)
    for doc in docs:
        step = current_step(steps, doc.days_overdue(today))
        if doc.promised_on is None and step is not None:
            groups[(doc.receivable.customer_id, doc.receivable.owner_id)].append(Listed(doc, step))
    if not groups:
        return run
    contacts = await receivables.last_contacts(session, [c for c, _ in groups])
    manager = await team_manager(session, team.team_id)
    directors = await _directors(session)
    people: dict[int, User | None] = {}
    for (customer_id, owner_id), listed in groups.items():
        due = [
            item
            for item in listed
            if item.document.receivable.reminded_step is None
            or item.step.days > item.document.receivable.reminded_step
        ]
        if not due:
            continue
        driving = max(due, key=lambda item: item.step.days)
        step = driving.step
        if owner_id is not None and owner_id not in people:
            people[owner_id] = await session.get(User, owner_id)
        owner = people.get(owner_id) if owner_id is not None else None
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
                {"id": item.document.id, "step": item.step.days,
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
        outbox_id = await notices.send(
            session, render, view="collections.reminder", data=shown, lang=rep.language,
            key=f"{key}:rep", chat_id=rep.telegram_id, recipient_id=rep.id,
            kind="dunning.reminder", now=now,
        )  # fmt: skip
        if outbox_id is None:
            await session.delete(reminder)
            continue
        reminder.outbox_id = outbox_id
        session.add(reminder)
        for item in listed:
            item.document.receivable.reminded_step = item.step.days
            session.add(item.document.receivable)
        run.reminders.append(reminder.id or 0)
        copies: list[tuple[str, User]] = []
        if "manager" in step.recipients and manager is not None and manager.id != rep.id:
            copies.append((f"m{manager.id}", manager))
        if "director" in step.recipients:
            copies += [(f"d{person.id}", person) for person in directors]
        for suffix, person in copies:
            queued = await notices.send(
                session, render, view="collections.reminder",
                data=replace(shown, rep_name=rep.display_name), lang=person.language,
                key=f"{key}:{suffix}", chat_id=person.telegram_id, recipient_id=person.id,
                kind="dunning.escalation", now=now,
            )  # fmt: skip
            run.copies += queued is not None
    await session.flush()
    return run
