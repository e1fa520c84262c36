"""Customers: the target-customer record a team's reps visit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class Tier(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class CustomerStatus(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    DORMANT = "dormant"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        # One record per customer and team: the normalized name is the identity; the database
        # guards it against two reps creating the same customer at the same moment.
        UniqueConstraint("team_id", "name_key", name="uq_customers_team_name_key"),
        Index("ix_customers_team_phone_key", "team_id", "phone_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    name: str = Field(max_length=120)
    # Lower-case name without spaces and punctuation, full-width characters folded.
    name_key: str = Field(max_length=120)
    contact: str | None = Field(default=None, max_length=60)
    # As the person typed or the file had it, tidied; phone_key holds the digits only.
    phone: str | None = Field(default=None, max_length=40)
    phone_key: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=60)
    industry: str | None = Field(default=None, max_length=60)
    tier: Tier = Field(default=Tier.C, sa_type=String(1))
    status: CustomerStatus = Field(default=CustomerStatus.PROSPECT, sa_type=String(16))
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    latitude: float | None = None
    longitude: float | None = None
    notes: str | None = Field(default=None, max_length=1000)
    # Telegram's file id of the business-card photo the customer was created from.
    card_file_id: str | None = Field(default=None, max_length=200)
    # "chat" (created by a person in the bot) or "import" (back office file).
    source: str = Field(default="chat", max_length=16)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    created_at: datetime = Field(index=True)
    updated_at: datetime

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None
