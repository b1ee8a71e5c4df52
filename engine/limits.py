"""Configurable execution limits, so operators can tune the sandbox per pipelines folder."""

from __future__ import annotations

from typing import Annotated, get_args

import msgspec
from msgspec import Meta

_MIB = 1024 * 1024
# Lua memory besides the input: the bootstrap takes about 55 KiB, the bundled scripts 53 KiB
# more, the pattern cache up to about 200 KiB; the rest is room for scripts to run.
_BASE_MEMORY = 1024 * 1024
# A converted input takes up to about 27 bytes of Lua memory per byte of its estimated JSON size
# (a list of empty lists, measured with lupa 2.8 and Lua 5.4).
_MEMORY_PER_INPUT_BYTE = 32

# Every limit is at least 1 and at most a bound: values must fit the Lua integers and nanosecond
# sums they end up in, and depths the host's recursion; beyond these a setting is a typo rather
# than a policy.
InstructionBudget = Annotated[int, Meta(ge=1, le=10**12)]
DeadlineMs = Annotated[int, Meta(ge=1, le=3_600_000)]


class Limits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Caps applied to plans, scripts, data and traces (max_layers and max_scripts_per_layer are
    the original system's, the rest pipetrace's own: README, "Engine semantics"); a [limits]
    table converts to one, so a bad setting fails at load rather than at run time."""

    max_layers: Annotated[int, Meta(ge=1, le=1_000)] = 10
    max_scripts_per_layer: Annotated[int, Meta(ge=1, le=1_000)] = 5
    instruction_budget: InstructionBudget = 1_000_000
    deadline_ms: DeadlineMs = 50
    max_memory: Annotated[int, Meta(ge=1, le=1 << 40)] = 32 * _MIB
    max_script_bytes: Annotated[int, Meta(ge=1, le=16 * _MIB)] = 64 * 1024
    max_input_bytes: Annotated[int, Meta(ge=1, le=16 * _MIB)] = 64 * 1024
    max_input_depth: Annotated[int, Meta(ge=1, le=100)] = 16
    max_output_bytes: Annotated[int, Meta(ge=1, le=16 * _MIB)] = 16 * 1024
    # At most one below the store's JSON depth: outputs are stored one level down, in "output.data".
    max_output_depth: Annotated[int, Meta(ge=1, le=99)] = 8
    max_output_values: Annotated[int, Meta(ge=1, le=1_000_000)] = 2_000
    max_custom_spans: Annotated[int, Meta(ge=1, le=10_000)] = 32
    max_custom_span_depth: Annotated[int, Meta(ge=1, le=100)] = 4
    max_attribute_bytes: Annotated[int, Meta(ge=1, le=16 * _MIB)] = 4 * 1024
    max_snapshot_bytes: Annotated[int, Meta(ge=1, le=16 * _MIB)] = 16 * 1024
    max_logs: Annotated[int, Meta(ge=1, le=10_000)] = 50
    max_metrics: Annotated[int, Meta(ge=1, le=10_000)] = 50
    max_pattern_subject: Annotated[int, Meta(ge=1, le=1 << 30)] = 100_000
    max_pattern_bytes: Annotated[int, Meta(ge=1, le=1 << 20)] = 256
    max_pattern_cost: Annotated[int, Meta(ge=1, le=10**15)] = 4_000_000
    max_string_rep: Annotated[int, Meta(ge=1, le=1 << 30)] = 1024 * 1024
    max_call_values: Annotated[int, Meta(ge=1, le=1 << 30)] = 100_000

    def min_memory(self) -> int:
        """The smallest max_memory that holds the sandbox and a largest input, so that a run
        can start at all."""
        return _BASE_MEMORY + _MEMORY_PER_INPUT_BYTE * self.max_input_bytes

    def memory_problem(self) -> str | None:
        """Why max_memory cannot hold a run with these limits, or None when it can."""
        floor = self.min_memory()
        if self.max_memory >= floor:
            return None
        return (
            f"limit 'max_memory' = {self.max_memory} is too small; the sandbox needs at least "
            f"{floor} bytes ({_BASE_MEMORY} plus {_MEMORY_PER_INPUT_BYTE} per byte of "
            "max_input_bytes)"
        )

    def for_script(self, own: ScriptLimits) -> Limits:
        """These limits with the ones a script sets for itself."""
        return msgspec.structs.replace(
            self,
            instruction_budget=own.instruction_budget or self.instruction_budget,
            deadline_ms=own.deadline_ms or self.deadline_ms,
        )


class ScriptLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The limits a [[scripts]] entry may set for itself; the rest hold for every script."""

    instruction_budget: InstructionBudget | None = None
    deadline_ms: DeadlineMs | None = None


MAX_LIMITS: dict[str, int] = {
    field.name: get_args(field.type)[1].le for field in msgspec.structs.fields(Limits)
}
"""The largest value of each limit, as its field's msgspec.Meta says, for messages."""
