"""PostgreSQL connections whose BEGIN can carry a transaction-scoped advisory lock: one round
trip for both, where the lock after the BEGIN was a round trip of its own on every update."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass
class _Rider:
    """A lock waiting for the next BEGIN of this task, and where it was taken."""

    key: int
    connection: LockingConnection | None = None
    begin: int = 0


_RIDER: ContextVar[_Rider | None] = ContextVar("salesbot_lock_at_begin", default=None)


class LockingConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection, counting its BEGINs; the BEGIN of a transaction started while
    ``lock_at_begin`` is active also takes that lock, in the same simple-protocol query.

    The lock's statement runs after BEGIN inside the transaction block, so it is held until
    COMMIT or ROLLBACK, exactly as if it had been sent on its own after the BEGIN. Every
    statement after it takes its snapshot after the lock was granted (READ COMMITTED), so
    what they read is what the previous holder committed."""

    begins: int = 0
    # Savepoints of the current transaction left for COMMIT to release (``release_at_commit``).
    kept_savepoints: int = 0

    # asyncpg's own signature, timeout included.
    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:  # noqa: ASYNC109
        rider = _RIDER.get()
        carried = (
            rider is not None and rider.connection is None and not args
            and query.startswith("BEGIN")
        )  # fmt: skip
        if carried:
            assert rider is not None
            # An int, formatted by Python: nothing of a user's reaches the query's text.
            query = f"{query.rstrip().rstrip(';')}; SELECT pg_advisory_xact_lock({int(rider.key)})"
        if args or timeout is not None:
            result: str = await super().execute(query, *args, timeout=timeout)
        else:
            result = await super().execute(query)
        if query.startswith("BEGIN"):
            self.begins += 1
            self.kept_savepoints = 0
            if carried:
                assert rider is not None
                rider.connection, rider.begin = self, self.begins
        return result


@contextmanager
def lock_at_begin(key: int) -> Iterator[_Rider]:
    """While active, the next BEGIN on a ``LockingConnection`` in this task takes
    ``pg_advisory_xact_lock(key)``; ``taken`` tells afterwards whether a given connection's
    current transaction holds it."""
    rider = _Rider(key)
    token = _RIDER.set(rider)
    try:
        yield rider
    finally:
        _RIDER.reset(token)


def taken(rider: _Rider, driver_connection: Any) -> bool:
    """Whether the lock rode on the BEGIN of ``driver_connection``'s current transaction (not
    on one rolled back since, as a read-only option set after checkout does)."""
    return (
        rider.connection is not None
        and rider.connection is driver_connection
        and rider.begin == rider.connection.begins
        and rider.connection.is_in_transaction()
    )


# Beyond this many in one transaction, savepoints are released as usual: each one kept is a
# level of nesting the server carries to the end of the transaction.
KEPT_SAVEPOINTS = 8


def release_at_commit(release: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    """A dialect's ``do_release_savepoint`` that leaves the savepoint to the transaction's end.

    RELEASE SAVEPOINT only merges the savepoint's work into the enclosing transaction, which
    COMMIT (or ROLLBACK) does anyway; skipping it saves the round trip of every nested block
    that succeeds (a saved visit's). A kept savepoint stays nested around what follows, which
    changes nothing: SQLAlchemy rolls back only to savepoints it still has open, and those are
    inside it. The server keeps a released one's transaction id to the end as well, so keeping
    it costs no more of those."""

    def do_release_savepoint(connection: Any, name: str) -> None:
        driver = connection.connection.driver_connection
        if isinstance(driver, LockingConnection) and driver.kept_savepoints < KEPT_SAVEPOINTS:
            driver.kept_savepoints += 1
            return
        release(connection, name)

    return do_release_savepoint
