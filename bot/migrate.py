"""Schema migrations (Alembic) and the start-up check that the schema is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

UPGRADE_COMMAND = "salesbot db upgrade"


class SchemaOutdatedError(Exception):
    """The database is behind the code; the message says which command fixes it."""


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision` on the engine's database."""

    def _run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


async def ensure_current(engine: AsyncEngine) -> None:
    """Refuse to run on a schema that is not at the code's head revision."""
    current, head = await current_revision(engine), head_revision()
    if current == head:
        return
    state = "empty" if current is None else f"at revision {current}"
    raise SchemaOutdatedError(
        f"The database schema is out of date ({state}, the code needs {head}). "
        f"Run `{UPGRADE_COMMAND}` first."
    )
