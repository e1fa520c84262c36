"""Visits: a rep met (or phoned) a customer; check-in details, photos and voice notes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, LargeBinary, String
from sqlmodel import Field, SQLModel


class VisitKind(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"


class VisitPurpose(StrEnum):
    NEW = "new"
    REVISIT = "revisit"
    DEMO = "demo"
    COLLECTION = "collection"
    AFTER_SALES = "after_sales"


class CheckinSource(StrEnum):
    # A live location shared for a while (Telegram's "share live location").
    LIVE = "live"
    # The phone's current position, sent once (it carries a horizontal accuracy).
    CURRENT = "current"
    # A point picked on the map: it says nothing about where the phone was.
    PICKED = "picked"


class Visit(SQLModel, table=True):
    __tablename__ = "visits"
    __table_args__ = (
        # Covers the summary's per-rep counts (a week of a team's visits is read from the index
        # alone, never from the table): migration 0019.
        Index(
            "ix_visits_team_visited_at", "team_id", "visited_at", "rep_id", "kind", "purpose",
            "flagged", "deleted_at",
        ),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    rep_id: int = Field(foreign_key="users.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    kind: VisitKind = Field(sa_type=String(16))
    purpose: VisitPurpose = Field(sa_type=String(16))
    visited_at: datetime = Field(index=True)
    notes: str = Field(default="", max_length=2000)
    next_step: str | None = Field(default=None, max_length=300)
    follow_up_on: date | None = None
    checkin_latitude: float | None = None
    checkin_longitude: float | None = None
    # Metres, as the phone reported it; None for a point picked on the map.
    checkin_accuracy_m: float | None = None
    checkin_source: CheckinSource | None = Field(default=None, sa_type=String(16))
    # Metres between the check-in and the customer's stored location (when both are known).
    distance_m: float | None = None
    # An in-person check-in farther than the team's radius from the customer.
    flagged: bool = Field(default=False)
    # The customer had no location and this visit's check-in became it: there is no distance
    # to show (it would read "0 m"), only that the location was set here.
    location_set_here: bool = Field(default=False)
    # Checked in and not yet checked out: the rep is at the customer.
    is_open: bool = Field(default=False)
    checked_out_at: datetime | None = None
    # Closed by the end-of-day job rather than by the rep.
    auto_closed: bool = Field(default=False)
    # Checked out sooner than the team's minimum time on site.
    short_visit: bool = Field(default=False)
    created_at: datetime
    updated_at: datetime
    # A deletion is soft: the manager still sees the visit, who deleted it and when.
    deleted_at: datetime | None = None
    deleted_by_id: int | None = Field(default=None, foreign_key="users.id")

    @property
    def on_site_minutes(self) -> int | None:
        if self.checked_out_at is None:
            return None
        return max(0, int((self.checked_out_at - self.visited_at).total_seconds() // 60))


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"


class VisitAttachment(SQLModel, table=True):
    __tablename__ = "visit_attachments"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    kind: AttachmentKind = Field(sa_type=String(8))
    # Telegram's file_id: enough to show the file again through the bot.
    file_id: str = Field(max_length=256)
    created_at: datetime
    # The photo as the phone sent it stays on Telegram (``file_id``); its digest proves that the
    # stamped copy was drawn on these very bytes.
    original_sha256: str | None = Field(default=None, max_length=64)
    # The lines drawn on the copy, from the server's own data (never the photo's EXIF).
    stamp_text: str | None = Field(default=None, max_length=600)
    # The stamped copy (JPEG): what managers see.
    stamped: bytes | None = Field(default=None, sa_type=LargeBinary)
    stamped_at: datetime | None = None


class RepLocation(SQLModel, table=True):
    """The last location a person shared: /nearby and the day's route start from it."""

    __tablename__ = "rep_locations"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    latitude: float
    longitude: float
    accuracy_m: float | None = None
    source: CheckinSource = Field(sa_type=String(16))
    at: datetime


class VisitComment(SQLModel, table=True):
    """A manager's comment on a visit (or the rep's answer): the rep is told through the outbox."""

    __tablename__ = "visit_comments"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    text: str = Field(max_length=1000)
    created_at: datetime
