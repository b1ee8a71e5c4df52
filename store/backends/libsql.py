"""A libSQL server (sqld or Turso) through libsql-client; writes go as atomic batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import libsql_client

from ..errors import StoreError, StoreUnavailable
from ..sql import InsertMany, Operation, Statement
from ..url import DatabaseTarget

MAX_PARAMS_PER_STATEMENT = 30_000
MAX_ROWS_PER_STATEMENT = 500


class LibsqlBackend:
    """Sends compiled statements to sqld; a write is one `batch()`, applied atomically."""

    def __init__(self, target: DatabaseTarget) -> None:
        self.target = target
        try:
            self.client = libsql_client.create_client_sync(
                target.location, auth_token=target.auth_token
            )
        except Exception as exc:  # the client validates the URL eagerly
            raise StoreUnavailable(f"{target.display}: {_describe(exc)}") from None

    def query(self, statement: Statement) -> list[tuple[Any, ...]]:
        """Run a read and return all rows as tuples."""
        try:
            result = self.client.execute(statement.sql, list(statement.params))
        except Exception as exc:
            raise self._explain(exc) from None
        return [tuple(row) for row in result.rows]

    def write(self, operations: Sequence[Operation]) -> None:
        """Send every operation in one batch; multi-row inserts keep round trips few."""
        batch: list[libsql_client.Statement] = []
        for op in operations:
            if isinstance(op, InsertMany):
                batch.extend(_multi_row_statements(op))
            else:
                batch.append(libsql_client.Statement(op.sql, list(op.params)))
        if not batch:
            return
        try:
            self.client.batch(batch)
        except Exception as exc:
            raise self._explain(exc) from None

    def checkpoint(self) -> None:
        """sqld manages its own WAL; nothing to do from a client."""

    def close(self) -> None:
        """Close the client and its event-loop thread."""
        with contextlib.suppress(Exception):  # a server that is gone must not fail shutdown
            self.client.close()

    def _explain(self, exc: BaseException) -> StoreError:
        """One line naming the server URL and the cause."""
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


def _describe(exc: BaseException) -> str:
    """A short cause for the usual client failures (refused, unauthorized, timeouts)."""
    status = getattr(exc, "status", None)
    if status in (401, 403):
        return f"the server refused the auth token (HTTP {status}); check PIPETRACE_DB_AUTH_TOKEN"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "the server did not answer in time"
    name = type(exc).__name__
    if "Connector" in name or isinstance(exc, ConnectionError | OSError):
        return f"cannot connect ({str(exc).splitlines()[0] if str(exc) else name})"
    text = " ".join(str(exc).split()) or name
    if "401" in text or "Unauthorized" in text:
        return f"the server refused the auth token ({text}); check PIPETRACE_DB_AUTH_TOKEN"
    return text
