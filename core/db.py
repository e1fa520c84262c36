"""Database engine and sessions: SQLite (WAL, foreign keys, immediate writes) or PostgreSQL."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession

from core.pg_connection import LockingConnection, lock_at_begin, release_at_commit, taken
from core.sqlite_one_hop import OneHopConnection, one_hop_dbapi

SessionFactory = async_sessionmaker[AsyncSession]

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A connection with this execution option begins a deferred (read) transaction on SQLite.
READ_ONLY_OPTION = "salesbot_read_only"


def normalize_url(url: str) -> str:
    """Accept plain sqlite:/// and postgresql:// URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class DatabaseMissingError(Exception):
    """A read-only command found no database file; the message says which command creates it."""


def _setup_sqlite(engine: AsyncEngine, *, read_only: bool = False) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would start a deferred transaction; we start
        # IMMEDIATE ones ourselves so two writers queue on busy_timeout instead of failing with
        # "database is locked" when a reader upgrades to a writer.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:  # switching the journal mode writes to the file
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read-only connection cannot take the write lock IMMEDIATE asks for, and a read
        # transaction need not: with WAL it neither waits for the writer nor holds it up.
        reading = read_only or connection.get_execution_options().get(READ_ONLY_OPTION)
        driver_connection = connection.connection.dbapi_connection
        assert isinstance(driver_connection, OneHopConnection)
        driver_connection.begin("BEGIN" if reading else "BEGIN IMMEDIATE")


def create_engine(
    url: str, *, echo: bool = False, read_only: bool = False, must_exist: bool = False
) -> AsyncEngine:
    """An engine for ``url``; ``read_only`` ones never create or change the database.

    A read-only or ``must_exist`` engine on a SQLite file that does not exist raises
    DatabaseMissingError instead of leaving an empty file behind.
    """
    url = normalize_url(url)
    if is_sqlite(url):
        parsed = make_url(url)
        database = parsed.database
        connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        in_file = bool(database) and database != ":memory:"
        if (read_only or must_exist) and in_file and not Path(str(database)).is_file():
            raise DatabaseMissingError(f"No database at {database}")
        if read_only and in_file:
            # mode=ro: SQLite itself refuses every write, whatever the code above us does.
            uri = f"file:{quote(str(Path(str(database)).resolve()))}?mode=ro"
            url = parsed.set(database=uri, query={"uri": "true"}).render_as_string(False)
        elif in_file:
            Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=echo, connect_args=connect_args, module=one_hop_dbapi()
        )
        _setup_sqlite(engine, read_only=read_only)
        return engine
    # No JIT: the bot's queries run for milliseconds, and PostgreSQL compiles any whose estimated
    # cost passes jit_above_cost (a summary's ageing over a team's receivables does) for about
    # 40 ms, more than the query itself.
    server_settings = {"jit": "off"}
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    engine = create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True,
        connect_args={"server_settings": server_settings, "connection_class": LockingConnection},
    )  # fmt: skip
    dialect = engine.sync_engine.dialect
    dialect.do_ping = _ping_by_beginning  # type: ignore[method-assign]
    # PostgreSQL's dialect has these two setters; the Dialect interface does not.
    dialect.set_readonly = _begin_afresh_with("readonly")  # type: ignore[attr-defined]
    dialect.set_deferrable = _begin_afresh_with("deferrable")  # type: ignore[attr-defined]
    dialect.do_release_savepoint = release_at_commit(dialect.do_release_savepoint)  # type: ignore[method-assign,assignment]
    return engine


def _ping_by_beginning(dbapi_connection: Any) -> bool:
    """The check of a pooled PostgreSQL connection before each use is the BEGIN of the
    transaction it is taken for: one round trip for both.

    SQLAlchemy's asyncpg ping is three round trips (BEGIN, an empty statement, ROLLBACK, kept
    for pgbouncer's transaction pooling: SQLAlchemy #10226), and the transaction's own BEGIN
    one more. A BEGIN proves the connection alive as well as a SELECT 1 does, and everything
    after it stays on one server behind pgbouncer. SQLAlchemy begins every use of a connection
    anyway, so the BEGIN is only sent earlier; a connection handed out and returned unused
    costs a ROLLBACK. The transaction takes the connection's isolation level and access mode:
    an option set after the checkout rolls it back first, so the next statement begins again
    with the option (SQLAlchemy's set_isolation_level does this itself; ``_begin_afresh_with``
    for read-only and deferrable). Failures are translated as in SQLAlchemy's ping, so a
    connection the server closed is recognised as a disconnect, dropped and replaced
    (tests/e2e/test_database_restart.py)."""
    try:
        if dbapi_connection._transaction is None and not dbapi_connection.autocommit:
            await_(dbapi_connection._start_transaction())
        else:
            await_(dbapi_connection._connection.execute("SELECT 1"))
    except Exception as error:
        dbapi_connection._handle_exception(error)
    return True


def _begin_afresh_with(characteristic: str) -> Callable[[Any, bool], None]:
    """A setter of the asyncpg adapter's ``readonly`` or ``deferrable`` that first rolls back
    the transaction the check began (before any statement: SQLAlchemy sets these only then)."""

    def set_characteristic(dbapi_connection: Any, value: bool) -> None:
        if getattr(dbapi_connection, characteristic) != value:
            dbapi_connection.rollback()
        setattr(dbapi_connection, characteristic, value)

    return set_characteristic


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def begin_with_lock(session: AsyncSession, key: int) -> bool:
    """Begin ``session``'s transaction on PostgreSQL with the transaction-scoped advisory lock
    on ``key`` taken in the BEGIN's own round trip. False when the lock could not ride (the
    transaction had begun already): the caller takes it with a statement of its own."""
    with lock_at_begin(key) as rider:
        connection = await session.connection()
    raw = await connection.get_raw_connection()
    return taken(rider, raw.driver_connection)


@asynccontextmanager
async def transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def read_transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A transaction that only reads. On SQLite it does not take the file's one write lock
    (BEGIN, not BEGIN IMMEDIATE), so a poll that finds nothing to do never makes a writer wait.
    Write nothing in it: on SQLite the write would have to upgrade a read snapshot, which
    fails as soon as another writer committed since. On PostgreSQL: an ordinary transaction."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options={READ_ONLY_OPTION: True})
        yield session


_WRITERS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def writer_turn(sessions: SessionFactory) -> AsyncIterator[None]:
    """On SQLite, this process's writers queue here, first come first served, for the one write
    lock the file has. Without it each waits inside SQLite's busy handler, which sleeps up to
    100 ms between tries and favours no one: in a burst most waits were sleep, and an unlucky
    update waited more than 30 s. Other processes still meet us at busy_timeout. PostgreSQL
    locks rows, not the database: nothing to queue for. Never nest two of these."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        yield
        return
    lock = _WRITERS.get(engine)
    if lock is None:
        lock = _WRITERS[engine] = asyncio.Lock()
    async with lock:
        yield
