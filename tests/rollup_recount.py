"""Random traces for the script rollups, and the rollups recounted from the stored spans and
traces in Python, to compare with what the SQL triggers and backfills kept."""

from __future__ import annotations

import bisect
import json
import random
from collections import Counter
from typing import Any

from factories import BASE_NS, SEC

from pipetrace.store import Repository, SpanRow, TraceRow, TraceWithSpans
from pipetrace.store.schema import HOUR_NS
from pipetrace.store.sql import Statement

SCRIPTS = ("disposable_email", "ip_denylist", "risk_scorer", "velocity")
STATUSES = ("success", "success", "success", "blocked", "error", "skipped")
TRIGGERS = ("before_signup", "before_signin")
VERSIONS = ("a1" * 32, "b2" * 32, None)
GRAINS = {"h": HOUR_NS, "d": 24 * HOUR_NS}


def random_traces(rng: random.Random, count: int, first: int = 1) -> list[TraceWithSpans]:
    """`count` traces over three days, each with a root and some script spans (custom spans,
    limit hits, odd durations and replays among them)."""
    items = []
    for n in range(first, first + count):
        trace_id = f"{rng.getrandbits(120):030x}{n % 256:02x}"
        start = BASE_NS + rng.randrange(3 * 24 * 3600) * SEC
        duration = rng.choice([rng.lognormvariate(-3, 1.5), 0.0, None, 12.5])
        trace = TraceRow(
            id=trace_id,
            trigger_event=rng.choice(TRIGGERS),
            status=rng.choice(("success", "blocked", "error")),
            started_at=start,
            ended_at=None if duration is None else start + int(duration * 1e6),
            duration_ms=duration,
            pipeline_version=rng.choice(("p1" * 8, "p2" * 8, None)),
            replay_of=f"{n:032x}" if rng.random() < 0.1 else None,
        )
        spans = [SpanRow(trace_id, f"{n:08x}{0:08x}", trace.trigger_event, trace.status, start)]
        for j, script in enumerate(rng.sample(SCRIPTS, rng.randrange(0, len(SCRIPTS) + 1))):
            status = rng.choice(STATUSES)
            attributes: dict[str, Any] = {}
            version = rng.choice(VERSIONS)
            if version:
                attributes["script.sha256"] = version
            if status == "error" and rng.random() < 0.4:
                attributes["limit"] = "instruction_budget"
            if rng.random() < 0.15:
                attributes["custom"] = True
            ms = rng.choice([rng.lognormvariate(-4, 2), 0.0, None, 5e-5])
            spans.append(
                SpanRow(
                    trace_id,
                    f"{n:08x}{j + 1:08x}",
                    script,
                    status,
                    start + j,
                    parent_span_id=spans[0].id,
                    script_id=script,
                    ended_at=start + j + 1,
                    duration_ms=ms,
                    attributes=attributes,
                )
            )
        trace.span_count = len(spans)
        items.append(TraceWithSpans(trace, spans))
    return items


def stored_rollups(repo: Repository) -> tuple[dict[tuple[Any, ...], tuple[int, int]], Counter]:
    """The counts (key -> (n, limits)) and duration histograms (key -> n) the store holds."""
    query = repo.backend.query
    counts = {
        tuple(row[:6]): (int(row[6]), int(row[7]))
        for row in query(Statement("SELECT * FROM pipeline_script_counts"))
    }
    durations = Counter(
        {
            tuple(row[:6]): int(row[6])
            for row in query(Statement("SELECT * FROM pipeline_script_durations"))
        }
    )
    return counts, durations


def recounted(repo: Repository) -> tuple[dict[tuple[Any, ...], tuple[int, int]], Counter]:
    """The same recounted from every stored trace and script span, replays left out."""
    query = repo.backend.query
    edges = [
        float(edge)
        for (edge,) in query(
            Statement("SELECT lower_ms FROM pipeline_duration_buckets ORDER BY bucket")
        )
    ]
    runs: list[tuple[str, int, str, str, str, str, int, Any]] = []
    for trace_id, trigger, status, started, ms, version in query(
        Statement(
            "SELECT id, trigger_event, status, started_at, duration_ms, pipeline_version "
            "FROM pipeline_traces WHERE replay_of IS NULL"
        )
    ):
        runs.append((trace_id, started, trigger, "", (version or "")[:12], status, 0, ms))
    for _trace_id, started, trigger, script, status, ms, attributes in query(
        Statement(
            "SELECT s.trace_id, t.started_at, t.trigger_event, s.script_id, s.status, "
            "s.duration_ms, s.attributes FROM pipeline_spans s JOIN pipeline_traces t "
            "ON t.id = s.trace_id WHERE t.replay_of IS NULL AND s.script_id IS NOT NULL"
        )
    ):
        attrs = json.loads(attributes) if attributes else {}
        if attrs.get("custom"):
            continue
        sha = attrs.get("script.sha256")
        version = sha[:12] if isinstance(sha, str) else ""
        limit = int(isinstance(attrs.get("limit"), str))
        runs.append((_trace_id, started, trigger, script, version, status, limit, ms))
    counts: dict[tuple[Any, ...], tuple[int, int]] = {}
    durations: Counter = Counter()
    for _trace_id, started, trigger, script, version, status, limit, ms in runs:
        bucket = None
        if status != "skipped" and isinstance(ms, int | float) and ms >= 0:
            bucket = bisect.bisect_right(edges, ms) - 1
        for grain, t in (("h", started // HOUR_NS), ("d", started // GRAINS["d"]), ("a", 0)):
            key = (grain, t, trigger, script, version, status)
            n, limits = counts.get(key, (0, 0))
            counts[key] = (n + 1, limits + limit)
            if bucket is not None:
                durations[(grain, t, trigger, script, version, bucket)] += 1
    return counts, durations
