"""Configurable execution limits, so operators can tune the sandbox per pipelines folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from pipetrace.engine.errors import PipelineError


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

    def with_overrides(self, table: dict[str, Any], where: Callable[[str], str]) -> Limits:
        """Return a copy with a TOML table applied, rejecting unknown names and values that
        would break the engine at run time instead of at load; where(key) names the place of a
        key in messages."""
        known = {f.name for f in fields(self)}
        for key, value in table.items():
            if key not in known:
                raise PipelineError(f"{where(key)}: unknown limit {key!r}")
            top = MAX_LIMITS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise PipelineError(
                    f"{where(key)}: limit '{key}' must be an integer from 1 to {top}, got {value!r}"
                )
        limits = replace(self, **table)
        floor = limits.min_memory()
        if limits.max_memory < floor:
            raise PipelineError(
                f"{where('max_memory')}: limit 'max_memory' = {limits.max_memory} is too small; "
                f"the sandbox needs at least {floor} bytes ({_BASE_MEMORY} plus "
                f"{_MEMORY_PER_INPUT_BYTE} per byte of max_input_bytes)"
            )
        return limits

    def min_memory(self) -> int:
        """The smallest max_memory that holds the sandbox and a largest input, so that a run
        can start at all."""
        return _BASE_MEMORY + _MEMORY_PER_INPUT_BYTE * self.max_input_bytes


SCRIPT_LIMITS = frozenset({"instruction_budget", "deadline_ms"})

# Lua memory besides the input: the bootstrap takes about 55 KiB, the bundled scripts 53 KiB
# more, the pattern cache up to about 200 KiB; the rest is room for scripts to run.
_BASE_MEMORY = 1024 * 1024
# A converted input takes up to about 27 bytes of Lua memory per byte of its estimated JSON size
# (a list of empty lists, measured with lupa 2.8 and Lua 5.4).
_MEMORY_PER_INPUT_BYTE = 32
_MIB = 1024 * 1024

# Upper bounds: values must fit the Lua integers and nanosecond sums they end up in, and depths
# the host's recursion; beyond these a setting is a typo rather than a policy.
MAX_LIMITS = {
    "max_layers": 1_000,
    "max_scripts_per_layer": 1_000,
    "instruction_budget": 10**12,
    "deadline_ms": 3_600_000,
    "max_memory": 1 << 40,
    "max_script_bytes": 16 * _MIB,
    "max_input_bytes": 16 * _MIB,
    "max_input_depth": 100,
    "max_output_bytes": 16 * _MIB,
    # One below the store's JSON depth: outputs are stored one level down, in "output.data".
    "max_output_depth": 99,
    "max_output_values": 1_000_000,
    "max_custom_spans": 10_000,
    "max_custom_span_depth": 100,
    "max_attribute_bytes": 16 * _MIB,
    "max_snapshot_bytes": 16 * _MIB,
    "max_logs": 10_000,
    "max_pattern_subject": 1 << 30,
    "max_pattern_bytes": 1 << 20,
    "max_pattern_cost": 10**15,
    "max_string_rep": 1 << 30,
}
