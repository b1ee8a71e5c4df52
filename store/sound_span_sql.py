"""The database's own test of whether a span row reads without a problem, so a trace's outline
can keep a sound row as it was fetched instead of checking it in Python, column by column.

It asks in SQL what `codec._clean_span` asks in Python (each column of the type it should
have, times and duration sound), and of each JSON column whether `codec._load_object` will
read it without a problem: empty, or text the database calls valid JSON that starts as an
object, with too few brackets to nest too deep. A row it passes reads as `span_from_row` reads
the common case; any other row is read by `span_from_row` at once, to be marked."""

from __future__ import annotations

from .codec import MAX_JSON_DEPTH
from .columns import SPAN_STATUSES


def _typed(column: str, *types: str) -> str:
    """`column` holds a value of one of SQLite's storage `types`."""
    return f"typeof({column}) IN ({', '.join(repr(t) for t in types)})"


def _sound_json(column: str) -> str:
    """`column` is empty or JSON text an object, nested no deeper than MAX_JSON_DEPTH can be."""
    brackets = f"length({column}) - length(replace(replace({column}, '{{', ''), '[', ''))"
    # A text no longer than MAX_JSON_DEPTH cannot hold more brackets, so only a longer one is
    # copied twice to count them.
    return (
        f"({column} IS NULL OR {column} = '' OR ({_typed(column, 'text')}"
        f" AND json_valid({column}) = 1 AND substr({column}, 1, 1) = '{{'"
        f" AND (length({column}) <= {MAX_JSON_DEPTH} OR {brackets} <= {MAX_JSON_DEPTH})))"
    )


SOUND_SPAN = " AND ".join(
    [
        *(_typed(c, "text") for c in ("trace_id", "id", "name", "kind", "status")),
        "kind <> ''",
        f"status IN ({', '.join(repr(s) for s in SPAN_STATUSES)})",
        *(_typed(c, "integer") for c in ("started_at", "ended_at")),
        # REAL affinity reads every number back as a float; 9e999 is SQLite's infinity.
        "(duration_ms IS NULL OR (typeof(duration_ms) = 'real' AND duration_ms >= 0"
        " AND duration_ms < 9e999))",
        *(_typed(c, "null", "text") for c in ("parent_span_id", "script_id", "status_message")),
        *(_typed(c, "null", "integer") for c in ("layer_index", "parallel_index")),
        _sound_json("attributes"),
        _sound_json("extra"),
    ]
)
"""SQL true (1) for a `pipeline_spans` row that reads without a problem, false (0) otherwise,
never NULL (a NULL status fails its type check), so `NOT (SOUND_SPAN)` finds every other row."""
