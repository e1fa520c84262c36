"""Visits: logging, check-in honesty, editing within the edit window, and progress vs targets.

A visit is saved whole or not at all (the chat form keeps the draft until Save). An in-person
check-in farther than the team's radius from the customer's stored location is flagged for the
manager. Edits and deletions are allowed to the rep who logged the visit, within the team's edit
window (24 hours by default), and both leave an audit row with the old and new values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.periods import local_moment, local_today
from models.common import Role
from models.customer import Customer
from models.plan import PlannedVisit, PlanSource
from models.user import User
from models.visit import (
    AttachmentKind,
    CheckinSource,
    Visit,
    VisitAttachment,
    VisitKind,
    VisitPurpose,
)
from services import audit, receivables
from services.customers import CustomerInput, create_customer, get_visible, update_customer
from services.geo import distance_m
from services.team_context import TeamContext
from services.users import Actor

MAX_NOTES = 2000
MAX_NEXT_STEP = 300
MAX_PHOTOS = 10
VISITING_ROLES = frozenset({Role.REP, Role.MANAGER})


@dataclass(frozen=True)
class Checkin:
    latitude: float
    longitude: float
    accuracy_m: float | None
    source: CheckinSource


@dataclass
class VisitDraft:
    """Everything the rep entered; nothing is stored before it is complete."""

    kind: VisitKind
    purpose: VisitPurpose
    visited_at: datetime
    customer_id: int | None = None
    new_customer: CustomerInput | None = None
    notes: str = ""
    voice_file_ids: list[str] = field(default_factory=list)
    photo_file_ids: list[str] = field(default_factory=list)
    checkin: Checkin | None = None
    next_step: str | None = None
    follow_up_on: date | None = None
    store_location: bool = False
    # The rep confirmed that a new customer sharing a phone number is a different customer.
    allow_same_phone: bool = False


@dataclass(frozen=True)
class Progress:
    """A rep's visits this ISO week and new customers this month, against the targets."""

    in_person: int
    phone: int
    new_customers: int
    in_person_target: int
    phone_target: int
    new_customers_target: int


@dataclass(frozen=True)
class LoggedVisit:
    visit: Visit
    customer: Customer
    progress: Progress
    customer_created: bool
    location_stored: bool


def checkin_source(accuracy_m: float | None, live: bool) -> CheckinSource:
    """Live location, the phone's current position (it has an accuracy), or a picked point."""
    if live:
        return CheckinSource.LIVE
    return CheckinSource.CURRENT if accuracy_m is not None else CheckinSource.PICKED


def evaluate_checkin(
    kind: VisitKind, checkin: Checkin | None, customer: Customer, radius_m: int
) -> tuple[float | None, bool]:
    """(metres to the customer, flagged): in-person check-ins beyond the radius are flagged."""
    if checkin is None or customer.latitude is None or customer.longitude is None:
        return None, False
    distance = distance_m(
        checkin.latitude, checkin.longitude, customer.latitude, customer.longitude
    )
    return distance, kind == VisitKind.IN_PERSON and distance > radius_m


def check_visit_time(visited_at: datetime, team: TeamContext) -> None:
    """A visit is logged for earlier today or yesterday (team timezone), never the future."""
    if visited_at > team.now + timedelta(minutes=1):
        raise UserFacingError("visits.time_in_future")
    if (team.today - local_today(visited_at, team.timezone)).days not in (0, 1):
        raise UserFacingError("visits.time_not_today")


def _check_texts(draft: VisitDraft) -> None:
    if len(draft.notes) > MAX_NOTES:
        raise UserFacingError("visits.notes_too_long", limit=MAX_NOTES, length=len(draft.notes))
    if draft.next_step and len(draft.next_step) > MAX_NEXT_STEP:
        raise UserFacingError(
            "visits.next_step_too_long", limit=MAX_NEXT_STEP, length=len(draft.next_step)
        )
    if len(draft.photo_file_ids) > MAX_PHOTOS:
        raise UserFacingError("visits.too_many_photos", limit=MAX_PHOTOS)


async def _customer_for(
    session: AsyncSession, actor: Actor, draft: VisitDraft, now: datetime
) -> tuple[Customer, bool]:
    if draft.new_customer is not None:
        assert actor.team_id is not None
        values = draft.new_customer
        values.owner_id = values.owner_id or actor.user_id
        customer = await create_customer(
            session, actor=actor, team_id=actor.team_id, values=values, now=now,
            allow_same_phone=draft.allow_same_phone,
        )  # fmt: skip
        return customer, True
    if draft.customer_id is None:
        raise UserFacingError("visits.customer_missing")
    customer = await get_visible(session, actor, draft.customer_id)
    if customer.team_id != actor.team_id:
        raise NotAllowedError("customers.not_found")
    return customer, False


def _require_visitor(actor: Actor) -> None:
    if actor.role not in VISITING_ROLES or actor.team_id is None:
        raise NotAllowedError("access.role_not_allowed")


async def _apply(
    session: AsyncSession,
    *,
    actor: Actor,
    visit: Visit,
    draft: VisitDraft,
    customer: Customer,
    team: TeamContext,
) -> bool:
    """Copy the draft onto the visit; store the first check-in as the customer's location."""
    now = team.now
    location_stored = False
    checkin = draft.checkin
    if visit.id is not None and (visit.checked_out_at is not None or visit.is_open):
        # A check-in is proof taken at the time: an edit keeps its place, time and kind.
        checkin = Checkin(
            visit.checkin_latitude or 0.0, visit.checkin_longitude or 0.0,
            visit.checkin_accuracy_m, CheckinSource(visit.checkin_source or CheckinSource.PICKED),
        ) if visit.checkin_latitude is not None else None  # fmt: skip
        draft.checkin, draft.visited_at = checkin, visit.visited_at
        draft.kind = VisitKind(visit.kind)
        draft.store_location = False
    if draft.store_location and checkin is not None and not customer.has_location:
        assert customer.id is not None
        await update_customer(
            session, actor=actor, customer_id=customer.id,
            changes={"latitude": checkin.latitude, "longitude": checkin.longitude}, now=now,
            reason="first check-in at the customer",
        )  # fmt: skip
        location_stored = True
    distance, flagged = evaluate_checkin(
        draft.kind, checkin, customer, team.rules.visits.checkin_radius_m
    )
    if location_stored or (visit.location_set_here and visit.customer_id == customer.id):
        # The customer's location is this very check-in: "0 m" would prove nothing.
        distance, flagged = None, False
        visit.location_set_here = True
    else:
        visit.location_set_here = False
    visit.customer_id = customer.id or 0
    visit.kind, visit.purpose = draft.kind, draft.purpose
    visit.visited_at = draft.visited_at
    visit.notes, visit.next_step = draft.notes, draft.next_step or None
    visit.follow_up_on = draft.follow_up_on
    visit.checkin_latitude = checkin.latitude if checkin else None
    visit.checkin_longitude = checkin.longitude if checkin else None
    visit.checkin_accuracy_m = checkin.accuracy_m if checkin else None
    visit.checkin_source = checkin.source if checkin else None
    visit.distance_m = round(distance, 1) if distance is not None else None
    visit.flagged = flagged
    visit.updated_at = now
    if visit.id is None:
        # A new visit: one INSERT returning its id, no ORM unit of work; the object stays out
        # of the session (nothing later in the turn changes it).
        columns = {c.key: getattr(visit, c.key) for c in Visit.__table__.columns if c.key != "id"}  # type: ignore[attr-defined]
        inserted = await session.exec(_INSERT_VISIT, params=columns)  # type: ignore[call-overload]
        visit.id = int(inserted.scalar_one())
    else:
        session.add(visit)
        await session.flush()
    return location_stored


def snapshot(visit: Visit, attachments: list[VisitAttachment] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer_id": visit.customer_id, "kind": str(visit.kind),
        "purpose": str(visit.purpose), "visited_at": visit.visited_at.isoformat(),
        "notes": visit.notes, "next_step": visit.next_step,
        "follow_up_on": visit.follow_up_on.isoformat() if visit.follow_up_on else None,
        "checkin": [visit.checkin_latitude, visit.checkin_longitude, visit.checkin_accuracy_m,
                    str(visit.checkin_source) if visit.checkin_source else None],
        "distance_m": visit.distance_m, "flagged": visit.flagged,
        "location_set_here": visit.location_set_here, "is_open": visit.is_open,
        "checked_out_at": visit.checked_out_at.isoformat() if visit.checked_out_at else None,
        "auto_closed": visit.auto_closed, "short_visit": visit.short_visit,
    }  # fmt: skip
    if attachments is not None:
        data["attachments"] = sorted(f"{a.kind}:{a.file_id}" for a in attachments)
    return data


async def _replace_attachments(
    session: AsyncSession, visit_id: int, draft: VisitDraft, now: datetime, *, new: bool = False
) -> list[VisitAttachment]:
    """The draft's photos and voice notes as the visit's attachments. A ``new`` visit has none
    yet: nothing to read or delete (visit rows are never deleted, so an id is never reused)."""
    kept: dict[str, VisitAttachment] = {}
    if not new:
        # An edit keeps the stamped copy of a photo it keeps: the stamp proves when it came in.
        kept = {
            a.file_id: a
            for a in await attachments_of(session, visit_id)
            if a.kind == AttachmentKind.PHOTO and a.stamped is not None
        }
        await session.exec(
            delete(VisitAttachment).where(col(VisitAttachment.visit_id) == visit_id)
        )
    added = [
        VisitAttachment(visit_id=visit_id, kind=AttachmentKind.PHOTO, file_id=fid, created_at=now)
        for fid in draft.photo_file_ids
    ] + [
        VisitAttachment(visit_id=visit_id, kind=AttachmentKind.VOICE, file_id=fid, created_at=now)
        for fid in draft.voice_file_ids
    ]
    for attachment in added:
        before = kept.get(attachment.file_id)
        if before is not None and attachment.kind == AttachmentKind.PHOTO:
            attachment.created_at = before.created_at
            attachment.original_sha256 = before.original_sha256
            attachment.stamp_text = before.stamp_text
            attachment.stamped = before.stamped
            attachment.stamped_at = before.stamped_at
    if added:
        session.add_all(added)
        await session.flush()
    return added


async def _sync_plans(
    session: AsyncSession, visit: Visit, day: date, now: datetime, *, new: bool = False
) -> None:
    """Mark the plans this visit carries out; keep its follow-up date in the plan. No plan
    refers to a ``new`` visit yet: what an edit must undo first is skipped for it."""
    assert visit.id is not None
    if not new:
        await session.exec(
            update(PlannedVisit)
            .where(col(PlannedVisit.done_visit_id) == visit.id)
            .values(done_visit_id=None)
        )
    if visit.deleted_at is None:
        await session.exec(
            _CARRY_OUT_PLANS,  # type: ignore[call-overload]
            params={
                "rep": visit.rep_id, "customer": visit.customer_id, "day": day,
                "visit": visit.id,
            },
        )  # fmt: skip
    pending = (
        []
        if new
        else (
            await session.exec(
                select(PlannedVisit).where(
                    col(PlannedVisit.origin_visit_id) == visit.id,
                    col(PlannedVisit.done_visit_id).is_(None),
                )
            )
        ).all()
    )
    wanted = visit.follow_up_on if visit.deleted_at is None else None
    for plan in pending:
        if (
            wanted is not None
            and plan.planned_on == wanted
            and plan.customer_id == visit.customer_id
        ):
            wanted = None
            continue
        # Another visit may ask for the same follow-up: it keeps the entry alive.
        heir = (
            await session.exec(
                select(col(Visit.id)).where(
                    col(Visit.rep_id) == plan.rep_id,
                    col(Visit.customer_id) == plan.customer_id,
                    col(Visit.follow_up_on) == plan.planned_on,
                    col(Visit.deleted_at).is_(None),
                    col(Visit.id) != visit.id,
                )
            )
        ).first()
        if heir is not None:
            plan.origin_visit_id = heir
            session.add(plan)
        else:
            await session.delete(plan)
    await session.flush()
    if wanted is None:
        return
    exists = (
        await session.exec(
            select(PlannedVisit).where(
                col(PlannedVisit.rep_id) == visit.rep_id,
                col(PlannedVisit.customer_id) == visit.customer_id,
                col(PlannedVisit.planned_on) == wanted,
            )
        )
    ).first()
    if exists is None:
        session.add(
            PlannedVisit(
                team_id=visit.team_id, rep_id=visit.rep_id, customer_id=visit.customer_id,
                planned_on=wanted, source=PlanSource.FOLLOW_UP, origin_visit_id=visit.id,
                created_by_id=visit.rep_id, created_at=now,
            )
        )  # fmt: skip
        await session.flush()


async def log_visit(
    session: AsyncSession, *, actor: Actor, draft: VisitDraft, team: TeamContext,
    check_in: bool = False,
) -> LoggedVisit:  # fmt: skip
    """Save a complete visit: it counts toward the targets and carries out today's plan.

    With ``check_in`` the visit is opened at the customer now and closed by a check-out.
    """
    now = team.now
    _require_visitor(actor)
    if check_in:
        if draft.kind is not VisitKind.IN_PERSON or draft.checkin is None:
            raise UserFacingError("visits.checkin_needs_location")
        already = await open_visit(session, actor.user_id)
        if already is not None:
            raise UserFacingError("visits.still_checked_in")
        draft.visited_at = now
    _check_texts(draft)
    check_visit_time(draft.visited_at, team)
    customer, created = await _customer_for(session, actor, draft, now)
    visit = Visit(
        team_id=customer.team_id, rep_id=actor.user_id, customer_id=customer.id or 0,
        kind=draft.kind, purpose=draft.purpose, visited_at=draft.visited_at,
        is_open=check_in, created_at=now, updated_at=now,
    )  # fmt: skip
    stored = await _apply(
        session, actor=actor, visit=visit, draft=draft, customer=customer, team=team
    )
    assert visit.id is not None
    attachments = await _replace_attachments(session, visit.id, draft, now, new=True)
    day = local_today(visit.visited_at, team.timezone)
    await _sync_plans(session, visit, day, now, new=True)
    await audit.insert(
        session, at=now, action="visit.checked_in" if check_in else "visit.created",
        entity="visit", entity_id=visit.id, actor_id=actor.user_id,
        after=snapshot(visit, attachments),
    )  # fmt: skip
    return LoggedVisit(
        visit=visit,
        customer=customer,
        progress=await progress(session, actor.user_id, team),
        customer_created=created,
        location_stored=stored,
    )


def editable(visit: Visit, team: TeamContext) -> bool:
    """Whether the visit is still inside the team's edit window."""
    return team.now - visit.created_at <= timedelta(hours=team.rules.visits.edit_window_hours)


async def editable_visit(
    session: AsyncSession, actor: Actor, visit_id: int, team: TeamContext
) -> tuple[Visit, list[VisitAttachment]]:
    """The actor's own visit, if it is still inside the edit window."""
    visit = await session.get(Visit, visit_id)
    if visit is None or visit.rep_id != actor.user_id or visit.deleted_at is not None:
        raise NotAllowedError("visits.not_found")
    if visit.is_open:
        raise UserFacingError("visits.still_open")
    if not editable(visit, team):
        hours = team.rules.visits.edit_window_hours
        raise UserFacingError("visits.edit_window_over", hours=hours, count=hours)
    return visit, await attachments_of(session, visit_id)


async def attachments_of(session: AsyncSession, visit_id: int) -> list[VisitAttachment]:
    query = select(VisitAttachment).where(col(VisitAttachment.visit_id) == visit_id)
    return list((await session.exec(query.order_by(col(VisitAttachment.id)))).all())


async def update_visit(
    session: AsyncSession,
    *,
    actor: Actor,
    visit_id: int,
    draft: VisitDraft,
    team: TeamContext,
) -> LoggedVisit:
    """Replace a visit's details (within the edit window); audited with before and after."""
    now = team.now
    _require_visitor(actor)
    visit, old_attachments = await editable_visit(session, actor, visit_id, team)
    _check_texts(draft)
    if draft.visited_at != visit.visited_at:
        check_visit_time(draft.visited_at, team)
    before = snapshot(visit, old_attachments)
    customer, created = await _customer_for(session, actor, draft, now)
    stored = await _apply(
        session, actor=actor, visit=visit, draft=draft, customer=customer, team=team
    )
    await _record_change(
        session, actor=actor, visit=visit, draft=draft, team=team, before=before,
        action="visit.edited", now=now,
    )  # fmt: skip
    return LoggedVisit(
        visit=visit,
        customer=customer,
        progress=await progress(session, actor.user_id, team),
        customer_created=created,
        location_stored=stored,
    )


async def delete_visit(
    session: AsyncSession, *, actor: Actor, visit_id: int, team: TeamContext
) -> Visit:
    """Delete one's own visit within the edit window; it stops counting, but the deletion is
    soft: the manager still sees it, with who deleted it and when. A flagged visit (far
    check-in, short stay) is proof the rep may not erase."""
    now = team.now
    visit, attachments = await editable_visit(session, actor, visit_id, team)
    if visit.flagged or visit.short_visit:
        raise UserFacingError("visits.flagged_not_deletable")
    before = snapshot(visit, attachments)
    visit.deleted_at = visit.updated_at = now
    visit.deleted_by_id = actor.user_id
    session.add(visit)
    await session.flush()
    await _sync_plans(session, visit, local_today(visit.visited_at, team.timezone), now)
    audit.record(
        session, at=now, action="visit.deleted", entity="visit", entity_id=visit.id,
        actor_id=actor.user_id, before=before,
    )  # fmt: skip
    return visit


def draft_of(visit: Visit, attachments: list[VisitAttachment]) -> VisitDraft:
    checkin = None
    if visit.checkin_latitude is not None and visit.checkin_longitude is not None:
        checkin = Checkin(
            visit.checkin_latitude, visit.checkin_longitude, visit.checkin_accuracy_m,
            CheckinSource(visit.checkin_source or CheckinSource.PICKED),
        )  # fmt: skip
    return VisitDraft(
        kind=VisitKind(visit.kind), purpose=VisitPurpose(visit.purpose),
        visited_at=visit.visited_at, customer_id=visit.customer_id, notes=visit.notes,
        voice_file_ids=[a.file_id for a in attachments if a.kind == AttachmentKind.VOICE],
        photo_file_ids=[a.file_id for a in attachments if a.kind == AttachmentKind.PHOTO],
        checkin=checkin, next_step=visit.next_step, follow_up_on=visit.follow_up_on,
    )  # fmt: skip


async def recent_visits(
    session: AsyncSession, rep_id: int, *, limit: int = 10, since: datetime | None = None,
    until: datetime | None = None, flagged_only: bool = False, with_deleted: bool = False,
) -> list[tuple[Visit, Customer]]:  # fmt: skip
    """A rep's latest visits, newest first; deleted ones only ``with_deleted`` (the manager)."""
    query = (
        select(Visit, Customer)
        .join(Customer, col(Customer.id) == col(Visit.customer_id))
        .where(col(Visit.rep_id) == rep_id)
    )
    if not with_deleted:
        query = query.where(col(Visit.deleted_at).is_(None))
    if since is not None:
        query = query.where(col(Visit.visited_at) >= since)
    if until is not None:
        query = query.where(col(Visit.visited_at) < until)
    if flagged_only:
        query = query.where(col(Visit.flagged).is_(True) | col(Visit.short_visit).is_(True))
    query = query.order_by(col(Visit.visited_at).desc(), col(Visit.id).desc()).limit(limit)
    return [(visit, customer) for visit, customer in (await session.exec(query)).all()]


async def attachment_counts(session: AsyncSession, visit_ids: list[int]) -> dict[int, int]:
    if not visit_ids:
        return {}
    query = (
        select(col(VisitAttachment.visit_id), func.count())
        .where(col(VisitAttachment.visit_id).in_(visit_ids))
        .group_by(col(VisitAttachment.visit_id))
    )
    return {visit_id: int(count) for visit_id, count in (await session.exec(query)).all()}


@dataclass(frozen=True)
class RepVisits:
    """A rep's visits of one period (newest first) and the files kept with each."""

    rep_id: int
    name: str
    label: str
    visits: list[tuple[Visit, Customer]]
    attachments: dict[int, int]
    # Per visit, the ids of its photos that have a stamped copy (what managers are shown).
    photos: dict[int, list[int]] = field(default_factory=dict)


async def stamped_photo_ids(session: AsyncSession, visit_ids: list[int]) -> dict[int, list[int]]:
    if not visit_ids:
        return {}
    query = (
        select(col(VisitAttachment.visit_id), col(VisitAttachment.id))
        .where(
            col(VisitAttachment.visit_id).in_(visit_ids),
            col(VisitAttachment.kind) == AttachmentKind.PHOTO,
            col(VisitAttachment.stamped).is_not(None),
        )
        .order_by(col(VisitAttachment.id))
    )
    found: dict[int, list[int]] = {}
    for visit_id, attachment_id in (await session.exec(query)).all():
        if attachment_id is not None:
            found.setdefault(visit_id, []).append(attachment_id)
    return found


async def stamped_photo(session: AsyncSession, actor: Actor, attachment_id: int) -> bytes:
    """The stamped copy of a visit photo, for someone who may see the visit's rep (the /team
    rule, as the rep's visits); the unstamped original is never handed out. Anything else
    (another team's, a voice note, a photo not stamped yet, a deleted visit) is "not found"."""
    row = (
        await session.exec(
            select(VisitAttachment, Visit)
            .join(Visit, col(Visit.id) == col(VisitAttachment.visit_id))
            .where(col(VisitAttachment.id) == attachment_id)
        )
    ).first()
    if row is None:
        raise NotAllowedError("webapp.photo_not_found")
    attachment, visit = row
    try:
        await visible_rep(session, actor, visit.rep_id)
    except NotAllowedError:
        raise NotAllowedError("webapp.photo_not_found") from None
    if (
        attachment.kind != AttachmentKind.PHOTO
        or attachment.stamped is None
        or visit.deleted_at is not None
    ):
        raise NotAllowedError("webapp.photo_not_found")
    return attachment.stamped


# A drill-down page, not an export: a month of a busy rep fits well under this.
REP_PAGE_LIMIT = 300


async def rep_visits(
    session: AsyncSession, actor: Actor, rep_id: int, *, since: datetime, until: datetime,
    label: str,
) -> RepVisits:  # fmt: skip
    """The visits of a rep the actor may see (the /team rule), between ``since`` and ``until``."""
    rep = await visible_rep(session, actor, rep_id)
    assert rep.id is not None
    rows = await recent_visits(session, rep.id, limit=REP_PAGE_LIMIT, since=since, until=until)
    ids = [v.id for v, _ in rows if v.id is not None]
    counts = await attachment_counts(session, ids)
    photos = await stamped_photo_ids(session, ids)
    return RepVisits(rep.id, rep.display_name, label, rows, counts, photos)


async def progress(session: AsyncSession, rep_id: int, team: TeamContext) -> Progress:
    """Visits of the ISO week by kind and new customers of the month: three counts in one
    statement (it answers every saved visit)."""
    week, month = team.this_week, team.this_month
    counted = {
        "rep": rep_id, "in_person": VisitKind.IN_PERSON, "phone": VisitKind.PHONE,
        "week_start": week.start, "week_end": week.end, "month_start": month.start,
        "month_end": month.end,
    }  # fmt: skip
    in_person, phone, created = (
        await session.exec(_PROGRESS, params=counted)  # type: ignore[call-overload]
    ).one()
    targets = team.rules.targets
    return Progress(
        in_person=int(in_person),
        phone=int(phone),
        new_customers=int(created),
        in_person_target=targets.in_person_per_week,
        phone_target=targets.phone_per_week,
        new_customers_target=targets.new_customers_per_month,
    )


@dataclass(frozen=True)
class RepFigures:
    user_id: int
    name: str
    in_person: int
    phone: int
    new_customers: int
    flagged: int
    # Visits of the week the rep deleted (soft deletions stay visible to the manager).
    deleted: int = 0


async def team_figures(session: AsyncSession, team: TeamContext) -> list[RepFigures]:
    """Each rep's visits this week by kind, flagged check-ins, and new customers this month."""
    team_id = team.team_id
    week, month = team.this_week, team.this_month
    reps = (
        await session.exec(
            select(User)
            .where(col(User.team_id) == team_id, col(User.active).is_(True))
            .where(col(User.role) == Role.REP)
            .order_by(col(User.display_name))
        )
    ).all()
    visit_rows = await session.exec(
        select(
            col(Visit.rep_id),
            func.count(case((col(Visit.kind) == VisitKind.IN_PERSON, 1))),
            func.count(case((col(Visit.kind) == VisitKind.PHONE, 1))),
            func.count(case((col(Visit.flagged).is_(True) | col(Visit.short_visit).is_(True), 1))),
        )
        .where(
            col(Visit.team_id) == team_id,
            col(Visit.deleted_at).is_(None),
            col(Visit.visited_at) >= week.start,
            col(Visit.visited_at) < week.end,
        )
        .group_by(col(Visit.rep_id))
    )
    visits = {rep_id: (int(a), int(b), int(c)) for rep_id, a, b, c in visit_rows.all()}
    deleted_rows = await session.exec(
        select(col(Visit.rep_id), func.count())
        .where(
            col(Visit.team_id) == team_id,
            col(Visit.deleted_at).is_not(None),
            col(Visit.visited_at) >= week.start,
            col(Visit.visited_at) < week.end,
        )
        .group_by(col(Visit.rep_id))
    )
    deleted = {rep_id: int(count) for rep_id, count in deleted_rows.all()}
    new_rows = await session.exec(
        select(col(Customer.created_by_id), func.count())
        .where(
            col(Customer.team_id) == team_id,
            col(Customer.source) == "chat",
            col(Customer.created_at) >= month.start,
            col(Customer.created_at) < month.end,
        )
        .group_by(col(Customer.created_by_id))
    )
    new_customers = {user_id: int(count) for user_id, count in new_rows.all()}
    figures = []
    for rep in reps:
        assert rep.id is not None
        in_person, phone, flagged = visits.get(rep.id, (0, 0, 0))
        figures.append(
            RepFigures(
                user_id=rep.id, name=rep.display_name, in_person=in_person, phone=phone,
                new_customers=new_customers.get(rep.id, 0), flagged=flagged,
                deleted=deleted.get(rep.id, 0),
            )
        )  # fmt: skip
    return figures


async def visible_rep(session: AsyncSession, actor: Actor, rep_id: int) -> User:
    """A rep whose visits the actor (a manager of their team, a director, an admin) may see."""
    rep = await session.get(User, rep_id)
    if rep is None:
        raise NotAllowedError("team.rep_not_found")
    if actor.sees_all_teams() or (actor.role is Role.MANAGER and rep.team_id == actor.team_id):
        return rep
    raise NotAllowedError("team.rep_not_found")


async def open_visit(session: AsyncSession, rep_id: int) -> Visit | None:
    """The visit the rep is checked in at (at most one), if any."""
    query = select(Visit).where(
        col(Visit.rep_id) == rep_id, col(Visit.is_open).is_(True), col(Visit.deleted_at).is_(None)
    )
    return (await session.exec(query)).first()


async def default_purpose(
    session: AsyncSession, rep_id: int, customer_id: int | None, day: date
) -> VisitPurpose:
    """The purpose a visit starts with: the plan's for the day, else collection when the
    customer has overdue documents, else the customer's last visit's, else a revisit (a new
    customer's first visit: new)."""
    if customer_id is None:
        return VisitPurpose.NEW
    planned, overdue, last = (
        await session.exec(
            _PURPOSE_HINTS,  # type: ignore[call-overload]
            params={"rep": rep_id, "customer": customer_id, "day": day},
        )
    ).one()
    if planned in tuple(VisitPurpose):
        return VisitPurpose(planned)
    if overdue:
        return VisitPurpose.COLLECTION
    return VisitPurpose(last) if last in tuple(VisitPurpose) else VisitPurpose.REVISIT


async def check_out(
    session: AsyncSession, *, actor: Actor, visit_id: int, draft: VisitDraft,
    checked_out_at: datetime, team: TeamContext,
) -> LoggedVisit:  # fmt: skip
    """Close the rep's open visit with what happened; the time on site is check-in to
    check-out, and a stay shorter than the team's minimum is flagged."""
    now = team.now
    _require_visitor(actor)
    visit = await session.get(Visit, visit_id)
    if visit is None or visit.rep_id != actor.user_id or visit.deleted_at is not None:
        raise NotAllowedError("visits.not_found")
    if not visit.is_open:
        raise UserFacingError("visits.already_checked_out")
    _check_texts(draft)
    before = snapshot(visit, await attachments_of(session, visit_id))
    customer = await get_visible(session, actor, visit.customer_id)
    draft.customer_id, draft.new_customer = customer.id, None
    _close(visit, min(checked_out_at, now), team, auto=False)
    await _apply(session, actor=actor, visit=visit, draft=draft, customer=customer, team=team)
    await _record_change(
        session, actor=actor, visit=visit, draft=draft, team=team, before=before,
        action="visit.checked_out", now=now,
    )  # fmt: skip
    return LoggedVisit(
        visit=visit, customer=customer, progress=await progress(session, actor.user_id, team),
        customer_created=False, location_stored=False,
    )  # fmt: skip


def _close(visit: Visit, at: datetime, team: TeamContext, *, auto: bool) -> None:
    visit.is_open = False
    visit.checked_out_at = max(at, visit.visited_at)
    visit.auto_closed = auto
    minutes = visit.on_site_minutes or 0
    visit.short_visit = minutes < team.rules.visits.min_on_site_minutes


async def close_open_visits(session: AsyncSession, team: TeamContext, at: datetime) -> list[Visit]:
    """The end of the working day closes the visits still open, marked as closed
    automatically (audited): checked out at the end of their own working day, or at ``at``
    when that comes first (a visit checked in after hours)."""
    rows = await session.exec(
        select(Visit).where(
            col(Visit.team_id) == team.team_id,
            col(Visit.is_open).is_(True),
            col(Visit.deleted_at).is_(None),
            col(Visit.visited_at) <= at,
        )
    )
    closed = list(rows.all())
    for visit in closed:
        day = local_today(visit.visited_at, team.timezone)
        day_end = local_moment(day, team.rules.workday_end, team.timezone)
        _close(visit, min(at, day_end), team, auto=True)
        visit.updated_at = team.now
        session.add(visit)
        audit.record(
            session, at=team.now, action="visit.auto_closed", entity="visit",
            entity_id=visit.id, actor_id=None,
                after={"checked_out_at": (visit.checked_out_at or at).isoformat(),
                   "short_visit": visit.short_visit},
        )  # fmt: skip
    await session.flush()
    return closed


async def people_names(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    """Display names by user id (who deleted a visit, for the manager's view)."""
    if not user_ids:
        return {}
    rows = await session.exec(
        select(col(User.id), col(User.display_name)).where(col(User.id).in_(user_ids))
    )
    return {user_id: name for user_id, name in rows.all() if user_id is not None}


@dataclass(frozen=True)
class StampFacts:
    """What the server knows about one visit photo, to be drawn on it."""

    attachment_id: int
    file_id: str
    # When the server received it (UTC) and the team's timezone to show it in.
    received_at: datetime
    timezone: str
    customer: str
    rep: str
    distance_m: float | None
    location_set_here: bool
    latitude: float | None
    longitude: float | None


async def unstamped_photos(
    session: AsyncSession, visit_id: int, team: TeamContext
) -> list[StampFacts]:
    """The visit's photos that have no stamped copy yet, with the stored facts to stamp."""
    visit = await session.get(Visit, visit_id)
    if visit is None:
        return []
    customer = await session.get(Customer, visit.customer_id)
    rep = await session.get(User, visit.rep_id)
    rows = await session.exec(
        select(VisitAttachment).where(
            col(VisitAttachment.visit_id) == visit_id,
            col(VisitAttachment.kind) == AttachmentKind.PHOTO,
            col(VisitAttachment.stamped).is_(None),
        ).order_by(col(VisitAttachment.id))
    )  # fmt: skip
    return [
        StampFacts(
            attachment_id=a.id or 0,
            file_id=a.file_id,
            received_at=a.created_at,
            timezone=team.timezone,
            customer=customer.name if customer else "",
            rep=rep.display_name if rep else "",
            distance_m=visit.distance_m,
            location_set_here=visit.location_set_here,
            latitude=visit.checkin_latitude,
            longitude=visit.checkin_longitude,
        )
        for a in rows.all()
    ]


async def store_stamp(
    session: AsyncSession, attachment_id: int, *, original_sha256: str, text: str,
    stamped: bytes, now: datetime,
) -> None:  # fmt: skip
    attachment = await session.get(VisitAttachment, attachment_id)
    if attachment is None or attachment.stamped is not None:
        return  # the visit was edited meanwhile, or another instance stamped it first
    attachment.original_sha256 = original_sha256
    attachment.stamp_text = text
    attachment.stamped = stamped
    attachment.stamped_at = now
    session.add(attachment)


async def _record_change(
    session: AsyncSession,
    *,
    actor: Actor,
    visit: Visit,
    draft: VisitDraft,
    team: TeamContext,
    before: dict[str, Any],
    action: str,
    now: datetime,
) -> None:
    """After a change to a stored visit: its attachments, the plans it fulfils, and one audit row
    with the fields that changed."""
    attachments = await _replace_attachments(session, visit.id or 0, draft, now)
    await _sync_plans(session, visit, local_today(visit.visited_at, team.timezone), now)
    after = snapshot(visit, attachments)
    changed = [key for key in after if after[key] != before.get(key)]
    audit.record(
        session, at=now, action=action, entity="visit", entity_id=visit.id,
        actor_id=actor.user_id, before={k: before.get(k) for k in changed},
        after={k: after[k] for k in changed},
    )  # fmt: skip


# The statements of every saved visit, built once on the tables (not through the ORM, whose
# statement machinery cost more than the SQL): the values travel as parameters.
_VISITS: Table = Visit.__table__  # type: ignore[attr-defined]
_PLANS: Table = PlannedVisit.__table__  # type: ignore[attr-defined]
_CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
_INSERT_VISIT = insert(_VISITS).returning(_VISITS.c.id)
_CARRY_OUT_PLANS = (
    update(_PLANS)
    .where(
        _PLANS.c.rep_id == bindparam("rep"),
        _PLANS.c.customer_id == bindparam("customer"),
        _PLANS.c.planned_on <= bindparam("day"),
        _PLANS.c.done_visit_id.is_(None),
        _PLANS.c.origin_visit_id.is_distinct_from(bindparam("visit")),
    )
    .values(done_visit_id=bindparam("visit"))
)


def _visits_of_kind(kind: str) -> Any:
    return (
        select(func.count())
        .select_from(_VISITS)
        .where(
            _VISITS.c.rep_id == bindparam("rep"),
            _VISITS.c.kind == bindparam(kind),
            _VISITS.c.deleted_at.is_(None),
            _VISITS.c.visited_at >= bindparam("week_start"),
            _VISITS.c.visited_at < bindparam("week_end"),
        )
        .scalar_subquery()
    )


_PROGRESS = select(
    _visits_of_kind("in_person"),
    _visits_of_kind("phone"),
    select(func.count())
    .select_from(_CUSTOMERS)
    .where(
        _CUSTOMERS.c.created_by_id == bindparam("rep"),
        _CUSTOMERS.c.source == "chat",
        _CUSTOMERS.c.created_at >= bindparam("month_start"),
        _CUSTOMERS.c.created_at < bindparam("month_end"),
    )
    .scalar_subquery(),
)


# What a visit's purpose starts from, in one statement (every customer picked in /visit asks):
# the day's plan for the customer, whether they owe money overdue, their last visit's purpose.
_PURPOSE_HINTS = select(
    select(_PLANS.c.purpose)
    .where(
        _PLANS.c.rep_id == bindparam("rep"),
        _PLANS.c.customer_id == bindparam("customer"),
        _PLANS.c.planned_on == bindparam("day"),
        _PLANS.c.purpose.is_not(None),
    )
    .limit(1)
    .scalar_subquery(),
    receivables.overdue_exists(bindparam("customer"), bindparam("day")),
    select(_VISITS.c.purpose)
    .where(_VISITS.c.customer_id == bindparam("customer"), _VISITS.c.deleted_at.is_(None))
    .order_by(_VISITS.c.visited_at.desc())
    .limit(1)
    .scalar_subquery(),
)
