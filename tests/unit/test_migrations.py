"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models  # noqa: F401
from bot.db import create_engine
from bot.migrate import SchemaOutdatedError, ensure_current, head_revision


async def test_models_match_migrations(database_url: str) -> None:
    engine = create_engine(database_url)

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
        await ensure_current(engine)
    finally:
        await engine.dispose()


async def test_empty_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(SchemaOutdatedError) as error:
            await ensure_current(engine)
    finally:
        await engine.dispose()
    assert "salesbot db upgrade" in str(error.value)
    assert str(head_revision()) in str(error.value)
