"""Reads from a libSQL server over Hrana's HTTP pipeline on streams the server keeps open.

libsql-client opens a new server connection for every request (its HTTP client sends no baton
and its WebSocket client opens a stream per call), so each read paid for a fresh SQLite
connection on the server: schema load and a cold page cache, about 1.5 ms before any work.
Here each HTTP connection keeps its stream's baton, so a read reuses the server's warm
connection; bench/stats.py and docs/ARCHITECTURE.md give the figures.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import libsql_client
import msgspec

from ..sql import Statement

PIPELINE = "/v2/pipeline"
TLS_SCHEMES = {"https": True, "wss": True, "http": False, "ws": False}


class HttpStatusError(Exception):
    """The server answered with an HTTP error status (`status`), as libsql-client's is read."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"Server returned HTTP status {status}: {text}")
        self.status = status


class _Error(msgspec.Struct):
    message: str
    code: str | None = None


class _Value(msgspec.Struct):
    type: str
    value: Any = None
    base64: str | None = None


class _Rows(msgspec.Struct):
    rows: list[list[_Value]]


class _StepResults(msgspec.Struct):
    step_results: list[_Rows | None]
    step_errors: list[_Error | None]


class _Executed(msgspec.Struct):
    result: _Rows


class _Batched(msgspec.Struct):
    result: _StepResults


class _Outcome(msgspec.Struct):
    type: str
    response: msgspec.Raw = msgspec.Raw(b"null")
    error: _Error | None = None


class _Pipeline(msgspec.Struct):
    baton: str | None
    results: list[_Outcome]


_DECODE_PIPELINE = msgspec.json.Decoder(_Pipeline)
_DECODE_EXECUTED = msgspec.json.Decoder(_Executed)
_DECODE_BATCHED = msgspec.json.Decoder(_Batched)
_ENCODE = msgspec.json.Encoder()


class HranaReads:
    """Runs reads on held server streams, one per idle HTTP connection, so threads reading at
    once each get their own; a stream the server has let expire is replaced once."""

    def __init__(self, location: str, auth_token: str | None, timeout: float) -> None:
        parts = urlsplit(location)
        query = dict(parse_qsl(parts.query))
        tls = TLS_SCHEMES.get(parts.scheme, query.get("tls") != "0")
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = parts.path.rstrip("/") + PIPELINE
        self.tls = tls
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        token = query.get("authToken") or auth_token
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.idle: list[tuple[http.client.HTTPConnection, str | None]] = []
        self.lock = threading.Lock()

    def query(self, statement: Statement) -> list[tuple[Any, ...]]:
        """Run one read and return its rows as tuples."""
        response = self._send({"type": "execute", "stmt": _statement(statement)})
        return _rows(_DECODE_EXECUTED.decode(response).result)

    def query_many(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        """Run several reads in one request, in one read transaction; each one's rows."""
        steps: list[dict[str, Any]] = [{"stmt": {"sql": "BEGIN", "want_rows": False}}]
        for statement in statements:
            steps.append({"condition": _ok(len(steps) - 1), "stmt": _statement(statement)})
        steps.append({"condition": _ok(len(steps) - 1), "stmt": {"sql": "COMMIT"}})
        steps.append(
            {"condition": {"type": "not", "cond": _ok(len(steps) - 1)}, "stmt": {"sql": "ROLLBACK"}}
        )
        response = self._send({"type": "batch", "batch": {"steps": steps}})
        result = _DECODE_BATCHED.decode(response).result
        for error in result.step_errors[1 : len(statements) + 1]:
            if error is not None:
                raise libsql_client.LibsqlError(error.message, error.code or "UNKNOWN")
        return [_rows(rows) for rows in result.step_results[1 : len(statements) + 1]]

    def close(self) -> None:
        """Close every held stream and its connection (the server frees them at once)."""
        with self.lock:
            idle, self.idle = self.idle, []
        for conn, baton in idle:
            if baton is not None:
                with contextlib.suppress(Exception):  # a server that is gone frees nothing
                    self._post(conn, baton, [{"type": "close"}])
            conn.close()

    def _send(self, request: dict[str, Any]) -> msgspec.Raw:
        """One request on a held stream (a new one if none is idle); its response. A held
        stream the server let expire, or a kept-alive connection it closed, is replaced once
        (reads can be repeated); a refusal or a timeout is not tried again."""
        with self.lock:
            held = self.idle.pop() if self.idle else None
        conn, baton = held or (self._connect(), None)
        try:
            outcome, baton = self._post(conn, baton, [request])
        except (HttpStatusError, http.client.HTTPException, OSError) as exc:
            conn.close()
            if held is None or _final(exc):
                raise
            conn = self._connect()
            outcome, baton = self._post_or_close(conn, request)
        except BaseException:
            conn.close()
            raise
        with self.lock:
            self.idle.append((conn, baton))
        if outcome.error is not None:
            raise libsql_client.LibsqlError(outcome.error.message, outcome.error.code or "UNKNOWN")
        return outcome.response

    def _post_or_close(
        self, conn: http.client.HTTPConnection, request: dict[str, Any]
    ) -> tuple[_Outcome, str | None]:
        """`request` on a new stream of `conn`, which is closed if that fails."""
        try:
            return self._post(conn, None, [request])
        except BaseException:
            conn.close()
            raise

    def _post(
        self, conn: http.client.HTTPConnection, baton: str | None, requests: list[dict[str, Any]]
    ) -> tuple[_Outcome, str | None]:
        """POST a pipeline on `conn`: the first outcome and the stream's next baton."""
        body = _ENCODE.encode({"baton": baton, "requests": requests})
        conn.request("POST", self.path, body, self.headers)
        answer = conn.getresponse()
        text = answer.read()
        if answer.status != 200:
            raise HttpStatusError(answer.status, text.decode(errors="replace")[:200])
        pipeline = _DECODE_PIPELINE.decode(text)
        return pipeline.results[0], pipeline.baton

    def _connect(self) -> http.client.HTTPConnection:
        """A keep-alive connection to the server (nothing is sent until the first request)."""
        kind = http.client.HTTPSConnection if self.tls else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=self.timeout)


def _final(exc: BaseException) -> bool:
    """Whether trying again cannot help: the server refused the token, or did not answer."""
    return isinstance(exc, TimeoutError) or getattr(exc, "status", None) in (401, 403)


def _ok(step: int) -> dict[str, Any]:
    """A batch condition: the step succeeded."""
    return {"type": "ok", "step": step}


def _statement(statement: Statement) -> dict[str, Any]:
    """A statement in Hrana's JSON form, its positional values typed."""
    return {"sql": statement.sql, "args": [_value(v) for v in statement.params]}


def _value(value: Any) -> dict[str, Any]:
    """One value in Hrana's JSON form."""
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool | int):
        return {"type": "integer", "value": str(int(value))}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"type": "blob", "base64": base64.b64encode(bytes(value)).decode()}
    return {"type": "text", "value": str(value)}


def _rows(result: _Rows | None) -> list[tuple[Any, ...]]:
    """Rows as tuples of Python values."""
    if result is None:
        return []
    return [tuple(_cell(v) for v in row) for row in result.rows]


def _cell(value: _Value) -> Any:
    """One Hrana value as Python's; an infinite REAL, which the server sends without a value
    (JSON has none), is None."""
    kind = value.type
    if kind == "text":
        return value.value
    if kind == "integer":
        return int(value.value)
    if kind == "float":
        return None if value.value is None else float(value.value)  # JSON has no infinity
    if kind == "null":
        return None
    return base64.b64decode((value.base64 or "") + "==")  # the server leaves out the padding
