"""Connections to one SQLite file that threads borrow and give back, a bounded number open at
once; plain sqlite3, so opening a store costs no SQLAlchemy import."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MAX_OPEN = 16
"""Connections open at once (what SQLAlchemy's pool allowed before: 8 kept, 8 more on demand)."""
WAIT_S = 30.0
"""How long a thread waits for a connection when MAX_OPEN are in use."""


class PoolExhausted(sqlite3.OperationalError):
    """Every connection stayed in use for WAIT_S: reported like a database that stayed busy."""


class ConnectionPool:
    """Idle connections kept for the next borrower; one thread uses a connection at a time."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self.connect = connect
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_OPEN)
        self._generation = 0
        """Bumped by `close`: a connection borrowed before is closed when it comes back."""

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection with no transaction open, given back (its transaction rolled back if
        the borrower left one open) when the block ends."""
        if not self._slots.acquire(timeout=WAIT_S):
            raise PoolExhausted(f"busy: all {MAX_OPEN} connections stayed in use for {WAIT_S}s")
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
                generation = self._generation
            if conn is None:
                conn = self.connect()
            try:
                yield conn
            finally:
                self._give_back(conn, generation)
        finally:
            self._slots.release()

    def _give_back(self, conn: sqlite3.Connection, generation: int) -> None:
        """Keep a returned connection for the next borrower, or close it after `close`."""
        try:
            if conn.in_transaction:
                conn.rollback()
        except sqlite3.Error:
            conn.close()
            return
        with self._lock:
            if generation == self._generation:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections; those in use are closed as they come back. The pool
        opens new ones if it is used again."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for conn in idle:
            conn.close()
