"""Column helpers shared by the tables."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column


def telegram_id_column(*, unique: bool = False, nullable: bool = False) -> Any:
    """Telegram ids exceed 32 bits, so they need BIGINT on PostgreSQL."""
    return Column(BigInteger, unique=unique, nullable=nullable, index=True)


def json_column(*, nullable: bool = False) -> Any:
    return Column(JSON, nullable=nullable)


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    DIRECTOR = "director"
    ADMIN = "admin"

    @property
    def needs_team(self) -> bool:
        return self in (Role.REP, Role.MANAGER)
