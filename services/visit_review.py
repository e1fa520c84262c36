"""A visit as its rep's manager reviews it: the details, the stamped photos, comments that reach
the rep; and a photo sent outside any form attached to the rep's open or just-saved visit.

Who may look: the rep who made the visit, a manager of the visit's team, a director or an
admin. Anyone else is told "not found" (never "not yours"), and sees nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import NotAllowedError, UserFacingError
from core.periods import local_today
from models.common import Role
from models.customer import Customer
from models.user import User
from models.visit import AttachmentKind, Visit, VisitAttachment, VisitComment, VisitKind
from services import audit, notices
from services.notices import Render
from services.team_context import TeamContext
from services.users import Actor
from services.visits import MAX_PHOTOS, attachments_of, snapshot

MAX_COMMENT = 1000
# A visit saved this long ago (and today) still takes a photo sent outside any form.
RECENT_HOURS = 3
# At most this many visits are offered for such a photo (the open one first).
PHOTO_TARGETS = 3


@dataclass(frozen=True)
class CommentLine:
    author: str
    at: datetime
    text: str
    # The visit's rep answering (a reply), rather than a reviewer commenting.
    by_rep: bool = False


@dataclass(frozen=True)
class VisitDetail:
    """Everything the visit view shows; ``photos`` are the stamped copies (None: not yet)."""

    visit: Visit
    customer: Customer
    rep: User
    deleted_by: str | None
    photos: list[VisitAttachment]
    voice_notes: int
    comments: list[CommentLine]
    # The reader is the rep of this visit (no rep line, Reply instead of Comment).
    own: bool

    @property
    def commented(self) -> bool:
        """Someone other than the rep commented: there is something for the rep to reply to."""
        return any(not line.by_rep for line in self.comments)

    @property
    def stamped(self) -> list[bytes]:
        return [photo.stamped for photo in self.photos if photo.stamped is not None]

    @property
    def unstamped(self) -> int:
        return sum(1 for photo in self.photos if photo.stamped is None)


def _may_review(actor: Actor, visit: Visit) -> bool:
    """A manager of the visit's team, a director or an admin."""
    if actor.sees_all_teams():
        return True
    return actor.role is Role.MANAGER and actor.team_id == visit.team_id


async def viewable_visit(session: AsyncSession, actor: Actor, visit_id: int) -> Visit:
    visit = await session.get(Visit, visit_id)
    if visit is None or not (visit.rep_id == actor.user_id or _may_review(actor, visit)):
        raise NotAllowedError("visit_review.not_found")
    return visit


async def visit_detail(session: AsyncSession, actor: Actor, visit_id: int) -> VisitDetail:
    visit = await viewable_visit(session, actor, visit_id)
    customer = await session.get(Customer, visit.customer_id)
    rep = await session.get(User, visit.rep_id)
    assert customer is not None and rep is not None
    deleted_by = None
    if visit.deleted_by_id is not None:
        who = await session.get(User, visit.deleted_by_id)
        deleted_by = who.display_name if who else "?"
    attached = await attachments_of(session, visit_id)
    rows = await session.exec(
        select(VisitComment, User)
        .join(User, col(User.id) == col(VisitComment.author_id))
        .where(col(VisitComment.visit_id) == visit_id)
        .order_by(col(VisitComment.created_at), col(VisitComment.id))
    )
    comments = [
        CommentLine(user.display_name, c.created_at, c.text, by_rep=c.author_id == visit.rep_id)
        for c, user in rows.all()
    ]
    return VisitDetail(
        visit=visit, customer=customer, rep=rep, deleted_by=deleted_by,
        photos=[a for a in attached if a.kind == AttachmentKind.PHOTO],
        voice_notes=sum(1 for a in attached if a.kind == AttachmentKind.VOICE),
        comments=comments, own=visit.rep_id == actor.user_id and not _may_review(actor, visit),
    )  # fmt: skip


async def comment_counts(session: AsyncSession, visit_ids: list[int]) -> dict[int, int]:
    if not visit_ids:
        return {}
    rows = await session.exec(
        select(col(VisitComment.visit_id), func.count())
        .where(col(VisitComment.visit_id).in_(visit_ids))
        .group_by(col(VisitComment.visit_id))
    )
    return {visit_id: int(count) for visit_id, count in rows.all()}


def clean_comment(text: str | None, *, reply: bool = False) -> str:
    body = (text or "").strip()
    kind = "reply" if reply else "comment"
    if not body:
        raise UserFacingError(f"visit_review.{kind}_empty")
    if len(body) > MAX_COMMENT:
        raise UserFacingError(f"visit_review.{kind}_too_long", limit=MAX_COMMENT, length=len(body))
    return body


@dataclass(frozen=True)
class CommentNotice:
    """What the rep receives: who commented on which visit, and the comment."""

    visit_id: int
    customer: str
    visited_at: datetime
    timezone: str
    author: str
    text: str


async def _store(
    session: AsyncSession, *, actor: Actor, visit: Visit, body: str, action: str, now: datetime
) -> VisitComment:
    """One line of the visit's thread, with its audit row."""
    comment = VisitComment(visit_id=visit.id or 0, author_id=actor.user_id, text=body,
                           created_at=now)  # fmt: skip
    session.add(comment)
    await session.flush()
    audit.record(
        session, at=now, action=action, entity="visit", entity_id=visit.id,
        actor_id=actor.user_id, after={"comment_id": comment.id, "text": body},
    )  # fmt: skip
    return comment


async def add_comment(
    session: AsyncSession, render: Render, *, actor: Actor, visit_id: int, text: str | None,
    team: TeamContext,
) -> VisitComment:  # fmt: skip
    """Store a reviewer's comment (audited) and tell the rep, in their language, through the
    outbox in the same transaction."""
    visit = await viewable_visit(session, actor, visit_id)
    if not _may_review(actor, visit):
        raise NotAllowedError("visit_review.not_found")
    body = clean_comment(text)
    now = team.now
    comment = await _store(session, actor=actor, visit=visit, body=body,
                           action="visit.commented", now=now)  # fmt: skip
    rep = await session.get(User, visit.rep_id)
    customer = await session.get(Customer, visit.customer_id)
    assert rep is not None and customer is not None
    if rep.active and rep.id != actor.user_id:
        await notices.send(
            session, render, view="visit_review.comment_notice", lang=rep.language,
            data=CommentNotice(visit_id, customer.name, visit.visited_at, team.timezone,
                               actor.display_name, body),
            key=f"visit-comment:{comment.id}", chat_id=rep.telegram_id, recipient_id=rep.id,
            kind="visit_comment", now=now,
        )  # fmt: skip
    return comment


async def own_visit(session: AsyncSession, actor: Actor, visit_id: int) -> Visit:
    """The actor's own visit; anyone else's (a forged Reply) is "not found", never "not yours"."""
    visit = await session.get(Visit, visit_id)
    if visit is None or visit.rep_id != actor.user_id:
        raise NotAllowedError("visit_review.not_found")
    return visit


async def visit_customer(session: AsyncSession, visit: Visit) -> Customer:
    customer = await session.get(Customer, visit.customer_id)
    assert customer is not None
    return customer


async def commenters(session: AsyncSession, visit: Visit) -> list[User]:
    """The people who commented on the visit (not its rep), active, in the order they first
    wrote: a reply from the rep reaches each of them."""
    rows = await session.exec(
        select(VisitComment, User)
        .join(User, col(User.id) == col(VisitComment.author_id))
        .where(col(VisitComment.visit_id) == visit.id, col(VisitComment.author_id) != visit.rep_id)
        .order_by(col(VisitComment.created_at), col(VisitComment.id))
    )
    found: dict[int, User] = {}
    for _, user in rows.all():
        if user.active and user.id is not None:
            found.setdefault(user.id, user)
    return list(found.values())


async def add_reply(
    session: AsyncSession, render: Render, *, actor: Actor, visit_id: int, text: str | None,
    team: TeamContext,
) -> tuple[VisitComment, list[User]]:  # fmt: skip
    """Store the rep's reply on their own visit (audited) and send it, through the outbox in the
    same transaction, to each reviewer who commented, in their language."""
    visit = await own_visit(session, actor, visit_id)
    readers = await commenters(session, visit)
    if not readers:
        raise UserFacingError("visit_review.reply_no_one")
    body = clean_comment(text, reply=True)
    now = team.now
    reply = await _store(session, actor=actor, visit=visit, body=body,
                         action="visit.replied", now=now)  # fmt: skip
    customer = await visit_customer(session, visit)
    data = CommentNotice(visit_id, customer.name, visit.visited_at, team.timezone,
                         actor.display_name, body)  # fmt: skip
    for reader in readers:
        await notices.send(
            session, render, view="visit_review.reply_notice", lang=reader.language, data=data,
            key=f"visit-reply:{reply.id}:{reader.id}", chat_id=reader.telegram_id,
            recipient_id=reader.id, kind="visit_reply", now=now,
        )  # fmt: skip
    return reply, readers


# -- a photo sent outside any form ----------------------------------------------------------


async def photo_targets(
    session: AsyncSession, rep_id: int, team: TeamContext
) -> list[tuple[Visit, Customer]]:
    """The visits a photo sent outside any form may belong to: the rep's open visit first, then
    those saved in the last few hours today, newest first; in-person visits only (a phone
    visit has no place for the stamp to vouch for)."""
    since = team.now - timedelta(hours=RECENT_HOURS)
    rows = await session.exec(
        select(Visit, Customer)
        .join(Customer, col(Customer.id) == col(Visit.customer_id))
        .where(
            col(Visit.rep_id) == rep_id,
            col(Visit.deleted_at).is_(None),
            col(Visit.kind) == VisitKind.IN_PERSON,
            col(Visit.is_open).is_(True) | (col(Visit.updated_at) >= since),
        )
        .order_by(col(Visit.is_open).desc(), col(Visit.updated_at).desc(), col(Visit.id).desc())
        .limit(PHOTO_TARGETS * 2)
    )
    found = [
        (visit, customer)
        for visit, customer in rows.all()
        if visit.is_open or local_today(visit.visited_at, team.timezone) == team.today
    ]
    return found[:PHOTO_TARGETS]


async def attach_photo(
    session: AsyncSession, *, actor: Actor, visit_id: int, file_id: str, team: TeamContext
) -> tuple[Visit, Customer]:
    """Add a photo to one of the actor's own offered visits (audited); stamping follows the
    commit, as for a photo sent inside /visit."""
    offered = {visit.id: (visit, customer) for visit, customer in
               await photo_targets(session, actor.user_id, team)}  # fmt: skip
    if visit_id not in offered:
        raise NotAllowedError("visit_review.not_found")
    visit, customer = offered[visit_id]
    before = await attachments_of(session, visit_id)
    if sum(1 for a in before if a.kind == AttachmentKind.PHOTO) >= MAX_PHOTOS:
        raise UserFacingError("visits.too_many_photos", limit=MAX_PHOTOS)
    now = team.now
    photo = VisitAttachment(
        visit_id=visit_id, kind=AttachmentKind.PHOTO, file_id=file_id, created_at=now
    )
    session.add(photo)
    await session.flush()
    audit.record(
        session, at=now, action="visit.photo_added", entity="visit", entity_id=visit_id,
        actor_id=actor.user_id, before={"attachments": snapshot(visit, before)["attachments"]},
        after={"attachments": snapshot(visit, [*before, photo])["attachments"]},
    )  # fmt: skip
    return visit, customer
