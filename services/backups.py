"""Backups of the database: consistent, compressed, named by their time, with a checksum.

A backup is three files side by side: the archive (``salesbot-<UTC stamp>.sqlite.gz``, or
``.pgdump`` for PostgreSQL), ``<archive>.sha256`` (the ``sha256sum`` format, so an operator can
check it by hand) and ``<archive>.json``, the manifest: when it was taken, the schema revision,
rows and a content checksum per table (SQLite), and where the photos and files the bot stored
live. Scheduled backups are named ``salesbot-auto-...``; only those are ever deleted by the
retention rule, so a copy made by hand before an upgrade stays until its maker removes it.

SQLite is copied with its online backup API in one step, which reads one snapshot of the
database while the bot keeps writing (WAL), so no row is torn. PostgreSQL is dumped with
``pg_dump`` (one snapshot too) when it is installed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

PREFIX = "salesbot-"
AUTO_PREFIX = "salesbot-auto-"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
NAME_PATTERN = re.compile(
    r"^salesbot-(?P<auto>auto-)?(?P<stamp>\d{8}T\d{6}Z)\.(?P<kind>sqlite\.gz|pgdump)$"
)
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class TableSummary:
    rows: int
    sha256: str


@dataclass(frozen=True)
class StoredFiles:
    """Files the bot keeps track of: Telegram holds those referenced by a file_id; the bytes
    of files waiting in the outbox are inside the database itself."""

    telegram_file_ids: dict[str, int] = field(default_factory=dict)
    bytes_in_database: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        held = sum(self.telegram_file_ids.values())
        inside = sum(self.bytes_in_database.values())
        found = [f"{count} in {table}" for table, count in sorted(self.telegram_file_ids.items())]
        lines = [
            f"Photos and files on Telegram's servers: {held} "
            f"({', '.join(found) or 'none'}); the backup keeps their file_id, which the bot "
            "uses to show them again. Telegram keeps them while the bot exists: there is no "
            "local folder of photos to back up."
        ]
        if inside:
            lines.append(f"Files inside the database (included in this backup): {inside}.")
        return lines


@dataclass(frozen=True)
class Backup:
    path: Path
    checksum_path: Path
    manifest_path: Path
    taken_at: datetime
    size: int
    sha256: str
    revision: str | None
    tables: dict[str, TableSummary]
    files: StoredFiles


def backup_name(taken_at: datetime, *, kind: str, auto: bool = False) -> str:
    prefix = AUTO_PREFIX if auto else PREFIX
    return f"{prefix}{taken_at.astimezone(UTC).strftime(STAMP_FORMAT)}.{kind}"


def parse_name(path: Path) -> tuple[datetime, bool] | None:
    """(time taken, scheduled?) of a backup archive's name; None for any other file."""
    match = NAME_PATTERN.match(path.name)
    if match is None:
        return None
    taken = datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=UTC)
    return taken, bool(match["auto"])


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for another database (or an in-memory one)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [str(row[0]) for row in rows]


def summarize_sqlite(path: Path) -> tuple[str | None, dict[str, TableSummary], StoredFiles]:
    """Schema revision, rows and content checksum per table, and the stored files of a SQLite
    database file (opened read-only)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables: dict[str, TableSummary] = {}
        files = StoredFiles()
        for table in _tables(connection):
            digest = hashlib.sha256()
            count = 0
            quoted = '"' + table.replace('"', '""') + '"'
            for row in connection.execute(f"SELECT * FROM {quoted} ORDER BY rowid"):  # noqa: S608
                digest.update(repr(row).encode())
                count += 1
            tables[table] = TableSummary(rows=count, sha256=digest.hexdigest())
            columns = {str(info[1]) for info in connection.execute(f"PRAGMA table_info({quoted})")}
            if "file_id" in columns:
                held = connection.execute(
                    f"SELECT count(*) FROM {quoted} WHERE file_id IS NOT NULL"  # noqa: S608
                ).fetchone()
                files.telegram_file_ids[table] = int(held[0])
            if "file_bytes" in columns:
                inside = connection.execute(
                    f"SELECT count(*) FROM {quoted} WHERE file_bytes IS NOT NULL"  # noqa: S608
                ).fetchone()
                files.bytes_in_database[table] = int(inside[0])
        revision = None
        if "alembic_version" in tables:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = str(found[0]) if found else None
        return revision, tables, files
    finally:
        connection.close()


def _snapshot_sqlite(source: Path, target: Path) -> None:
    """Copy the live database with SQLite's online backup API, all pages in one step: the copy
    is one consistent snapshot however many writers are busy."""
    if not source.is_file():
        raise BackupError(f"No database at {source}: nothing to back up.")
    # Not mode=ro: a read-only connection cannot create the WAL index of a database no bot
    # has open. The backup only reads.
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=-1)
        # A self-contained file: no WAL beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _compress(source: Path, target: Path) -> None:
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, CHUNK)


def _write_sidecars(
    archive: Path, taken_at: datetime, revision: str | None,
    tables: dict[str, TableSummary], files: StoredFiles, database: str,
) -> Backup:  # fmt: skip
    sha256 = file_sha256(archive)
    checksum_path = archive.with_name(archive.name + ".sha256")
    checksum_path.write_text(f"{sha256}  {archive.name}\n", encoding="utf-8")
    manifest_path = archive.with_name(archive.name + ".json")
    manifest: dict[str, Any] = {
        "format": 1,
        "database": database,
        "taken_at": taken_at.astimezone(UTC).isoformat(),
        "schema_revision": revision,
        "archive": archive.name,
        "sha256": sha256,
        "size": archive.stat().st_size,
        "tables": {name: {"rows": t.rows, "sha256": t.sha256} for name, t in tables.items()},
        "files": {
            "telegram_file_ids": files.telegram_file_ids,
            "bytes_in_database": files.bytes_in_database,
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Backup(
        path=archive, checksum_path=checksum_path, manifest_path=manifest_path,
        taken_at=taken_at, size=archive.stat().st_size, sha256=sha256, revision=revision,
        tables=tables, files=files,
    )  # fmt: skip


def create_backup(database_url: str, folder: Path, *, now: datetime, auto: bool = False) -> Backup:
    """Back the database up into ``folder``; blocking, so run it in a thread from async code.

    Written under a temporary name and renamed when complete, so a crash never leaves a
    half-written archive that looks like a backup.
    """
    folder.mkdir(parents=True, exist_ok=True)
    source = sqlite_path(database_url)
    if source is None:
        return _dump_postgresql(database_url, folder, now=now, auto=auto)
    archive = folder / backup_name(now, kind="sqlite.gz", auto=auto)
    if archive.exists():
        raise BackupError(f"{archive} exists already: one backup a second at most.")
    with tempfile.TemporaryDirectory(dir=folder, prefix=".backup-") as work:
        snapshot = Path(work) / "snapshot.db"
        _snapshot_sqlite(source, snapshot)
        revision, tables, files = summarize_sqlite(snapshot)
        packed = Path(work) / archive.name
        _compress(snapshot, packed)
        os.replace(packed, archive)
    return _write_sidecars(archive, now, revision, tables, files, "sqlite")


PG_DUMP_HOW = (
    "pg_dump is not installed here. Install the PostgreSQL client of your server's version "
    "(Debian/Ubuntu: apt-get install postgresql-client) and run `salesbot backup` again, or dump "
    'it yourself: pg_dump --format=custom --file salesbot.pgdump "<database url without '
    '+asyncpg>", then restore with pg_restore --no-owner --dbname <new database> salesbot.pgdump '
    "and `salesbot db upgrade`."
)


def libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump takes it, and the environment carrying the password (never an
    argument, which every user of the machine could read in the process list)."""
    url = make_url(database_url)
    env: dict[str, str] = {}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _dump_postgresql(database_url: str, folder: Path, *, now: datetime, auto: bool) -> Backup:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(PG_DUMP_HOW)
    archive = folder / backup_name(now, kind="pgdump", auto=auto)
    url, env = libpq_url(database_url)
    partial = archive.with_name("." + archive.name + ".partial")
    # --format=custom is compressed and lets pg_restore restore into a new database.
    result = subprocess.run(  # noqa: S603 (fixed program, URL passed as one argument)
        [pg_dump, "--format=custom", "--no-owner", "--file", str(partial), url],
        env={**os.environ, **env}, capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
    os.replace(partial, archive)
    return _write_sidecars(archive, now, None, {}, StoredFiles(), "postgresql")


@dataclass(frozen=True)
class Manifest:
    taken_at: datetime
    revision: str | None
    database: str
    tables: dict[str, TableSummary]


def read_manifest(archive: Path) -> Manifest | None:
    path = archive.with_name(archive.name + ".json")
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    tables = {
        name: TableSummary(rows=int(item["rows"]), sha256=str(item["sha256"]))
        for name, item in data.get("tables", {}).items()
    }
    return Manifest(
        taken_at=datetime.fromisoformat(data["taken_at"]),
        revision=data.get("schema_revision"),
        database=str(data.get("database", "sqlite")),
        tables=tables,
    )


def verify_checksum(archive: Path) -> str:
    """The archive's SHA-256 when it matches its ``.sha256`` file; BackupError otherwise."""
    if not archive.is_file():
        raise BackupError(f"No backup at {archive}.")
    sidecar = archive.with_name(archive.name + ".sha256")
    if not sidecar.is_file():
        raise BackupError(
            f"No checksum file {sidecar.name} beside the backup: it cannot be verified."
        )
    words = sidecar.read_text(encoding="utf-8").split()
    expected = words[0].lower() if words else ""
    actual = file_sha256(archive)
    if actual != expected:
        raise BackupError(
            f"Checksum mismatch: {archive.name} is damaged or was changed "
            f"(expected {expected[:16]}…, found {actual[:16]}…). Nothing was restored."
        )
    return actual


def decompress(archive: Path, target: Path) -> None:
    try:
        with gzip.open(archive, "rb") as packed, target.open("xb") as raw:
            shutil.copyfileobj(packed, raw, CHUNK)
    except (OSError, EOFError) as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"{archive.name} is not a readable backup: {exc}") from exc


# -- retention ---------------------------------------------------------------------------------


def scheduled_backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The scheduled backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        parsed = parse_name(path)
        if parsed is not None and parsed[1]:
            found.append((parsed[0], path))
    return sorted(found)


def to_keep(
    taken: list[datetime], *, keep_daily: int, keep_weekly: int, tz: ZoneInfo
) -> set[datetime]:
    """The newest backup of each of the last ``keep_daily`` days that have one, and of each of
    the last ``keep_weekly`` ISO weeks (days and weeks in ``tz``)."""
    newest_of_day: dict[date, datetime] = {}
    newest_of_week: dict[tuple[int, int], datetime] = {}
    for moment in sorted(taken):
        local = moment.astimezone(tz).date()
        newest_of_day[local] = moment
        iso = local.isocalendar()
        newest_of_week[(iso.year, iso.week)] = moment
    days = sorted(newest_of_day)[-keep_daily:]
    weeks = sorted(newest_of_week)[-keep_weekly:] if keep_weekly else []
    return {newest_of_day[day] for day in days} | {newest_of_week[week] for week in weeks}


def prune(folder: Path, *, keep_daily: int, keep_weekly: int, tz: ZoneInfo) -> list[Path]:
    """Delete the scheduled backups the retention rule does not keep; returns those deleted."""
    backups = scheduled_backups(folder)
    keep = to_keep(
        [moment for moment, _ in backups], keep_daily=keep_daily, keep_weekly=keep_weekly, tz=tz
    )
    deleted = []
    for moment, path in backups:
        if moment in keep:
            continue
        for sidecar in (
            path.with_name(path.name + ".sha256"),
            path.with_name(path.name + ".json"),
        ):
            sidecar.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        deleted.append(path)
    return deleted


def newest_backup(folder: Path) -> datetime | None:
    """When the newest backup in ``folder`` (scheduled or by hand) was taken."""
    if not folder.is_dir():
        return None
    times = [parsed[0] for path in folder.iterdir() if (parsed := parse_name(path)) is not None]
    return max(times, default=None)
