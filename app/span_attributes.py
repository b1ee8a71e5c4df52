"""The span attributes the engine records that the viewer and the command line both read."""

from __future__ import annotations

from pipetrace.store import SpanRow

LUA_KEYS = ("lua.error", "lua.line", "lua.file")
"""Where a failed script stopped: its error text, line and file."""
OUTPUT_KEY = "output.data"
"""The data a script returned."""


def lua_failure(span: SpanRow) -> str | None:
    """'FILE:LINE: error' for a span whose script failed in Lua, 'FILE: error' where the engine
    learnt no line (a limit hit such as a deadline's), or None when it did not fail there."""
    attrs = span.attributes or {}
    if "lua.error" not in attrs and "lua.line" not in attrs:
        return None
    source = attrs.get("lua.file") or attrs.get("script.file") or span.script_id or "script"
    line = f":{attrs['lua.line']}" if "lua.line" in attrs else ""
    return f"{source}{line}: {attrs.get('lua.error', '')}"
