"""Where a failed script stopped, as the viewer's span pane and `pipetrace show` both say it."""

from __future__ import annotations

from typing import Any

from pipetrace.app.span_attributes import lua_failure
from pipetrace.store import SpanRow


def span(**attributes: Any) -> SpanRow:
    return SpanRow("t" * 32, "s" * 16, "velocity_check", "error", 0, script_id="velocity_check",
                   attributes=attributes)  # fmt: skip


def test_a_lua_error_names_its_file_and_line() -> None:
    failed = span(**{"lua.file": "geo.lua", "lua.line": 14, "lua.error": "attempt to index nil"})
    assert lua_failure(failed) == "geo.lua:14: attempt to index nil"


def test_a_limit_hit_names_the_script_file_and_no_unknown_line() -> None:
    """The engine records no Lua file or line for a limit hit, only the script's file."""
    hit = span(**{"script.file": "velocity_check.lua", "lua.error": "deadline exceeded (50 ms)"})
    assert lua_failure(hit) == "velocity_check.lua: deadline exceeded (50 ms)"
    assert lua_failure(span(**{"lua.error": "x"})) == "velocity_check: x"
    assert lua_failure(span(**{"script.file": "v.lua"})) is None
