"""A libSQL server (sqld or Turso): writes through libsql-client as atomic batches, reads on
held server streams (hrana_reads.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import libsql_client

from ..errors import StoreError, StoreUnavailable
from ..models import StoreSpace, VacuumResult
from ..sql import InsertMany, Operation, Statement
from ..url import DatabaseTarget, mask_credentials
from .hrana_reads import HranaReads

MAX_PARAMS_PER_STATEMENT = 30_000
MAX_ROWS_PER_STATEMENT = 500
WRITE_TIMEOUTS = 10
SPACE_SQL = "SELECT * FROM pragma_page_size(), pragma_page_count(), pragma_freelist_count()"
"""A write batch (a whole imported file is one) may take this many request timeouts."""
T = TypeVar("T")


class LibsqlBackend:
    """Sends compiled statements to sqld; a write is one `batch()`, applied atomically, and a
    read goes on a stream the server keeps open, so it reuses a warm server connection.

    The async client runs on an event loop in a thread of its own, and every request is
    bounded by the target's timeout, so a server that accepts and never answers cannot hang
    a command or the viewer.
    """

    def __init__(self, target: DatabaseTarget) -> None:
        self.target = target
        self.read_only = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="libsql", daemon=True)
        self.thread.start()
        self.closing = threading.Lock()
        try:
            self.client = self._run(_create_client(target))
        except Exception as exc:  # the client validates the URL eagerly
            self._stop_loop()
            raise StoreUnavailable(f"{target.display}: {_describe(exc)}") from None
        self.reads = HranaReads(target.location, target.auth_token, target.timeout)

    def query(self, statement: Statement) -> list[tuple[Any, ...]]:
        """Run a read and return all rows as tuples."""
        try:
            return self.reads.query(statement)
        except Exception as exc:
            raise self._explain(exc) from None

    def query_many(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        """Run several reads in one request, so one round trip, for all."""
        try:
            return self.reads.query_many(statements)
        except Exception as exc:
            raise self._explain(exc) from None

    def write(self, operations: Sequence[Operation]) -> list[int]:
        """Send every operation in one batch (multi-row inserts keep round trips few); returns
        the rows each operation changed, summed over the statements it was split into."""
        batch: list[libsql_client.Statement] = []
        sizes = []
        for op in operations:
            if isinstance(op, InsertMany):
                statements = _multi_row_statements(op)
            else:
                statements = [libsql_client.Statement(op.sql, list(op.params))]
            batch.extend(statements)
            sizes.append(len(statements))
        if not batch:
            return [0] * len(operations)
        try:
            results = self._run(self.client.batch(batch), WRITE_TIMEOUTS * self.target.timeout)
        except Exception as exc:
            raise self._explain(exc) from None
        changed, start = [], 0
        for size in sizes:
            changed.append(sum(r.rows_affected for r in results[start : start + size]))
            start += size
        return changed

    def checkpoint(self) -> None:
        """sqld manages its own WAL; nothing to do from a client."""

    def data_version(self) -> None:
        """Unknown: each request may reach another connection of the server, whose
        `PRAGMA data_version` tells nothing about the previous one's."""

    def space(self) -> StoreSpace:
        """Sizes the server reports (it answers read-only pragmas); its disk is its own."""
        page_size, pages, free = self.query(Statement(SPACE_SQL))[0]
        return StoreSpace(pages * page_size, free * page_size, "server")

    def release_free_pages(self, max_pages: int) -> tuple[int, int]:
        """sqld refuses `PRAGMA incremental_vacuum` from clients: nothing is given back here."""
        return 0, self.space().free_bytes

    def vacuum(self, wait: float, on_start: Callable[[int], None] | None = None) -> VacuumResult:
        """sqld refuses VACUUM and writable pragmas from clients; say so instead of trying."""
        raise StoreError(
            f"{self.target.display}: a libSQL server manages its own disk space and refuses "
            "VACUUM from clients; nothing was changed (free pages are reused for new traces)"
        )

    def close(self) -> None:
        """Close the client, then stop its event-loop thread; closing twice (or from two
        threads at once) does nothing more."""
        with self.closing:
            if self.loop.is_closed():
                return
            self.reads.close()
            with contextlib.suppress(Exception):  # a server that is gone must not fail shutdown
                self._run(self.client.close())
            self._stop_loop()

    def _run(self, coroutine: Coroutine[Any, Any, T], limit: float | None = None) -> T:
        """Run a client call on the loop thread; give up after `limit` (the target's timeout),
        and refuse a call once the backend is closed instead of waiting for a stopped loop."""
        limit = self.target.timeout if limit is None else limit
        bounded = asyncio.wait_for(coroutine, limit)
        try:
            future = asyncio.run_coroutine_threadsafe(bounded, self.loop)
        except RuntimeError:
            bounded.close()
            raise StoreUnavailable(f"{self.target.display}: the connection is closed") from None
        return future.result(limit + 1)

    def _stop_loop(self) -> None:
        """End the loop thread and release the loop."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    def _explain(self, exc: BaseException) -> StoreError:
        """One line naming the server URL and the cause."""
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, TimeoutError):
            return StoreUnavailable(
                f"the libSQL server at {self.target.display} did not answer "
                f"within {self.target.timeout:g} s (PIPETRACE_DB_TIMEOUT; a write batch gets "
                f"{WRITE_TIMEOUTS} times that)"
            )
        text = _describe(exc)
        code = getattr(exc, "code", None)
        answered = isinstance(exc, libsql_client.LibsqlError) and code not in (None, "SERVER_ERROR")
        if answered and "auth" not in text.lower() and "UNAUTHORIZED" not in str(code).upper():
            return StoreError(f"{self.target.display}: {text}")
        return StoreUnavailable(f"{self.target.display}: {text}")


def _multi_row_statements(op: InsertMany) -> list[libsql_client.Statement]:
    """Split rows into INSERTs of many rows each, within SQLite's parameter limit."""
    width = max(1, len(op.columns))
    per_statement = max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMS_PER_STATEMENT // width))
    statements = []
    rows = list(op.rows)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        args = [value for row in chunk for value in row]
        statements.append(libsql_client.Statement(op.multi_row_sql(len(chunk)), args))
    return statements


async def _create_client(target: DatabaseTarget) -> libsql_client.Client:
    """The async client, made on the loop thread, where its HTTP session must live."""
    return libsql_client.create_client(target.location, auth_token=target.auth_token)


def _describe(exc: BaseException) -> str:
    """A short cause for the usual client failures (refused, unauthorized), without secrets."""
    return mask_credentials(_cause(exc))


def _cause(exc: BaseException) -> str:
    """What went wrong, in the client's words where they are short enough."""
    status = getattr(exc, "status", None)
    if status in (401, 403):
        return f"the server refused the auth token (HTTP {status}); check PIPETRACE_DB_AUTH_TOKEN"
    name = type(exc).__name__
    if "Connector" in name or isinstance(exc, ConnectionError | OSError):
        return f"cannot connect ({str(exc).splitlines()[0] if str(exc) else name})"
    text = " ".join(str(exc).split()) or name
    if "401" in text or "Unauthorized" in text:
        return f"the server refused the auth token ({text}); check PIPETRACE_DB_AUTH_TOKEN"
    return text
