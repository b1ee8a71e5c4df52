"""Pipelines built from plans and script sources a host keeps elsewhere (auther keeps them in
its database: pipeline_execution_plan and pipeline_scripts), checked under the original's
limits and run with its semantics: every script fails open, and a script the plan names but
the host lacks is skipped."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipetrace.engine.errors import PipelineError
from pipetrace.engine.limits import Limits
from pipetrace.engine.manifest import Pipelines, Script, Trigger
from pipetrace.engine.sandbox import syntax_errors

ORIGINAL_LIMITS = Limits(max_custom_spans=100, max_custom_span_depth=2)
"""The original's layer limits (10 layers of at most 5 scripts, as ours) and its custom span
limits (100 spans, 2 deep); the sandbox's other limits are pipetrace's (README, Engine
semantics)."""
MAX_SCRIPT_CHARS = 5120
"""auther's MAX_SCRIPT_SIZE, counted as JavaScript counts a string's length (UTF-16 units)."""
SKIPPED = ("skipped", "Script not found")
TOO_LARGE = ("error", "Script size limit exceeded")
MISSING_NAME = "Unknown"


@dataclass(frozen=True, slots=True)
class GivenScript:
    """One script as the host keeps it: its id, the name its span takes, and its Lua source."""

    id: str
    name: str
    source: str


def given_pipelines(
    plans: Mapping[str, Sequence[Sequence[str]]],
    scripts: Mapping[str, GivenScript],
    origin: str,
    limits: Limits = ORIGINAL_LIMITS,
) -> Pipelines:
    """Pipelines whose triggers run `plans` (layers of script ids) over `scripts`; `origin`
    names where they came from in errors. A plan over the layer limits is refused in one line
    (the original blocks every request of that trigger); a script too large or that Lua cannot
    compile fails, open, at each run, as there."""
    verdicts = {
        sid: TOO_LARGE
        for sid, given in scripts.items()
        if len(given.source.encode("utf-16-le")) // 2 > MAX_SCRIPT_CHARS
    }
    errors = syntax_errors({sid: s.source for sid, s in scripts.items() if sid not in verdicts})
    for sid, (line, message) in errors.items():
        verdicts[sid] = ("error", f"{sid}.lua:{line}: {message}")
    triggers: dict[str, Trigger] = {}
    planned: dict[str, Script] = {}
    for trigger, layers in plans.items():
        _check_layers(trigger, layers, origin, limits)
        built: list[tuple[Script, ...]] = []
        seen: set[str] = set()
        for layer_index, layer in enumerate(layers):
            row = []
            for parallel_index, script_id in enumerate(layer):
                if script_id in seen:
                    raise PipelineError(
                        f"{origin}: the plan of {trigger!r} names script {script_id!r} more "
                        "than once; pipetrace runs a script once a trigger"
                    )
                seen.add(script_id)
                script = _script(
                    script_id, trigger, scripts.get(script_id), verdicts.get(script_id),
                    limits, (layer_index, parallel_index),
                )  # fmt: skip
                planned.setdefault(script_id, script)
                row.append(script)
            built.append(tuple(row))
        triggers[trigger] = Trigger(trigger, "blocking", "open", tuple(built))
    digest = hashlib.sha256(origin.encode())
    for script_id in sorted(planned):
        digest.update(f"\0{script_id}\0{planned[script_id].sha256}".encode())
    return Pipelines(Path(origin), triggers, planned, limits, digest.hexdigest()[:16])


def _check_layers(
    trigger: str, layers: Sequence[Sequence[str]], origin: str, limits: Limits
) -> None:
    """Refuse a plan over the layer limits, saying what the original does with it."""
    if len(layers) > limits.max_layers:
        raise PipelineError(
            f"{origin}: the plan of {trigger!r} has {len(layers)} layers (max "
            f"{limits.max_layers}); auther blocks every request of it ('Pipeline exceeds max "
            "chain depth')"
        )
    for number, layer in enumerate(layers, start=1):
        if len(layer) > limits.max_scripts_per_layer:
            raise PipelineError(
                f"{origin}: layer {number} of {trigger!r} has {len(layer)} scripts (max "
                f"{limits.max_scripts_per_layer}); auther blocks every request of it ('Layer "
                f"{number} exceeds max parallel nodes')"
            )


def _script(
    script_id: str,
    trigger: str,
    given: GivenScript | None,
    verdict: tuple[str, str] | None,
    limits: Limits,
    place: tuple[int, int],
) -> Script:
    """One planned script: its source when it can run, else the verdict recorded without
    running it (skipped when the host lacks it, as the original does; an error otherwise)."""
    if given is None:
        verdict = SKIPPED
    source = given.source if given is not None and verdict is None else ""
    return Script(
        id=script_id,
        trigger=trigger,
        file=f"{script_id}.lua",
        source=source,
        sha256=hashlib.sha256((given.source if given else "").encode()).hexdigest(),
        depends_on=(),
        failure="open",
        instruction_budget=limits.instruction_budget,
        deadline_ms=limits.deadline_ms,
        layer_index=place[0],
        parallel_index=place[1],
        seed=zlib.crc32(script_id.encode()),
        name=given.name if given is not None else MISSING_NAME,
        verdict=verdict,
    )
