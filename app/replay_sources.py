"""Which pipelines a replay runs: a folder the operator names, the plans and scripts the store
keeps itself (auther's database, as they are now), or the bundled folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipetrace.engine import (
    GivenScript,
    Pipelines,
    bundled_pipelines_dir,
    given_pipelines,
    load_pipelines,
)
from pipetrace.errors import PipetraceError
from pipetrace.store import Repository, StoredPipelines, TraceRow

STORED_WHERE = "the store's own plan and scripts, as they are now"


class ReplaySourceError(PipetraceError):
    """Pipelines a trace cannot be replayed through, and why, in one line."""

    title = "Cannot replay"


@dataclass(frozen=True, slots=True)
class ReplaySource:
    """The pipelines to run, where they are (for the output), and per script whether its
    source changed since the trace ran (None: unknown; a folder's scripts are compared by
    their hashes instead)."""

    pipelines: Pipelines
    where: str
    changed: dict[str, bool | None]


def replay_source(repo: Repository, trace: TraceRow, pipelines_dir: Path | None) -> ReplaySource:
    """The pipelines a replay of `trace` runs: `pipelines_dir` when given, else what the store
    keeps itself, else the bundled folder."""
    if pipelines_dir is None:
        stored = repo.stored_pipelines()
        if stored is not None:
            return _stored_source(stored, trace)
    folder = pipelines_dir or bundled_pipelines_dir()
    return ReplaySource(load_pipelines(folder), str(folder), {})


def _stored_source(stored: StoredPipelines, trace: TraceRow) -> ReplaySource:
    """The trace's trigger as the store's plan and scripts run it now; each script changed
    when it was updated after the trace started."""
    trigger = trace.trigger_event
    text = stored.plans.get(trigger)
    if text is None:
        raise ReplaySourceError(
            f"{stored.origin}: no plan for trigger {trigger!r} now (auther allows its requests "
            "without running a script); replay it with --pipelines DIR"
        )
    layers = _layers(text, stored.origin, trigger)
    planned = {script_id for layer in layers for script_id in layer}
    scripts = {
        sid: GivenScript(sid, s.name, s.code) for sid, s in stored.scripts.items() if sid in planned
    }
    changed: dict[str, bool | None] = {}
    for script_id in planned:
        script = stored.scripts.get(script_id)
        updated = None if script is None else script.updated_at
        changed[script_id] = None if updated is None else updated > trace.started_at
    pipelines = given_pipelines({trigger: layers}, scripts, stored.origin)
    return ReplaySource(pipelines, STORED_WHERE, changed)


def _layers(text: str, origin: str, trigger: str) -> list[list[str]]:
    """A node_order value: JSON layers of script ids, or one line saying it is not."""
    try:
        value: Any = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, list) or not all(
        isinstance(layer, list) and all(isinstance(i, str) for i in layer) for layer in value
    ):
        raise ReplaySourceError(
            f"{origin}: the plan of {trigger!r} is not a JSON list of layers of script ids"
        )
    return value
