"""SQLAlchemy's aiosqlite adapter, in one hop to aiosqlite's thread per statement.

The stock adapter asks aiosqlite's thread four times per statement (make a cursor, execute,
fetch, close) and once more to BEGIN: each hop is a queue put, a thread switch and a wake-up of
the event loop, about 45 µs on a 2-core machine, and a turn of the bot sends a handful of
statements. Here the worker thread runs the whole statement (cursor, execute, fetch, close) at
once, the transaction's BEGIN rides along with its first statement, and a rollback with no
transaction open (the pool's reset after a commit) is not sent at all.

Only aiosqlite's connection thread touches the sqlite3 connection, as before; what SQLAlchemy
reads afterwards (description, rowcount, lastrowid, rows) is copied out in that same hop.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, int, int | None, list[Any]]


# Statements without rows or parameters that may wait for the next one's hop.
_DEFERRABLE = ("SAVEPOINT ", "RELEASE SAVEPOINT ")


def _run_pending(connection: sqlite3.Connection, pending: list[str]) -> None:
    for statement in pending:
        connection.execute(statement)


def _run(
    connection: sqlite3.Connection,
    pending: list[str],
    operation: str,
    parameters: Any,
    many: bool,
) -> _Outcome:
    """In aiosqlite's thread: the pending statements, then this one, its rows and facts."""
    _run_pending(connection, pending)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _commit_after(connection: sqlite3.Connection, pending: list[str]) -> None:
    _run_pending(connection, pending)
    connection.commit()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that holds no aiosqlite cursor: each statement opens and closes its own in the
    worker thread, and what SQLAlchemy asks afterwards is answered from the copies."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: OneHopConnection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # every row is fetched in the statement's one hop

    async def _async_soft_close(self) -> None:
        return None  # nothing open: the worker closed the cursor already

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._run(operation, seq_of_parameters, many=True)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapt = self._adapt_connection
        assert isinstance(adapt, OneHopConnection)
        if not many and not parameters and operation.startswith(_DEFERRABLE):
            adapt.pending.append(operation)
            self._description, self._rowcount, self._lastrowid = None, -1, None
            self._rows = collections.deque()
            return
        async with adapt._execute_mutex:
            pending, adapt.pending = adapt.pending, []
            description, rowcount, lastrowid, rows = await self._connection._execute(
                _run, self._connection._conn, pending, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """``pending``: statements (BEGIN, SAVEPOINT, RELEASE) the next one is to be preceded by."""

    __slots__ = ("pending",)

    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending: list[str] = []

    def begin(self, statement: str) -> None:
        """Start a transaction with ``statement`` (BEGIN or BEGIN IMMEDIATE) together with the
        transaction's first statement; one that sends none ends without a hop either."""
        self.pending = [statement]

    def _open(self) -> bool:
        """Whether sqlite3 has a transaction open: reading the flag needs no hop."""
        driver = self._connection
        return bool(driver._connection is not None and driver._conn.in_transaction)

    def commit(self) -> None:
        pending, self.pending = self.pending, []
        if pending and pending[0].startswith("BEGIN"):
            return  # the transaction sent nothing: there is nothing to commit
        if pending:
            # A RELEASE left over travels with the COMMIT.
            try:
                await_(self._connection._execute(_commit_after, self._connection._conn, pending))
            except Exception as error:
                self._handle_exception(error)
        elif self._open():
            super().commit()

    def rollback(self) -> None:
        self.pending = []  # a SAVEPOINT or RELEASE not sent yet is moot: all of it is undone
        if self._open():
            super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given (``create_async_engine(...,
    module=...)``), connecting through ``OneHopConnection``."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter: never block the exit
        return OneHopConnection(self, await_(connection))


def one_hop_dbapi() -> OneHopDBAPI:
    import aiosqlite

    return OneHopDBAPI(aiosqlite, sqlite3)
