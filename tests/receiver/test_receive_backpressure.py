"""A full write queue: while the store is slow the receiver answers 429, while it is unreachable
503, both with Retry-After and without taking the spans; exporters send them again and nothing
is lost once the store takes writes again."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from conftest import running_sqld
from receiver.receiving import Receiving, receiving, run_program

from pipetrace.store import open_store

LOCK_SECONDS = 3.0


def spans_of(trace: int, count: int) -> bytes:
    """An OTLP JSON request of `count` spans of one trace."""
    spans = [
        {
            "traceId": f"{trace:032x}",
            "spanId": f"{trace:08x}{n + 1:08x}",
            "name": f"step {n}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + n),
        }
        for n in range(count)
    ]
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()


def wait_for(rx: Receiving, what: str, test: Any, timeout: float = 30.0) -> dict[str, Any]:
    """The receiver's counts once `test` holds of them."""
    deadline = time.monotonic() + timeout
    while not test(counts := rx.health()):
        assert time.monotonic() < deadline, f"never {what}: {counts}"
        time.sleep(0.02)
    return counts


def locked(store: Path) -> sqlite3.Connection:
    """A connection holding the store's write lock until it rolls back."""
    connection = sqlite3.connect(store, check_same_thread=False, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def test_a_slow_store_fills_the_queue_and_new_requests_are_429(tmp_path: Path) -> None:
    store = tmp_path / "received.db"
    with receiving(tmp_path, str(store), "--queue-spans", "20") as rx:
        lock = locked(store)
        assert rx.post(spans_of(1, 15), "application/json")[0] == 200
        wait_for(rx, "taken by the writer", lambda c: c["pending"] == 0)
        assert rx.post(spans_of(2, 15), "application/json")[0] == 200
        status, headers, body = rx.post(spans_of(3, 15), "application/json")
        assert (status, headers["retry-after"]) == (429, "1")
        assert json.loads(body)["code"] == 8  # RESOURCE_EXHAUSTED
        counts = rx.health()
        assert (counts["received"], counts["refused"], counts["written"]) == (30, 15, 0)
        lock.rollback()
        lock.close()
        wait_for(rx, "written", lambda c: c["written"] == 30)
        assert rx.post(spans_of(3, 15), "application/json")[0] == 200
        assert rx.settled()["written"] == 45
    repo = open_store(str(store), migrate=False, create=False)
    try:
        assert [repo.get_trace_with_spans(f"{n:032x}").trace.span_count for n in (1, 2, 3)] == [
            15,
            15,
            15,
        ]
    finally:
        repo.close()


def test_the_sdk_sends_again_after_429_and_loses_nothing(tmp_path: Path) -> None:
    """Every span in a request of its own, against a queue of one span and a store locked for a
    while: the exporter waits as Retry-After says and the receiver ends up with every span."""
    store = tmp_path / "received.db"
    with receiving(tmp_path, str(store), "--queue-spans", "1") as rx:
        lock = locked(store)
        release = threading.Timer(LOCK_SECONDS, lock.rollback)
        release.start()
        try:
            status, results, sent = run_program(
                rx.url, tmp_path / "sent.json", "--processor", "simple"
            )
        finally:
            release.join()
            lock.close()
        counts = rx.settled()
    assert status == 0 and set(results) == {"SUCCESS"}
    assert counts["refused"] > 0
    assert (counts["received"], counts["written"], counts["failed"]) == (len(sent), len(sent), 0)
    repo = open_store(str(store), migrate=False, create=False)
    try:
        assert sum(
            repo.get_trace_with_spans(t).trace.span_count for t in {s["trace_id"] for s in sent}
        ) == len(sent)
    finally:
        repo.close()


def test_an_unreachable_store_is_503_until_it_returns(tmp_path: Path) -> None:
    folder = tmp_path / "sqld"
    folder.mkdir()
    with contextlib.ExitStack() as server:
        url = server.enter_context(running_sqld(folder))
        with receiving(tmp_path, url, "--queue-spans", "10") as rx:
            server.close()  # the store goes away; the receiver stays
            assert rx.post(spans_of(1, 10), "application/json")[0] == 200
            wait_for(rx, "stalled", lambda c: c["stalled"] and c["pending"] == 0)
            assert rx.post(spans_of(2, 10), "application/json")[0] == 200
            status, headers, body = rx.post(spans_of(3, 1), "application/json")
            assert (status, headers["retry-after"]) == (503, "5")
            refusal = json.loads(body)
            assert refusal["code"] == 14 and "unreachable" in refusal["message"]  # UNAVAILABLE
            with running_sqld(folder, port=int(url.rsplit(":", 1)[1])):
                counts = wait_for(rx, "written", lambda c: c["written"] == 20, timeout=120)
                assert (counts["failed"], counts["stalled"]) == (0, None)
                repo = open_store(url, migrate=False, create=False)
                try:
                    assert repo.count_traces() == 2
                finally:
                    repo.close()
