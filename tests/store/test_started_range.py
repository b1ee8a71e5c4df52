"""The first and last start of matching traces, and counting rows exactly over a time range,
on embedded SQLite and a real sqld server alike (the viewer's plot axis uses both)."""

from __future__ import annotations

from factories import BASE_NS, SEC, make_trace

from pipetrace.store import Repository, TraceFilter
from pipetrace.store.codec import INT64_MAX, INT64_MIN
from pipetrace.store.sql import Statement


def _damage(repo: Repository, changes: dict[int, str]) -> None:
    """Give trace n the start time SQL value changes[n], as another writer might have."""
    repo.backend.write(
        [
            Statement(
                f"UPDATE pipeline_traces SET started_at = {value} WHERE id = ?", (f"{n:032x}",)
            )
            for n, value in changes.items()
        ]
    )


def test_started_range_is_the_first_and_last_start(repo: Repository) -> None:
    """Inclusive first and last starts for any filter; None when nothing matches; damaged
    starts (text, a BLOB, beyond 64 bits) are not times and never an edge."""
    repo.save_traces([make_trace(n, status="error" if n % 2 else "success") for n in range(1, 11)])
    _damage(repo, {9: "'soon'", 10: "x'00ff'"})

    assert repo.started_range(TraceFilter()) == (BASE_NS + SEC, BASE_NS + 8 * SEC)
    assert repo.started_range(TraceFilter(statuses=("error",))) == (
        BASE_NS + SEC,
        BASE_NS + 7 * SEC,
    )
    window = TraceFilter(started_from=BASE_NS + 3 * SEC, started_until=BASE_NS + 6 * SEC)
    assert repo.started_range(window) == (BASE_NS + 3 * SEC, BASE_NS + 5 * SEC)
    assert repo.started_range(TraceFilter(started_from=BASE_NS + 100 * SEC)) is None


def test_count_rows_leaves_damaged_starts_out_of_time_ranges(repo: Repository) -> None:
    """The hourly counts file a text or BLOB start under hour 0, so counting them for a range
    would call them older than everything; counting the rows themselves does not."""
    repo.save_traces([make_trace(n) for n in range(1, 9)])
    _damage(repo, {5: "'soon'", 6: "x'00ff'", 7: "1.5e30", 8: "-1.5e30"})
    older = TraceFilter(started_from=INT64_MIN, started_until=BASE_NS + 3 * SEC)
    newer = TraceFilter(started_from=BASE_NS + 3 * SEC, started_until=INT64_MAX)

    assert (repo.count_rows(older), repo.count_rows(newer)) == (2, 2)
    assert repo.count_rows(TraceFilter()) == repo.count_traces() == 8
