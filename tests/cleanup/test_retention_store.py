"""cleanup_old_traces on both backends: the cutoff boundary, no orphans, cancel, and the preview."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
from conftest import running_sqld

from pipetrace.store import CleanupProgress, CleanupResult, Repository, StoreUnavailable, open_store

BASE = 1_780_000_000_000_000_000
NOW = BASE + 100 * 86_400 * 1_000_000_000
CLEANERS = 3


def test_trace_exactly_at_cutoff_stays_and_one_ns_older_goes(repo: Repository, kit) -> None:
    cutoff = BASE + 1_000
    repo.save_traces([kit.trace_at(0, cutoff - 1), kit.trace_at(1, cutoff), kit.trace_at(2, BASE)])

    assert repo.count_older_than(cutoff) == (2, 6)
    result = repo.cleanup_old_traces(cutoff)

    assert (result.traces, result.spans, result.cancelled) == (2, 6, False)
    assert [row.started_at for row in repo.list_traces().rows] == [cutoff]
    assert kit.span_counts(repo) == {f"{2:032x}": 3}


def test_spans_go_with_their_traces_and_no_orphan_is_left(repo: Repository, kit) -> None:
    kit.seed(repo, old=25, new=4, now_ns=NOW)

    cutoff = NOW - 30 * kit.DAY
    result = repo.cleanup_old_traces(cutoff, batch_size=7)

    assert (result.traces, result.spans) == (25, 75)
    assert kit.orphan_spans(repo) == 0
    assert sorted(kit.span_counts(repo).values()) == [3, 3, 3, 3]
    assert repo.count_older_than(cutoff) == (0, 0)


def test_deletes_oldest_first_and_reports_running_totals(repo: Repository, kit) -> None:
    repo.save_traces([kit.trace_at(i, BASE + (10 - i) * 1_000) for i in range(10)])
    seen: list[CleanupProgress] = []
    remaining_after_first: list[int] = []

    def on_progress(progress: CleanupProgress) -> None:
        seen.append(progress)
        if len(seen) == 1:
            remaining_after_first.extend(r.started_at for r in repo.list_traces().rows)

    repo.cleanup_old_traces(BASE + 8_500, batch_size=3, on_progress=on_progress)

    assert [(p.traces, p.spans, p.total_traces) for p in seen] == [
        (3, 9, 8),
        (6, 18, 8),
        (8, 24, 8),
    ]
    assert min(remaining_after_first) == BASE + 4_000
    assert len(remaining_after_first) == 7


def test_cancel_between_batches_leaves_a_consistent_store(repo: Repository, kit) -> None:
    kit.seed(repo, old=10, new=2, now_ns=NOW)
    cutoff = NOW - 30 * kit.DAY
    batches: list[CleanupProgress] = []

    def cancel_after_first(progress: CleanupProgress) -> None:
        batches.append(progress)
        cancel.set()

    cancel = threading.Event()
    result = repo.cleanup_old_traces(
        cutoff, batch_size=3, on_progress=cancel_after_first, cancel=cancel
    )

    assert (result.traces, result.spans, result.cancelled) == (3, 9, True)
    assert len(batches) == 1
    assert kit.orphan_spans(repo) == 0
    counts = kit.span_counts(repo)
    assert len(counts) == 9
    assert set(counts.values()) == {3}
    assert repo.count_older_than(cutoff) == (7, 21)


def test_preview_counts_without_deleting(repo: Repository, kit) -> None:
    kit.seed(repo, old=5, new=3, now_ns=NOW)
    cutoff = NOW - 30 * kit.DAY

    assert repo.count_older_than(cutoff) == (5, 15)
    assert repo.count_older_than(cutoff) == (5, 15)
    assert repo.count_traces() == 8


def test_nothing_older_deletes_nothing(repo: Repository, kit) -> None:
    kit.seed(repo, old=0, new=3, now_ns=NOW)

    result = repo.cleanup_old_traces(NOW - 30 * kit.DAY)

    assert (result.traces, result.spans, result.cancelled) == (0, 0, False)
    assert repo.count_traces() == 3


def test_overlapping_cleanups_count_only_what_each_deleted(store_url: str, kit) -> None:
    repos = [open_store(store_url) for _ in range(CLEANERS)]
    try:
        kit.seed(repos[0], old=600, new=5, now_ns=NOW)
        start = threading.Barrier(CLEANERS)
        results: list[CleanupResult] = []

        def clean(repo: Repository) -> None:
            start.wait()
            results.append(repo.cleanup_old_traces(NOW - 30 * kit.DAY, batch_size=20))

        threads = [threading.Thread(target=clean, args=(repo,)) for repo in repos]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sum(r.traces for r in results) == 600
        assert sum(r.spans for r in results) == 1800
        assert repos[0].count_traces() == 5
    finally:
        for repo in repos:
            repo.close()


def test_a_store_failure_mid_cleanup_says_what_was_deleted(tmp_path: Path, kit) -> None:
    server = contextlib.ExitStack()
    repo = open_store(server.enter_context(running_sqld(tmp_path)))
    try:
        kit.seed(repo, old=10, new=2, now_ns=NOW)

        def stop_server_after_two_batches(progress: CleanupProgress) -> None:
            if progress.traces == 6:
                server.close()

        with pytest.raises(StoreUnavailable, match=r"after deleting 6 traces and 18 spans") as err:
            repo.cleanup_old_traces(
                NOW - 30 * kit.DAY, batch_size=3, on_progress=stop_server_after_two_batches
            )
    finally:
        repo.close()
        server.close()
    assert "cannot connect" in err.value.message
    assert err.value.partial == CleanupResult(6, 18)
