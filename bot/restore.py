"""`salesbot restore FILE`: a backup brought back into a new database, checked and migrated.

Nothing is written over a database in use: a SQLite backup goes to a new file, which the operator
then points ``[database] url`` at (or, with the bot stopped, ``--replace`` swaps it in and keeps
the old file beside it); a PostgreSQL dump goes into a new database on the server, created here
and filled by ``pg_restore``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlmodel import col, select

from bot.migrate import current_revision, head_revision, upgrade
from core.db import create_engine, create_session_factory, is_sqlite, normalize_url, transaction
from core.settings import Settings
from models.outbox import SenderLease
from services import backups
from services.backups import BackupError


@dataclass(frozen=True)
class Restored:
    target: Path | str  # a SQLite file, or the URL (without password) of a PostgreSQL database
    taken_at: datetime | None
    revision_before: str | None
    revision_after: str | None
    rows: dict[str, int]
    replaced: Path | None

    def lines(self) -> list[str]:
        taken = f"{self.taken_at:%Y-%m-%d %H:%M:%S} UTC" if self.taken_at else "unknown"
        lines = [
            f"Restored the backup taken at {taken} into {self.target}",
            f"Schema: {self.revision_before or 'empty'} -> {self.revision_after}",
            "Rows per table:",
        ]
        width = max((len(name) for name in self.rows), default=0)
        lines += [f"  {name:<{width}}  {count:>9}" for name, count in sorted(self.rows.items())]
        if self.replaced is not None:
            lines.append(f"The database it replaced was moved to {self.replaced}.")
        elif isinstance(self.target, str):
            lines.append(
                f'To run on it: stop the bot, set [database] url = "{self.target}" (with its '
                "password, or SALESBOT_DATABASE_URL) and start it again."
            )
        else:
            lines.append(
                f'To run on it: stop the bot, set [database] url = "sqlite:///{self.target}" '
                "(or SALESBOT_DATABASE_URL) and start it again."
            )
        return lines


async def running_holder(database: Path | str, now: datetime) -> str | None:
    """The instance that delivers this database's outbox right now (a running bot renews its
    lease every few seconds); None when no bot runs on it. ``database`` is a SQLite file or
    a database URL."""
    if isinstance(database, Path):
        if not database.is_file():  # noqa: ASYNC240 (one stat of a local file)
            return None
        url = f"sqlite+aiosqlite:///{database}"
    else:
        url = database
    engine = create_engine(url, read_only=True)
    try:
        async with transaction(create_session_factory(engine)) as session:
            lease = (
                await session.exec(select(SenderLease).where(col(SenderLease.expires_at) > now))
            ).first()
            return lease.holder if lease is not None else None
    except Exception:  # no lease table (an old or foreign file): nobody holds it
        return None
    finally:
        await engine.dispose()


def _check_snapshot(path: Path, manifest: backups.Manifest | None) -> None:
    """The file is a sound SQLite database whose tables hold exactly what the manifest
    recorded at the moment of the backup."""
    try:
        connection = sqlite3.connect(path)
        try:
            ok = connection.execute("PRAGMA integrity_check").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"The backup does not hold a SQLite database: {exc}") from exc
    if ok is None or ok[0] != "ok":
        raise BackupError(f"The restored database fails SQLite's integrity check: {ok}")
    if manifest is None:
        return
    _, tables, _ = backups.summarize_sqlite(path)
    for name, expected in manifest.tables.items():
        found = tables.get(name)
        if found != expected:
            raise BackupError(
                f"Table {name} differs from the backup's manifest "
                f"({found.rows if found else 'missing'} rows, {expected.rows} recorded)."
            )


async def _row_counts(url: str) -> tuple[str | None, dict[str, int]]:
    engine = create_engine(url, read_only=True)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(
                lambda sync: sync.dialect.get_table_names(sync)  # type: ignore[no-any-return]
            )
            rows: dict[str, int] = {}
            for name in names:
                if name == "alembic_version":
                    continue
                count = select(func.count()).select_from(table(name))
                rows[name] = int((await connection.execute(count)).scalar_one())
        return await current_revision(engine), rows
    finally:
        await engine.dispose()


async def restore(
    settings: Settings, archive: Path, *, into: Path | str | None, replace: bool, now: datetime
) -> Restored:
    """Verify a backup and restore it into a new database, migrated to this version: a SQLite
    backup into a new file, a PostgreSQL dump into a new database (``into``: its URL or name)."""
    parsed = backups.parse_name(archive)
    manifest = backups.read_manifest(archive)
    backups.verify_checksum(archive)
    taken_at = manifest.taken_at if manifest else (parsed[0] if parsed else None)
    stamp = f"{taken_at:%Y%m%dT%H%M%SZ}" if taken_at else f"{now:%Y%m%dT%H%M%SZ}"
    if archive.name.endswith(".pgdump") or (manifest and manifest.database == "postgresql"):
        return await _restore_postgresql(
            settings, archive, into=None if into is None else str(into), replace=replace,
            taken_at=taken_at, stamp=stamp, now=now,
        )  # fmt: skip
    if isinstance(into, str):
        if "://" in into:
            raise BackupError(
                "This is a SQLite backup: it restores into a file (--into PATH), not into "
                f"{make_url(into).render_as_string(hide_password=True)}."
            )
        into = Path(into)
    live = backups.sqlite_path(settings.database_url)
    default_folder = live.parent if live is not None else Path.cwd()
    target = (into or default_folder / f"salesbot-restored-{stamp}.db").resolve()
    is_live = live is not None and target == live.resolve()
    if is_live:
        holder = await running_holder(target, now)
        if holder is not None:
            raise BackupError(
                f"salesbot is running on {target} (instance {holder}): stop it first. "
                "Or restore into a new file with --into and point [database] url at it."
            )
        if not replace and target.exists():
            raise BackupError(
                f"{target} is the bot's database: add --replace (with the bot stopped) to "
                "swap it for the backup; the current file is kept beside it."
            )
    elif target.exists():
        raise BackupError(f"{target} exists: a restore only writes a new file (--into).")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.restoring")
    work.unlink(missing_ok=True)
    try:
        backups.decompress(archive, work)
        _check_snapshot(work, manifest)
        url = f"sqlite+aiosqlite:///{work}"
        engine = create_engine(url)
        try:
            before = await current_revision(engine)
            await upgrade(engine)
        finally:
            await engine.dispose()
        _checkpoint(work)
        after, rows = await _row_counts(url)
        replaced = _swap_in(work, target, stamp) if is_live else None
        if not is_live:
            os.replace(work, target)
    finally:
        for leftover in (work, *_companions(work)):
            leftover.unlink(missing_ok=True)
    assert after == head_revision()
    return Restored(target, taken_at, before, after, rows, replaced)


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _checkpoint(path: Path) -> None:
    """Fold the WAL the migration wrote back into the file, so the file alone is the database."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def _swap_in(work: Path, target: Path, stamp: str) -> Path:
    """Put the restored file in place of the (stopped) bot's database, keeping the old one."""
    kept = target.with_name(f"{target.name}.before-restore-{stamp}")
    if target.exists():
        os.replace(target, kept)
    for companion in _companions(target):
        if companion.exists():
            os.replace(companion, kept.with_name(kept.name + companion.name[len(target.name) :]))
    os.replace(work, target)
    return kept


# -- PostgreSQL ----------------------------------------------------------------------------------

PG_RESTORE_HOW = (
    "pg_restore is not installed here. Install the PostgreSQL client of your server's version "
    "(Debian/Ubuntu: apt-get install postgresql-client) and run `salesbot restore` again, or "
    "restore it yourself: createdb <new database>, pg_restore --no-owner --exit-on-error "
    "--dbname <new database> {archive}, then `salesbot db upgrade` with SALESBOT_DATABASE_URL "
    "pointing at it."
)
DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _pg_target(settings: Settings, into: str | None, stamp: str) -> str:
    """The URL of the database to restore into: ``into`` as a URL, as a database name on the
    configured server, or by default ``salesbot_restored_<time>`` on the configured server."""
    if into is not None and "://" in into:
        target = make_url(normalize_url(into))
        if target.get_backend_name() != "postgresql" or not target.database:
            raise BackupError(
                "A PostgreSQL backup restores into a PostgreSQL database: --into "
                "postgresql://user@host/new_database (or just the new database's name)."
            )
        return target.render_as_string(hide_password=False)
    if is_sqlite(settings.database_url):
        raise BackupError(
            "This is a PostgreSQL backup and the configured database is SQLite: say where to "
            "restore it with --into postgresql://user@host/new_database."
        )
    name = into or f"salesbot_restored_{stamp.lower()}"
    if not DATABASE_NAME.match(name):
        raise BackupError(
            f"{name!r} is not a database name salesbot creates: letters, digits and _, "
            "starting with a letter, 63 characters at most."
        )
    server = make_url(normalize_url(settings.database_url))
    return server.set(database=name).render_as_string(hide_password=False)


def _same_database(first: str, second: str) -> bool:
    a, b = make_url(first), make_url(second)
    return (a.host or "localhost", a.port or 5432, a.database) == (
        b.host or "localhost", b.port or 5432, b.database,
    )  # fmt: skip


def _plain(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True).replace("+asyncpg", "")


@asynccontextmanager
async def _server(target: str) -> AsyncIterator[AsyncConnection]:
    """A connection to the server's maintenance database, outside any transaction (where
    CREATE and DROP DATABASE must run)."""
    admin = create_async_engine(
        make_url(target).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as connection:
            yield connection
    finally:
        await admin.dispose()


async def create_database(target: str) -> None:
    """Create the target database, refusing one that exists: a restore never writes into a
    database that may hold someone's data."""
    name = str(make_url(target).database)
    async with _server(target) as connection:
        found = await connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if found.first() is not None:
            raise BackupError(
                f"The database {name} exists: a restore only writes into a new database "
                "(--into another name, or drop it first)."
            )
        await connection.execute(text(f'CREATE DATABASE "{name}"'))


async def drop_database(target: str) -> None:
    async with _server(target) as connection:
        name = make_url(target).database
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pg_restore(pg_restore: str, archive: Path, target: str) -> None:
    url, env = backups.libpq_url(target)
    result = subprocess.run(  # noqa: S603 (fixed program, URL passed as one argument)
        [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         "--dbname", url, str(archive)],
        env={**os.environ, **env}, capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")


async def _restore_postgresql(
    settings: Settings, archive: Path, *, into: str | None, replace: bool,
    taken_at: datetime | None, stamp: str, now: datetime,
) -> Restored:  # fmt: skip
    """Restore a pg_dump archive into a new database on the server, then migrate it."""
    target = _pg_target(settings, into, stamp)
    live = settings.database_url
    if not is_sqlite(live) and _same_database(target, normalize_url(live)):
        holder = await running_holder(normalize_url(live), now)
        if holder is not None:
            raise BackupError(
                f"salesbot is running on {_plain(live)} (instance {holder}): stop it first. "
                "Or restore into a new database (--into NAME) and point [database] url at it."
            )
        raise BackupError(
            f"{_plain(live)} is the bot's database: a PostgreSQL backup restores into a new "
            "database (--into NAME); point [database] url at it afterwards."
        )
    if replace:
        raise BackupError(
            "--replace swaps SQLite files; a PostgreSQL backup restores into a new database "
            "(--into NAME), which [database] url then names."
        )
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError(PG_RESTORE_HOW.format(archive=archive))
    await create_database(target)
    try:
        await asyncio.to_thread(_pg_restore, pg_restore, archive, target)
        engine = create_engine(target)
        try:
            before = await current_revision(engine)
            await upgrade(engine)
        finally:
            await engine.dispose()
        after, rows = await _row_counts(target)
    except BaseException:
        # Half a restore is no database: nothing is left behind to be mistaken for one.
        await drop_database(target)
        raise
    return Restored(_plain(target), taken_at, before, after, rows, None)
