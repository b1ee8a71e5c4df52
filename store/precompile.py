"""Writes store/precompiled_sql/: the SQL text of the statements everyday commands and the viewer
run, for the filters operators use most, so they run without importing SQLAlchemy. Any other
shape is compiled on first use. Run `python -m pipetrace.store.precompile` after changing a
statement builder; tests/store/test_precompiled_sql.py fails until the files match.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from .filters import FilterShape, filter_shape
from .models import TraceFilter
from .sql import PRECOMPILED, Compiled, compile_named, precompiled_file, shape_key

QUERIES = ".queries"
AUTHER_QUERIES = ".auther.queries"
STATS_QUERIES = ".stats_queries"
ALONE = (
    TraceFilter(replays="include"),
    TraceFilter(replays="only"),
    TraceFilter(started_until=1),
    TraceFilter(min_duration_ms=1.0),
    TraceFilter(max_duration_ms=1.0),
    TraceFilter(min_duration_ms=1.0, max_duration_ms=2.0),
    TraceFilter(text="x"),
    TraceFilter(user_id="x"),
    TraceFilter(request_ip="x"),
    TraceFilter(ip_network="10.0.0.0/8"),
    TraceFilter(ip_network="10.0.0.0/24"),
)
"""Filters by one field beyond trigger, status and start (replays left out is the default)."""


def everyday_filters() -> list[FilterShape]:
    """A trigger, a status and a start bound in every combination, and each other field alone:
    what `traces`, the viewer and its live mode mostly ask."""
    combined = [
        TraceFilter(
            triggers=("x",) * triggers,
            statuses=("success",) * statuses,
            started_from=1 if since else None,
        )
        for triggers, statuses, since in itertools.product((0, 1), (0, 1), (False, True))
    ]
    return list(dict.fromkeys(filter_shape(f) for f in [*combined, *ALONE]))


def script_filters() -> list[FilterShape]:
    """A script, with or without a status of its runs, alone or with a start bound or a
    trigger: what `traces --script` and the stats screen's Enter mostly ask."""
    return list(
        dict.fromkeys(
            filter_shape(
                TraceFilter(
                    scripts=("x",),
                    script_statuses=("error",) * statuses,
                    started_from=1 if since else None,
                    triggers=("x",) * triggers,
                )
            )
            for statuses, since, triggers in itertools.product((0, 1), (False, True), (0, 1))
        )
    )


def stats_filters() -> list[FilterShape]:
    """What the stats mostly ask: everything, or a trigger, with or without a start bound."""
    return list(
        dict.fromkeys(
            filter_shape(TraceFilter(triggers=("x",) * triggers, started_from=1 if since else None))
            for triggers, since in itertools.product((0, 1), (False, True))
        )
    )


def everyday_statements() -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(book, statement name, shape) of every statement the precompiled table holds."""
    for name in (
        "trace_by_id",
        "spans_of_trace",
        "outline_spans",
        "damaged_spans",
        "span_links",
        "oldest_ids",
    ):
        yield QUERIES, name, ()
    for name in ("distinct_triggers", "replays_of", "count_traces_before", "count_spans_before"):
        yield QUERIES, name, ()
    for after in (False, True):
        yield QUERIES, "span_page", (after,)
    for arms in (1, 2):
        yield QUERIES, "id_lookup", (arms,)
    for count in range(1, 5):
        yield QUERIES, "sources_by_sha", (count,)
    yield QUERIES, "forget_sources", ()
    for counts in itertools.product((0, 1), (0, 1), (False, True), (False, True)):
        yield QUERIES, "count_hours", counts
    for name in ("trace_by_id", "id_range", "count_traces_before", "count_spans_before"):
        yield AUTHER_QUERIES, name, ()
    for shape in everyday_filters():
        for book in (QUERIES, AUTHER_QUERIES):
            yield book, "trace_page", (shape, False)
            yield book, "trace_page", (shape, True)
            yield book, "newer_traces", (shape,)
            yield book, "count_rows", (shape,)
            yield book, "edge", (False, shape)
            yield book, "edge", (True, shape)
            yield book, "sampled_points", (shape,)
        yield QUERIES, "count_unplaceable", (shape,)
    yield QUERIES, "statuses_of_script", ()
    yield QUERIES, "deciding_runs", ()
    for shape in script_filters():
        yield QUERIES, "runs_page", (shape, False)
        yield QUERIES, "runs_page", (shape, True)
        yield QUERIES, "newer_traces", (shape,)
        yield QUERIES, "count_rows", (shape,)
    yield STATS_QUERIES, "stored_hours", ()
    for shape in stats_filters():
        for ranges in (1, 2, 3):
            for name in ("rollup_counts", "rollup_percentiles", "rollup_chart"):
                yield STATS_QUERIES, name, (shape, ranges)


def compile_table() -> dict[str, dict[str, Compiled]]:
    """File name -> shape -> compiled statement, for every everyday statement."""
    table: dict[str, dict[str, Compiled]] = {}
    for book, name, shape in everyday_statements():
        entries = table.setdefault(precompiled_file(book, name).name, {})
        entries[shape_key(shape)] = compile_named(book, name, shape)
    return table


def main() -> None:
    """Rewrite the precompiled folder from the statement builders."""
    PRECOMPILED.mkdir(exist_ok=True)
    table = compile_table()
    for stale in PRECOMPILED.glob("*.json"):
        if stale.name not in table:
            stale.unlink()
    for file_name, entries in sorted(table.items()):
        text = json.dumps(entries, indent=1, sort_keys=True, allow_nan=False)
        (PRECOMPILED / file_name).write_text(text + "\n", encoding="utf-8")
    print(f"{PRECOMPILED}: {sum(map(len, table.values()))} statements in {len(table)} files")


if __name__ == "__main__":
    main()
