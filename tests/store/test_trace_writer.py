"""The background trace writer: batches, counts, a full queue, and a database that goes away."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from conftest import running_sqld
from factories import make_trace

from pipetrace.store import open_store
from pipetrace.store.writer import TraceWriter


def test_writes_batches_and_counts(tmp_path: Path) -> None:
    repo = open_store(str(tmp_path / "w.db"))
    writer = TraceWriter(repo, batch_size=7)
    try:
        for n in range(1, 31):
            writer.submit(make_trace(n))
        assert writer.flush(timeout=30)
        stats = writer.stats()
        assert (stats.written, stats.dropped, stats.failed, stats.pending) == (30, 0, 0, 0)
        assert repo.count_traces() == 30
    finally:
        writer.close()
        repo.close()


def test_converts_on_its_own_thread_and_survives_bad_records(tmp_path: Path) -> None:
    repo = open_store(str(tmp_path / "w.db"))

    def convert(n: int):  # the engine's records are converted the same way, off the caller
        if n == 2:
            raise ValueError("record 2 is malformed")
        return make_trace(n)

    writer = TraceWriter(repo, convert=convert)
    try:
        for n in (1, 2, 3, 1):  # the second 1 is a duplicate id: only it fails
            writer.submit(n)
        assert writer.flush(timeout=30)
        stats = writer.stats()
        assert (stats.written, stats.failed) == (2, 2)
        assert "record 2 is malformed" in (stats.last_error or "") or "UNIQUE" in (
            stats.last_error or ""
        )
        assert repo.count_traces() == 2
    finally:
        writer.close()
        repo.close()


def test_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    with running_sqld(tmp_path) as url:
        repo = open_store(url)
    # The server is gone: the writer retries its first batch while the queue fills up.
    writer = TraceWriter(repo, max_queue=5, batch_size=1, max_retries=1000, backoff=0.05)
    try:
        started = time.perf_counter()
        for n in range(1, 201):
            writer.submit(make_trace(n))
        assert time.perf_counter() - started < 5  # submit never waits for the database
        deadline = time.monotonic() + 10
        while writer.stats().last_error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = writer.stats()
        assert stats.dropped >= 190
        assert stats.written == 0
        assert "cannot connect" in (stats.last_error or "")
    finally:
        writer.close(timeout=0.5)
        repo.close()
    assert writer.stats().failed >= 1  # closing gave up on the batch it was retrying


def test_keeps_running_and_catches_up_when_the_database_returns(tmp_path: Path) -> None:
    folder = tmp_path / "sqld"
    folder.mkdir()
    with running_sqld(folder) as url:
        repo = open_store(url)
        port = int(url.rsplit(":", 1)[1])
    writer = TraceWriter(repo, backoff=0.05, max_backoff=0.5, max_retries=200)
    try:
        writer.submit(make_trace(1))
        deadline = time.monotonic() + 10
        while writer.stats().last_error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = writer.stats()
        assert stats.written == 0
        assert stats.stalled == stats.last_error and f"{url}: cannot connect" in stats.stalled
        with running_sqld(folder, port=port):
            assert writer.flush(timeout=30)
            stats = writer.stats()
            assert (stats.written, stats.stalled) == (1, None)
            assert repo.get_trace_with_spans(make_trace(1).trace.id) is not None
            writer.close()
    finally:
        writer.close(timeout=1)
        repo.close()


def test_offer_weighs_items_and_refuses_without_counting_a_drop(tmp_path: Path) -> None:
    """The receiver's use: items weigh their span count, a batch is saved by its own function,
    and an item the queue has no room for is refused, for its sender to send again."""
    repo = open_store(str(tmp_path / "w.db"))
    saved: list[list[list[int]]] = []
    release = threading.Event()

    def save(batch: list[list[int]]) -> None:
        release.wait(timeout=30)
        saved.append(batch)

    writer = TraceWriter(repo, save=save, weight=len, max_queue=5, batch_size=10)
    try:
        assert writer.offer([1, 2, 3])
        deadline = time.monotonic() + 10
        while writer.stats().pending and time.monotonic() < deadline:  # the thread took it
            time.sleep(0.01)
        assert writer.offer([4, 5]) and writer.offer([6, 7, 8])
        assert not writer.offer([9])
        assert writer.stats().pending == 5
        writer.submit([10])  # submit still drops, and counts it
        release.set()
        assert writer.flush(timeout=30)
        stats = writer.stats()
        assert (stats.written, stats.dropped, stats.failed, stats.pending) == (8, 1, 0, 0)
        assert saved == [[[1, 2, 3]], [[4, 5], [6, 7, 8]]]
    finally:
        release.set()
        writer.close()
        repo.close()
