"""Replays a stored trace through the current pipelines and says what changed, script by script."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipetrace.app.engine_sink import record_to_rows
from pipetrace.engine import Engine, TraceRecord
from pipetrace.engine.redaction import Redactor
from pipetrace.errors import PipetraceError
from pipetrace.store import Repository, SpanRow, TraceRow, TraceWithSpans
from pipetrace.store.auther import TRUNCATED_KEY

from .helper_values import HelperValues
from .replay_sources import replay_source
from .script_diff import ScriptDiff, script_diffs

_MISSING = object()
NS_PER_MS = 1_000_000


class ReplayError(PipetraceError):
    """A trace that cannot be replayed, and why, in one line."""

    title = "Cannot replay"


@dataclass(frozen=True, slots=True)
class SpanChange:
    """One script's run before and after: matched by script id."""

    script_id: str
    change: str
    """"same", "changed", "added" (only in the replay) or "removed" (only in the original)."""
    status_before: str | None
    status_after: str | None
    message_before: str | None
    message_after: str | None
    duration_before_ms: float | None
    duration_after_ms: float | None
    source_changed: bool | None
    """Whether the script's file differs from the one that ran originally (None: unknown)."""
    name: str | None = None
    """The script's span name where it is not its id (auther names scripts)."""

    @property
    def label(self) -> str:
        """The script as a diff names it: its id, or its name and the start of its id (auther's
        scripts are named and their ids are UUIDs; JSON has the whole id)."""
        return self.script_id if self.name is None else f"{self.name} ({self.script_id[:8]})"


@dataclass(frozen=True, slots=True)
class DataChange:
    """A key of the result data whose value differs; MISSING shows as None with a flag."""

    key: str
    before: Any
    after: Any
    added: bool = False
    removed: bool = False


@dataclass(frozen=True, slots=True)
class ReplayDiff:
    """What an operator needs after a fix: did the decision change, and which script did it."""

    original_id: str
    replay_id: str
    trigger: str
    allowed_before: bool | None
    allowed_after: bool | None
    status_before: str
    status_after: str
    error_before: str | None
    error_after: str | None
    data: list[DataChange]
    spans: list[SpanChange]
    redacted: list[str] = field(default_factory=list)
    """Input fields stored redacted: the replay saw "[REDACTED]" where the original saw a value."""
    scripts: list[ScriptDiff] = field(default_factory=list)
    """How each script whose source changed differs from the version the trace ran."""

    @property
    def identical(self) -> bool:
        """Same decision, same error, same data and the same status for every script."""
        return (
            self.allowed_before == self.allowed_after
            and self.status_before == self.status_after
            and self.error_before == self.error_after
            and not self.data
            and all(s.change == "same" for s in self.spans)
        )

    def to_json(self) -> dict[str, Any]:
        """The diff for `--json` and other tools."""
        return {
            "original_id": self.original_id,
            "replay_id": self.replay_id,
            "trigger": self.trigger,
            "identical": self.identical,
            "decision": {"before": self.allowed_before, "after": self.allowed_after},
            "status": {"before": self.status_before, "after": self.status_after},
            "error": {"before": self.error_before, "after": self.error_after},
            "data": [asdict(d) for d in self.data],
            "spans": [
                {
                    "script_id": s.script_id,
                    "name": s.name,
                    "change": s.change,
                    "status": {"before": s.status_before, "after": s.status_after},
                    "message": {"before": s.message_before, "after": s.message_after},
                    "duration_ms": {"before": s.duration_before_ms, "after": s.duration_after_ms},
                    "source_changed": s.source_changed,
                }
                for s in self.spans
            ],
            "redacted": self.redacted,
            "script_diffs": [d.to_json() for d in self.scripts],
        }


def replayable_input(
    original: TraceWithSpans, sources: tuple[str, ...] = ("engine",)
) -> dict[str, Any]:
    """The stored input to run again, or a ReplayError saying why there is none; `sources`
    are the writers whose traces hold a whole input (auther's do too, as it received it)."""
    trace = original.trace
    if trace.source not in sources:
        raise ReplayError(
            f"trace {trace.id} was imported ({trace.source}); only traces of the pipeline "
            "engine can be replayed"
        )
    snapshot = trace.context_snapshot
    damage = next((p for p in trace.problems if p.startswith("context_snapshot")), None)
    if snapshot is None or damage:
        why = f" (stored row problem: {damage})" if damage else ""
        raise ReplayError(f"trace {trace.id} has no readable stored input to replay{why}")
    if snapshot.get("_truncated"):
        raise ReplayError(
            f"trace {trace.id}: its input was too large to store ({snapshot.get('size')} bytes "
            "over the snapshot cap), so it cannot be replayed"
        )
    if TRUNCATED_KEY in snapshot:
        raise ReplayError(
            f"trace {trace.id}: auther cut its input at 32 KB when it stored it "
            f"({snapshot[TRUNCATED_KEY]} bytes), so it cannot be replayed"
        )
    return {key: value for key, value in snapshot.items() if key != "_redacted"}


@dataclass(frozen=True, slots=True)
class Replay:
    """A replay that ran but is not stored yet: its diff, its rows to keep if wanted, and
    which pipelines it ran."""

    diff: ReplayDiff
    rows: TraceWithSpans
    pipelines: str = ""


class _Collected:
    """A trace sink that keeps the engine's records in memory: a replay stores nothing."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []

    def submit(self, trace: TraceRecord) -> None:
        """Keep one finished trace."""
        self.records.append(trace)


def run_replay(
    repo: Repository,
    trace_id: str,
    pipelines_dir: str | Path | None = None,
    helpers: HelperValues | None = None,
) -> Replay:
    """Run the trace's trigger again with its stored input and diff the runs; stores nothing.
    It runs through `pipelines_dir`, else the plans and scripts the store keeps itself (an
    auther database's), else the bundled folder; `helpers` are what the scripts' helpers
    hand them (secrets, allowed environment values, fetch responses)."""
    original = repo.get_trace_with_spans(trace_id)
    if original is None:
        raise ReplayError(f"no trace {trace_id!r} in {repo.url}")
    payload = replayable_input(original, ("engine", "auther"))
    source = replay_source(repo, original.trace, Path(pipelines_dir) if pipelines_dir else None)
    pipelines = source.pipelines
    trigger = original.trace.trigger_event
    if trigger not in pipelines.triggers:
        raise ReplayError(
            f"trace {original.trace.id}: trigger {trigger!r} no longer exists in {source.where}"
        )
    metadata = {"user_id": original.trace.user_id, "request_ip": original.trace.request_ip}
    given = helpers or HelperValues()
    sink = _Collected()
    engine = Engine(
        pipelines, sink=sink, secrets=given.secrets, env=given.env, fetch_responses=given.responses
    )
    with engine:
        outcome = engine.execute_trigger(trigger, payload, metadata, replay_of=original.trace.id)
    record = next((r for r in sink.records if r.trace_id == outcome.trace_id), None)
    if record is None:
        raise ReplayError(
            f"the replay ran (allowed={outcome.allowed}) but the engine delivered no trace: "
            f"{engine.delivery_error or 'no reason given'}"
        )
    rows = _with_durations(record_to_rows(record))
    hashes = {script_id: script.sha256 for script_id, script in pipelines.scripts.items()}
    if original.trace.source == "auther":
        _redact_original(original, Redactor(pipelines.redaction, given.secrets.values()))
    scripts = script_diffs(repo, original, pipelines)
    diff = diff_traces(original, rows, hashes, source.changed, scripts)
    return Replay(diff, rows, source.where)


def _redact_original(original: TraceWithSpans, redactor: Redactor) -> None:
    """Redact, in place, what the diff shows of a trace auther stored as its scripts gave it:
    secret-named keys of its result, and wherever they appear, the values those keys and the
    input's held, the helpers' secrets and secret shapes, as the replay's side is redacted."""
    trace = original.trace
    scrub = redactor.for_trace()
    scrub.redact_keys(copy.deepcopy(trace.context_snapshot or {}))
    if trace.result_data is not None:
        scrub.redact_keys(trace.result_data)
        trace.result_data = scrub.mask(trace.result_data)
    rows: list[TraceRow | SpanRow] = [trace, *original.spans]
    for row in rows:
        if row.status_message:
            row.status_message = scrub.text(row.status_message)


def keep_replay(repo: Repository, replay: Replay) -> None:
    """Store a replay that ran (marked as one by its `replay_of`: it is not counted as traffic);
    refused on a store that is another application's (auther's), where nothing is written."""
    if not stores_replays(repo):
        raise ReplayError(
            f"{repo.url}: replays are not stored in an auther database (it is the "
            "application's); the diff is shown only"
        )
    repo.save_traces([replay.rows])


def stores_replays(repo: Repository) -> bool:
    """Whether replays can be kept in the store: pipetrace's own, not auther's."""
    return repo.flavour == "pipetrace"


def replay_trace(
    repo: Repository, trace_id: str, pipelines_dir: str | Path | None = None
) -> ReplayDiff:
    """Run the trace's trigger again with its stored input, store the new trace, and diff them."""
    replay = run_replay(repo, trace_id, pipelines_dir)
    keep_replay(repo, replay)
    return replay.diff


def _with_durations(rows: TraceWithSpans) -> TraceWithSpans:
    """The rows with the durations the store would derive from their times, for the diff."""
    timed: list[TraceRow | SpanRow] = [rows.trace, *rows.spans]
    for row in timed:
        if row.duration_ms is None and row.ended_at is not None:
            row.duration_ms = (row.ended_at - row.started_at) / NS_PER_MS
    return rows


def diff_traces(
    original: TraceWithSpans,
    replay: TraceWithSpans,
    current_hashes: dict[str, str],
    changed: dict[str, bool | None] | None = None,
    scripts: list[ScriptDiff] | None = None,
) -> ReplayDiff:
    """Compare two runs of one trigger; `current_hashes` are the scripts' sha256 now, compared
    with the hashes the original recorded, unless `changed` says per script whether its source
    changed since (an auther trace records no hash); `scripts` how the changed sources differ
    from the versions that ran."""
    before, after = original.trace, replay.trace
    snapshot = before.context_snapshot or {}
    return ReplayDiff(
        original_id=before.id,
        replay_id=after.id,
        trigger=before.trigger_event,
        allowed_before=before.allowed,
        allowed_after=after.allowed,
        status_before=before.status,
        status_after=after.status,
        error_before=before.status_message,
        error_after=after.status_message,
        data=_data_changes(before.result_data or {}, after.result_data or {}),
        spans=_span_changes(original.spans, replay.spans, current_hashes, changed or {}),
        redacted=list(snapshot.get("_redacted") or []),
        scripts=scripts or [],
    )


def _data_changes(before: dict[str, Any], after: dict[str, Any]) -> list[DataChange]:
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        if old == new:
            continue
        changes.append(
            DataChange(
                key,
                None if old is _MISSING else old,
                None if new is _MISSING else new,
                added=old is _MISSING,
                removed=new is _MISSING,
            )
        )
    return changes


def _by_script(spans: list[SpanRow]) -> dict[str, SpanRow]:
    """Each script's own span (not the custom child spans it opened, which share its id)."""
    found: dict[str, SpanRow] = {}
    for span in spans:
        if span.script_id and not span.attributes.get("custom"):
            found.setdefault(span.script_id, span)
    return found


def _span_changes(
    before: list[SpanRow],
    after: list[SpanRow],
    current_hashes: dict[str, str],
    changed: dict[str, bool | None],
) -> list[SpanChange]:
    old, new = _by_script(before), _by_script(after)
    order = [*old, *(s for s in new if s not in old)]
    changes = []
    for script_id in order:
        a, b = old.get(script_id), new.get(script_id)
        if a is None:
            change = "added"
        elif b is None:
            change = "removed"
        elif (a.status, a.status_message) != (b.status, b.status_message):
            change = "changed"
        else:
            change = "same"
        original_hash = a.attributes.get("script.sha256") if a else None
        current = current_hashes.get(script_id)
        if script_id in changed:
            source_changed = changed[script_id]
        elif original_hash is None or current is None:
            source_changed = None
        else:
            source_changed = original_hash != current
        span = a if a is not None else b
        name = span.name if span is not None and span.name != script_id else None
        changes.append(
            SpanChange(
                script_id=script_id,
                change=change,
                status_before=a.status if a else None,
                status_after=b.status if b else None,
                message_before=a.status_message if a else None,
                message_after=b.status_message if b else None,
                duration_before_ms=a.duration_ms if a else None,
                duration_after_ms=b.duration_ms if b else None,
                source_changed=source_changed,
                name=name,
            )
        )
    return changes
