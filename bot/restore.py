"""`salesbot restore FILE`: a backup brought back into a new database file, checked and migrated.

Nothing is written over a database in use: the restore goes to a new file, which the operator
then points ``[database] url`` at (or, with the bot stopped, ``--replace`` swaps it in and keeps
the old file beside it).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, table
from sqlmodel import col, select

from bot.migrate import current_revision, head_revision, upgrade
from core.db import create_engine, create_session_factory, transaction
from core.settings import Settings
from models.outbox import SenderLease
from services import backups
from services.backups import BackupError


@dataclass(frozen=True)
class Restored:
    target: Path
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
        else:
            lines.append(
                f'To run on it: stop the bot, set [database] url = "sqlite:///{self.target}" '
                "(or SALESBOT_DATABASE_URL) and start it again."
            )
        return lines


async def running_holder(database: Path, now: datetime) -> str | None:
    """The instance that delivers this database's outbox right now (a running bot renews its
    lease every few seconds); None when no bot runs on it."""
    if not database.is_file():  # noqa: ASYNC240 (one stat of a local file)
        return None
    engine = create_engine(f"sqlite+aiosqlite:///{database}", read_only=True)
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
    settings: Settings, archive: Path, *, into: Path | None, replace: bool, now: datetime
) -> Restored:
    """Verify, decompress, check and migrate a SQLite backup into a new file."""
    parsed = backups.parse_name(archive)
    manifest = backups.read_manifest(archive)
    backups.verify_checksum(archive)
    if archive.name.endswith(".pgdump") or (manifest and manifest.database == "postgresql"):
        raise BackupError(
            "This is a PostgreSQL backup: restore it into a new, empty database with "
            f"pg_restore --no-owner --dbname <new database> {archive}, then run "
            "`salesbot db upgrade` with SALESBOT_DATABASE_URL pointing at it."
        )
    live = backups.sqlite_path(settings.database_url)
    taken_at = manifest.taken_at if manifest else (parsed[0] if parsed else None)
    stamp = f"{taken_at:%Y%m%dT%H%M%SZ}" if taken_at else f"{now:%Y%m%dT%H%M%SZ}"
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
