"""One Lua 5.4 runtime with the sandbox bootstrap and the compiled scripts of a pipeline set."""

from __future__ import annotations

import hashlib
import re
import struct
import time
from collections.abc import Iterable
from importlib import resources
from typing import Any

from lupa import lua54

from pipetrace.engine.host_values import HostValues
from pipetrace.engine.limits import Limits

_LUA = resources.files("pipetrace.engine").joinpath("lua")
_BOOTSTRAP = _LUA.joinpath("sandbox.lua").read_text("utf-8")
_LIBRARY = _LUA.joinpath("library.lua").read_text("utf-8")
# The block the instruction count grows by, which is also the most VM instructions between two
# readings of the clock: a power of two, so every step the hook halves to divides it (see
# sandbox.lua); the largest power of two within a smaller instruction budget.
_COUNT_BLOCK = 8192
_WORDS = struct.Struct(">4q")
_MD5_WORDS = struct.Struct(">2q")
_SYNTAX_AT = re.compile(r"s:(\d+): (.*)", re.DOTALL)


def _deny_attributes(obj: object, name: object, is_setting: bool) -> str:
    """Refuse every Python attribute access from Lua, so host objects cannot be explored."""
    raise AttributeError("attribute access is not allowed in the sandbox")


def _sha256_words(text: str) -> tuple[int, int, int, int]:
    """Hash a string for helpers.hash (Lua has no sha256) as four integers, because pushing a
    string back into a runtime whose memory is full would unwind through lupa's Python call."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return _WORDS.unpack(digest)


def _md5_words(text: str) -> tuple[int, int]:
    """Hash a string for helpers.hash(text, "md5") as two integers, as _sha256_words does."""
    digest = hashlib.md5(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()
    return _MD5_WORDS.unpack(digest)


def _host_error(exc: object) -> str:
    """What a script's failure says when a host function raised `exc`; an interrupt or exit is
    raised again, so Ctrl-C stops the caller instead of ending as a script error."""
    if isinstance(exc, BaseException) and not isinstance(exc, Exception):
        raise exc
    return f"host function failed: {type(exc).__name__}"


def new_runtime(limits: Limits, host: HostValues) -> tuple[Any, Any]:
    """Create a locked-down runtime and return it with the bootstrap's host functions; the
    helpers hand scripts the host's values (secret, env and fetch; see HostValues)."""
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
            "max_values": limits.max_call_values,
            "max_logs": limits.max_logs,
            "max_metrics": limits.max_metrics,
            "max_log_bytes": limits.max_attribute_bytes,
            "max_spans": limits.max_custom_spans,
            "max_span_depth": limits.max_custom_span_depth,
            "max_output_depth": limits.max_output_depth,
            "max_output_bytes": limits.max_output_bytes,
            "max_output_nodes": limits.max_output_values,
            "count_block": _COUNT_BLOCK,
        }
    )
    responses = {
        url: {"status": r.status, "ok": r.ok, "body": r.body} for url, r in host.responses.items()
    }
    functions = lua.execute(
        _BOOTSTRAP,
        time.perf_counter_ns,
        _sha256_words,
        caps,
        _host_error,
        _md5_words,
        lua.table_from(host.secrets),
        _LIBRARY,
        lua.table_from(host.env),
        lua.table_from(responses, recursive=True),
    )
    return lua, functions


def syntax_errors(sources: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Compile scripts in a scratch runtime; return the line and Lua's message for each that
    does not parse (line 1 when Lua names none, as for a binary chunk, which starts there)."""
    lua = lua54.LuaRuntime(register_eval=False, register_builtins=False)
    check = lua.eval("function(s) local f, e = load(s, '=s', 't', {}) return f ~= nil, e end")
    errors = {}
    for script_id, source in sources.items():
        ok, err = check(source)
        if not ok:
            found = _SYNTAX_AT.match(str(err))
            errors[script_id] = (int(found[1]), found[2]) if found else (1, str(err))
    return errors


class Sandbox:
    """A runtime plus compiled scripts and the plans of the triggers that run them; not
    thread-safe, so the engine keeps one per thread."""

    def __init__(
        self,
        limits: Limits,
        scripts: Iterable[Any],
        host_values: HostValues | None = None,
        triggers: Iterable[Any] = (),
    ) -> None:
        self.lua, host = new_runtime(limits, host_values or HostValues())
        self.begin_run = host.begin
        self.run_trigger = host.run_trigger
        self.index: dict[str, int] = {}
        for index, script in enumerate(scripts, start=1):
            block = 1 << (min(script.instruction_budget, _COUNT_BLOCK).bit_length() - 1)
            err = host.add_script(
                index, script.source, script.file, script.id, script.seed,
                script.instruction_budget, block, script.deadline_ms,
            )  # fmt: skip
            if err:
                raise ValueError(str(err))
            self.index[script.id] = index
        for trigger in triggers:
            plan = [
                [
                    (0, s.id, s.failure == "closed", *s.verdict)
                    if s.verdict is not None
                    else (self.index[s.id], s.id, s.failure == "closed")
                    for s in layer
                ]
                for layer in trigger.layers
            ]
            host.add_plan(trigger.name, self.lua.table_from(plan, recursive=True))
        self.max_memory = limits.max_memory
        self.lua.set_max_memory(self.max_memory)

    def begin(
        self, input_data: dict[str, Any], input_bytes: int, seed: int, now: int, tracing: bool
    ) -> None:
        """Start a trigger run with a validated input as the context of every script, converting
        it without the memory cap: lupa builds the table outside a protected call, where running
        out of memory aborts the process, and measure_input has already bounded its size (given
        as input_bytes, which the hook counts as data the scripts hold). run_trigger then runs
        the trigger's layers in one call (see sandbox.lua)."""
        lua = self.lua
        lua.set_max_memory(0)
        try:
            table = lua.table_from(input_data, recursive=True)
        finally:
            lua.set_max_memory(self.max_memory)
        self.begin_run(table, seed, now, tracing, input_bytes)
