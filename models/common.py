"""Column helpers shared by the tables."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, BigInteger, Column, inspect


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


Model = TypeVar("Model")


def loaded_copy(model: type[Model], values: dict[str, Any]) -> Model:
    """An instance of the table model ``model`` holding ``values``, made as the ORM's loader
    makes one from a row: without the model's constructor, whose per-field validation and
    change tracking cost tens of µs on every update's path, for values that came from the
    database already. Not attached to any session."""
    copy = cast(Model, inspect(model).class_manager.new_instance())
    copy.__dict__.update(values)
    return copy
