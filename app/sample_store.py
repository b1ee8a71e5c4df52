"""A fixed, realistic set of traces so screenshots and UI snapshots never depend on the engine.

Spans carry the attributes the engine writes (engine/record.py), so pictures show what operators
see on real traces.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from pipetrace.engine.record import limit_name
from pipetrace.store import Repository, SpanRow, TraceRow, TraceWithSpans, open_store
from pipetrace.store.sql import Statement

from .sample_scripts import sample_source

MS = 1_000_000
MINUTE = 60 * 1_000_000_000
DAY = 24 * 60 * MINUTE

PIPELINES: dict[str, list[list[str]]] = {
    "before_signup": [
        ["disposable_email", "ip_denylist", "velocity_check", "geo_rule"],
        ["risk_scorer"],
        ["signup_audit"],
    ],
    "before_signin": [["ip_denylist", "velocity_check", "geo_rule"], ["risk_scorer"]],
    "after_signup": [["welcome_webhook", "crm_sync"]],
    "token_build": [["claims_enricher", "role_mapper"], ["tenant_claims"]],
}
BLOCKS: dict[str, str] = {
    "disposable_email": "disposable email domain mailinator.com",
    "ip_denylist": "ip 185.220.101.4 is on the deny list (tor exit node)",
    "velocity_check": "too many signups from 203.0.113.9: 14 in 10m (limit 5)",
    "geo_rule": "country KP is not allowed for new accounts",
    "risk_scorer": "risk score 0.91 above threshold 0.80",
}
ERRORS: list[tuple[str, str, int | None]] = [
    ("geo_rule", "attempt to index a nil value (field 'country')", 14),
    ("velocity_check", "instruction budget exceeded (1000000)", None),
    ("risk_scorer", "deadline exceeded (50 ms)", None),
    ("claims_enricher", "bad argument #1 to 'pairs' (table expected, got nil)", 9),
]
"""A script's Lua error and line, or a limit hit (no line), worded as the engine words them."""
FALLBACK_ERROR = ("attempt to call a nil value (global 'http_post')", 5)
USERS = ["alice@example.com", "bob@corp.test", "carol@shop.test", "dave@mailinator.com"]
IPS = ["198.51.100.7", "203.0.113.9", "185.220.101.4", "192.0.2.33", "2001:db8::17"]


@dataclass(slots=True)
class SampleStore:
    """Ids of the notable traces the store holds, so tests and screenshots can open them."""

    url: str
    trace_ids: list[str] = field(default_factory=list)
    blocked_id: str = ""
    error_id: str = ""
    replay_id: str = ""
    large_id: str = ""
    corrupt_ids: list[str] = field(default_factory=list)


class _Ids:
    """W3C ids drawn from one seeded stream, never all zero."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def trace(self) -> str:
        return f"{self.rng.getrandbits(128) | 1:032x}"

    def span(self) -> str:
        return f"{self.rng.getrandbits(64) | 1:016x}"


def build_sample_store(url_or_repo: str | Repository, *, now_ns: int, seed: int = 7) -> SampleStore:
    """Write the sample traces (about 150, one with 2,000 spans, a few corrupt) and say which."""
    repo = open_store(url_or_repo) if isinstance(url_or_repo, str) else url_or_repo
    try:
        return _fill(repo, now_ns, seed)
    finally:
        if isinstance(url_or_repo, str):
            repo.close()


def _fill(repo: Repository, now_ns: int, seed: int) -> SampleStore:
    rng = random.Random(seed)
    ids = _Ids(rng)
    info = SampleStore(url=repo.url)
    items: list[TraceWithSpans] = []
    for n in range(140):
        age = rng.random() ** 2.2 * 7 * DAY if n > 12 else (n * 3 + rng.random()) * MINUTE
        trigger = rng.choice(list(PIPELINES))
        outcome = rng.choices(["success", "blocked", "error"], [78, 14, 8])[0]
        slow = 2 * 60 * MINUTE < age < 3 * 60 * MINUTE
        items.append(_trace(ids, rng, trigger, now_ns - int(age), outcome, slow=slow))
    items.sort(key=lambda item: item.trace.started_at)
    blocked = next(i for i in reversed(items) if i.trace.status == "blocked")
    errored = next(i for i in reversed(items) if i.trace.status == "error")
    # Replayed after a fix to the script that blocked: the sign-up now goes through.
    replay = _trace(ids, rng, blocked.trace.trigger_event, now_ns - 30 * 1_000_000_000, "success")
    replay.trace.replay_of = blocked.trace.id
    replay.trace.user_id = blocked.trace.user_id
    large = synthetic_trace(ids.trace(), 2000, now_ns - 45 * MINUTE, seed=seed)
    items += [replay, large]
    repo.save_traces(items)
    info.trace_ids = [i.trace.id for i in items]
    info.blocked_id, info.error_id = blocked.trace.id, errored.trace.id
    info.replay_id, info.large_id = replay.trace.id, large.trace.id
    info.corrupt_ids = _corrupt(repo, ids, rng, now_ns)
    return info


def _trace(
    ids: _Ids, rng: random.Random, trigger: str, start: int, outcome: str, *, slow: bool = False
) -> TraceWithSpans:
    """One trigger execution through its layered pipeline, ending as `outcome` says."""
    trace_id, root_id = ids.trace(), ids.span()
    user, ip = rng.choice(USERS), rng.choice(IPS)
    layers = PIPELINES[trigger]
    culprit_layer = rng.randrange(len(layers)) if outcome != "success" else -1
    culprit = rng.choice(layers[culprit_layer]) if culprit_layer >= 0 else ""
    spans: list[SpanRow] = []
    message: str | None = None
    span_message: str | None = None
    snapshot = {"email": user, "ip": ip, "password": "[REDACTED]", "_redacted": ["password"]}
    input_bytes = len(json.dumps(snapshot))
    result: dict[str, Any] = {}
    clock = start + rng.randint(20, 80) * 1000
    for layer_index, layer in enumerate(layers):
        layer_end = clock
        for parallel_index, script in enumerate(layer):
            begin = clock + rng.randint(5, 40) * 1000
            took = int(rng.lognormvariate(-0.7, 0.8) * MS * (18 if slow else 1))
            status, attrs = "success", _script_attrs(script, input_bytes)
            if script == culprit and outcome == "blocked" and script in BLOCKS:
                status, message = "blocked", BLOCKS[script]
                attrs.pop("output.data")
            elif script == culprit and outcome == "error":
                error, line = next(((m, n) for s, m, n in ERRORS if s == script), FALLBACK_ERROR)
                status, span_message = "error", error
                if line is None:
                    attrs.update({"lua.error": error, "limit": limit_name(error)})
                else:
                    file = f"{script}.lua"
                    span_message = f"{file}:{line}: {error}"
                    attrs.update({"lua.error": error, "lua.line": line, "lua.file": file})
                message = f"{script}: {span_message}"
                took = 50 * MS if "deadline" in error else took
                attrs.pop("output.data")
            result.update(attrs.get("output.data", {}))
            span_id = ids.span()
            own = span_message if status == "error" else message if status == "blocked" else None
            spans.append(_span(trace_id, span_id, root_id, script, begin, took, status, own, attrs))
            spans[-1].layer_index, spans[-1].parallel_index = layer_index, parallel_index
            if script == "risk_scorer":
                spans += _children(ids, rng, trace_id, span_id, begin, took)
            layer_end = max(layer_end, begin + took)
        clock = layer_end
        if outcome == "blocked" and message:
            break
    if outcome != "success" and message is None:
        outcome = "success"
    end = clock + rng.randint(10, 60) * 1000
    status = "blocked" if outcome == "blocked" else outcome
    root = _span(trace_id, root_id, None, trigger, start, end - start, status, message)
    root.attributes = {
        "trigger.mode": "async" if trigger == "after_signup" else "blocking",
        "pipeline.version": "9f2c41d0",
        "input.bytes": input_bytes,
        "scripts": sum(len(layer) for layer in layers),
    }
    trace = TraceRow(
        id=trace_id,
        trigger_event=trigger,
        status=status,
        status_message=message,
        started_at=start,
        ended_at=end,
        user_id=user,
        request_ip=ip,
        context_snapshot=snapshot,
        result_data=result,
        allowed=status != "blocked",
        pipeline_version="9f2c41d0",
    )
    sources = {_version(script): sample_source(script) for layer in layers for script in layer}
    return TraceWithSpans(trace, [root, *spans], sources)


def _version(script: str) -> str:
    """The sample's `script.sha256` of a script: a fixed digest standing for its one version
    (the sample source the store keeps for it)."""
    return hashlib.sha256(script.encode()).hexdigest()


def _script_attrs(script: str, input_bytes: int) -> dict[str, Any]:
    """The attributes the engine records on a script span that returned data."""
    return {
        "script.file": f"{script}.lua",
        "script.sha256": _version(script),
        "input.bytes": input_bytes,
        "output.data": {f"{script}.checked": True},
    }


def _children(
    ids: _Ids, rng: random.Random, trace_id: str, parent: str, begin: int, took: int
) -> list[SpanRow]:
    """The custom child spans a script makes with helpers.trace."""
    names = ["features: email_domain_age", "lookup: asn_reputation", "model: score_v3"]
    step = max(took // (len(names) + 1), 1000)
    return [
        _span(
            trace_id,
            ids.span(),
            parent,
            name,
            begin + (i + 1) * step // 2,
            step,
            "success",
            None,
            {"custom": True, "weight": round(rng.random(), 3)},
        )
        for i, name in enumerate(names)
    ]


def _span(
    trace_id: str,
    span_id: str,
    parent: str | None,
    name: str,
    start: int,
    took: int,
    status: str,
    message: str | None,
    attributes: dict[str, Any] | None = None,
) -> SpanRow:
    return SpanRow(
        trace_id=trace_id,
        id=span_id,
        parent_span_id=parent,
        name=name,
        status=status,
        status_message=message,
        started_at=start,
        ended_at=start + took,
        script_id=name if parent and " " not in name else None,
        attributes=attributes or {},
    )


def synthetic_trace(trace_id: str, n_spans: int, start: int, *, seed: int = 7) -> TraceWithSpans:
    """A token_build trace of `n_spans` spans in nested groups, for big-trace tests and benches."""
    rng = random.Random(f"{seed}:{trace_id}")
    root_id = f"{rng.getrandbits(64) | 1:016x}"
    spans = [_span(trace_id, root_id, None, "token_build", start, 0, "success", None)]
    group_size = 50
    clock = start + 10_000
    parent = root_id
    attrs: dict[str, Any]
    for n in range(1, n_spans):
        span_id = f"{rng.getrandbits(64) | 1:016x}"
        took = rng.randint(2, 40) * 1000
        if n % group_size == 1:
            name, parent_of_this = f"claims_batch_{n // group_size:04d}", root_id
            status, message, attrs = "success", None, {"batch": n // group_size}
            parent = span_id
            took = group_size * 45_000
        else:
            name, parent_of_this = f"claim: tenant_{n % 997:03d}.role", parent
            failed = n % 397 == 0
            status = "error" if failed else "success"
            message = "claims_enricher: attempt to index a nil value" if failed else None
            attrs = {"output.data": {"value": n % 7}}
            if failed:
                attrs.update({"lua.error": "attempt to index a nil value", "lua.line": 9})
        spans.append(
            _span(trace_id, span_id, parent_of_this, name, clock, took, status, message, attrs)
        )
        spans[-1].layer_index = 0
        clock += rng.randint(1, 20) * 1000
    end = max(s.ended_at or s.started_at for s in spans) + 20_000
    spans[0].ended_at = end
    failed = any(s.status == "error" for s in spans)
    trace = TraceRow(
        id=trace_id,
        trigger_event="token_build",
        status="error" if failed else "success",
        status_message="claims_enricher: attempt to index a nil value" if failed else None,
        started_at=start,
        ended_at=end,
        user_id="svc-batch@corp.test",
        request_ip="10.0.0.8",
        allowed=True,
        span_count=n_spans,
    )
    return TraceWithSpans(trace, spans)


def _corrupt(repo: Repository, ids: _Ids, rng: random.Random, now_ns: int) -> list[str]:
    """Four traces whose stored rows are damaged the ways foreign writers damage them."""
    damage = [
        "UPDATE pipeline_traces SET context_snapshot = '{\"email\": ' WHERE id = ?",
        "UPDATE pipeline_traces SET ended_at = NULL WHERE id = ?",
        "UPDATE pipeline_traces SET duration_ms = -3.5 WHERE id = ?",
        "UPDATE pipeline_traces SET status = 'timeout' WHERE id = ?",
    ]
    made = [
        _trace(ids, rng, "before_signin", now_ns - (5 + 7 * n) * MINUTE - 17_000_000_000, "success")
        for n in range(len(damage))
    ]
    repo.save_traces(made)
    bad_span = made[0].spans[1]
    statements = [Statement(sql, (item.trace.id,)) for sql, item in zip(damage, made, strict=True)]
    statements.append(
        Statement(
            "UPDATE pipeline_spans SET attributes = '{not json' WHERE trace_id = ? AND id = ?",
            (bad_span.trace_id, bad_span.id),
        )
    )
    repo.backend.write(statements)
    return [item.trace.id for item in made]
