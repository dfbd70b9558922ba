"""Group commit: the write transactions of one event-loop turn share one ``COMMIT``.

A commit costs more than the statements of a generate-reply call together (the WAL frames are
written on each one). So the first request of a turn opens ``BEGIN IMMEDIATE`` and schedules the
``COMMIT`` for the next turn; every request of the turn runs its statements in its own
``SAVEPOINT`` (so a failing request rolls back alone) and waits for that commit before it is
answered. Nothing is answered before it is stored, and the rate-limit check-and-count still runs
under the database's write lock, so the limit stays exact across worker processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from .store import Store

__all__ = ["GroupCommit"]

T = TypeVar("T")


class GroupCommit:
    """Runs write work for one process's connection, committing once per event-loop turn."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: asyncio.Future[None] | None = None

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(conn)`` in the turn's transaction; return once it is committed."""
        conn = self._store.conn
        if self._pending is None:
            conn.execute("BEGIN IMMEDIATE")
            loop = asyncio.get_running_loop()
            self._pending = loop.create_future()
            loop.call_soon(self._commit)
        pending = self._pending
        conn.execute("SAVEPOINT request")
        try:
            result = work(conn)
        except BaseException:
            conn.execute("ROLLBACK TO request")
            conn.execute("RELEASE request")
            raise
        conn.execute("RELEASE request")
        # shield: a cancelled waiter must not cancel the commit the others wait for.
        await asyncio.shield(pending)
        return result

    def _commit(self) -> None:
        pending, self._pending = self._pending, None
        assert pending is not None
        conn = self._store.conn
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            pending.set_exception(exc)
            pending.exception()  # retrieved: every waiter re-raises it as a 500
        else:
            pending.set_result(None)
