"""One Lua 5.4 runtime with the sandbox bootstrap and the compiled scripts of a pipeline set."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lupa import lua54

from engine.limits import Limits

_BOOTSTRAP = resources.files("engine").joinpath("lua/sandbox.lua").read_text("utf-8")
_HOOK_STEP = 10_000


def _deny_attributes(obj: object, name: object, is_setting: bool) -> str:
    """Refuse every Python attribute access from Lua, so host objects cannot be explored."""
    raise AttributeError("attribute access is not allowed in the sandbox")


def _sha256_hex(text: str) -> str:
    """Hash a string for helpers.hash (runs in the host because Lua has no sha256)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def new_runtime(limits: Limits) -> tuple[Any, Any]:
    """Create a locked-down runtime and return it with the bootstrap's host functions."""
    lua = lua54.LuaRuntime(
        register_eval=False,
        register_builtins=False,
        unpack_returned_tuples=True,
        attribute_filter=_deny_attributes,
        max_memory=0,
    )
    caps = lua.table_from(
        {
            "max_subject": limits.max_pattern_subject,
            "max_pattern": limits.max_pattern_bytes,
            "pattern_cost": limits.max_pattern_cost,
            "max_rep": limits.max_string_rep,
            "max_logs": limits.max_logs,
            "max_log_bytes": limits.max_attribute_bytes,
            "max_spans": limits.max_custom_spans,
            "max_span_depth": limits.max_custom_span_depth,
            "max_output_depth": limits.max_output_depth,
            "max_output_bytes": limits.max_output_bytes,
            "max_output_nodes": limits.max_output_values,
        }
    )
    host = lua.execute(_BOOTSTRAP, time.perf_counter_ns, _sha256_hex, caps)
    return lua, host


def syntax_errors(sources: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Compile scripts in a scratch runtime; return Lua's message for each that does not parse."""
    lua = lua54.LuaRuntime(register_eval=False, register_builtins=False)
    check = lua.eval("function(s, n) local f, e = load(s, n, 't', {}) return f ~= nil, e end")
    errors = {}
    for script_id, (source, name) in sources.items():
        ok, err = check(source, "=" + name)
        if not ok:
            errors[script_id] = str(err)
    return errors


@dataclass(slots=True)
class ScriptRun:
    """What one script execution produced, still partly as Lua values."""

    status: str  # success | blocked | error | killed
    allowed: bool
    message: str | None
    data: Any
    logs: Any
    spans: Any
    dropped_spans: int
    dropped_logs: int
    instructions: int


class Sandbox:
    """A runtime plus compiled scripts; not thread-safe, so the engine keeps one per thread."""

    def __init__(self, limits: Limits, sources: dict[str, tuple[str, str]]) -> None:
        self._limits = limits
        self.lua, host = new_runtime(limits)
        self._run = host.run
        self._commit = host.commit_layer
        self._reset = host.reset_layer
        self._new_context = host.new_context
        self._chunks = {}
        for script_id, (source, name) in sources.items():
            chunk, err = host.compile(source, name)
            if not chunk:
                raise ValueError(str(err))
            self._chunks[script_id] = chunk
        self.lua.set_max_memory(limits.max_memory)

    def context(self, input_data: dict[str, Any]) -> Any:
        """Convert a validated trigger input into the Lua context table of one trigger run."""
        self._reset()
        return self._new_context(self.lua.table_from(input_data, recursive=True))

    def run(
        self,
        script_id: str,
        ctx: Any,
        seed: tuple[int, int],
        now: int,
        budget: int,
        deadline_ns: int,
        deadline_ms: int,
    ) -> ScriptRun:
        """Execute one compiled script against a private copy of the context."""
        result = self._run(
            self._chunks[script_id],
            ctx,
            script_id,
            seed[0],
            seed[1],
            now,
            budget,
            min(budget, _HOOK_STEP),
            deadline_ns,
            deadline_ms,
        )
        run = ScriptRun(*result)
        if run.status == "killed":
            self.lua.gccollect()
        return run

    def commit_layer(self, ctx: Any) -> None:
        """Expose the finished layer's data to later layers as outputs and prev."""
        self._commit(ctx)
