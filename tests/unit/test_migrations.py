"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models  # noqa: F401
from bot.migrate import SchemaOutdatedError, ensure_current, head_revision
from core.db import create_engine


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


async def test_upgrade_hashes_existing_invite_codes_so_their_links_keep_working(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import text

    from bot.migrate import alembic_config, upgrade
    from services.invites import hash_code

    code = "Ab3xQz9-Kp2_Lm7N"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0007")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO invites (code, role, created_at, expires_at) "
                    "VALUES (:code, 'rep', '2026-11-24 01:00:00', '2026-11-27 01:00:00')"
                ),
                {"code": code},
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            stored = (await connection.execute(text("SELECT * FROM invites"))).mappings().one()
        assert "code" not in stored and code not in stored.values()
        assert stored["code_hash"] == hash_code(code) and stored["code_hint"] == code[:4]

        def downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")

        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
            columns = (await connection.execute(text("SELECT * FROM invites"))).keys()
        assert "code" in columns and "code_hash" not in columns
    finally:
        await engine.dispose()
