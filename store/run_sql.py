"""The SQL that files script runs and adds them to the rollups, shared by revision 0007's triggers
(which file every other writer's rows one at a time) and the repository's deletes and the rare
rows its saves leave to SQL (store/rollup_writes.py).

A run's values are read from its span and trace in SQL, so both paths agree on what a run is:
a span with a script id that is not a custom span its script opened (damaged JSON reads as no
attribute), its version the first 12 digits of `script.sha256`, a limit hit when `limit` is
text, and its duration's bucket from the bucket edges table (none when skipped or not timed).
"""

from __future__ import annotations

HOUR = "3600000000000"
DAY = "86400000000000"
RUNS = "pipeline_script_runs"
TRACE_RUNS = "pipeline_trace_runs"
COUNTS = "pipeline_script_counts"
DURATIONS = "pipeline_script_durations"
BUCKETS = "pipeline_duration_buckets"
CLAIM = "pipeline_rollup_claim"
"""A row here, written and deleted within one of the repository's write transactions (so no
other connection ever sees it), tells the triggers that the transaction files its own runs and
rollups: they skip their per-row work. It holds the largest span key stored before the
transaction, after which its new spans' keys follow."""
UNCLAIMED = f"NOT EXISTS (SELECT 1 FROM {CLAIM})"

_VALID = "json_valid({s}.attributes)"
IS_RUN = (
    "{s}.script_id IS NOT NULL AND NOT (" + _VALID + " AND "
    "coalesce(json_extract({s}.attributes, '$.custom'), 0) != 0)"
)
_VERSION = (
    "coalesce(CASE WHEN " + _VALID + " AND json_type({s}.attributes, '$.\"script.sha256\"') = "
    "'text' THEN substr(json_extract({s}.attributes, '$.\"script.sha256\"'), 1, 12) END, '')"
)
_LIMIT = (
    "CASE WHEN " + _VALID + " AND json_type({s}.attributes, '$.limit') = 'text' THEN 1 ELSE 0 END"
)
_BUCKET = (
    "CASE WHEN {status} != 'skipped' AND typeof({ms}) IN ('real', 'integer') AND {ms} >= 0 "
    f"THEN (SELECT b.bucket FROM {BUCKETS} b WHERE b.lower_ms <= {{ms}} "
    "ORDER BY b.lower_ms DESC LIMIT 1) END"
)
RUN_COLUMNS = (
    "span_pk, trace_id, started_at, trigger_event, script_id, version, status, replay, "
    "limit_hit, bucket"
)
TRACE_RUN_COLUMNS = (
    "trace_id, started_at, trigger_event, script_id, version, status, replay, limit_hit, bucket"
)
ROLLUP_COLUMNS = "grain, t, trigger_event, script_id, version"
"""The columns every rollup row is keyed by before its own (status or bucket)."""
GRAINS = (
    f"(SELECT 'h' AS grain, {{r}}.started_at / {HOUR} AS t UNION ALL "
    f"SELECT 'd', {{r}}.started_at / {DAY} UNION ALL SELECT 'a', 0)"
)
"""The hour, day and all-time rollup keys of run `r`: a run counts in each."""


def bucket(status: str, ms: str) -> str:
    """The bucket of duration `ms` (NULL for a skipped run or one with no duration)."""
    return _BUCKET.format(status=status, ms=ms)


def span_run(s: str, t: str) -> str:
    """The values of a script run (RUN_COLUMNS) from span `s` and its trace `t`."""
    return (
        f"{s}.pk, {s}.trace_id, {t}.started_at, {t}.trigger_event, {s}.script_id, "
        f"{_VERSION.format(s=s)}, {s}.status, {t}.replay_of IS NOT NULL, "
        f"{_LIMIT.format(s=s)}, {bucket(f'{s}.status', f'{s}.duration_ms')}"
    )


def trace_run(t: str) -> str:
    """The values of trace `t`'s own run (TRACE_RUN_COLUMNS; script '', its pipeline version as
    version)."""
    return (
        f"{t}.id, {t}.started_at, {t}.trigger_event, '', "
        f"coalesce(substr({t}.pipeline_version, 1, 12), ''), {t}.status, "
        f"{t}.replay_of IS NOT NULL, 0, {bucket(f'{t}.status', f'{t}.duration_ms')}"
    )
