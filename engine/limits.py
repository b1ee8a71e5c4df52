"""Configurable execution limits, so operators can tune the sandbox per pipelines folder."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from engine.errors import PipelineError


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied to plans, scripts, data and traces; defaults follow the original system."""

    max_layers: int = 10
    max_scripts_per_layer: int = 5
    instruction_budget: int = 1_000_000
    deadline_ms: int = 50
    max_memory: int = 32 * 1024 * 1024
    max_script_bytes: int = 64 * 1024
    max_input_bytes: int = 64 * 1024
    max_input_depth: int = 16
    max_output_bytes: int = 16 * 1024
    max_output_depth: int = 8
    max_output_values: int = 2_000
    max_custom_spans: int = 32
    max_custom_span_depth: int = 4
    max_attribute_bytes: int = 4 * 1024
    max_snapshot_bytes: int = 16 * 1024
    max_logs: int = 50
    max_pattern_subject: int = 100_000
    max_pattern_bytes: int = 256
    max_pattern_cost: int = 4_000_000
    max_string_rep: int = 1024 * 1024

    def with_overrides(self, table: dict[str, Any], where: str) -> Limits:
        """Return a copy with a TOML table applied, rejecting unknown names and bad values."""
        known = {f.name for f in fields(self)}
        for key, value in table.items():
            if key not in known:
                raise PipelineError(f"{where}: unknown limit '{key}'")
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise PipelineError(f"{where}: limit '{key}' must be a positive integer")
        return replace(self, **table)


SCRIPT_LIMITS = frozenset({"instruction_budget", "deadline_ms"})
