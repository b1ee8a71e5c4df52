"""The tracing helpers run the same way whether a trigger is traced or not (only a traced run
hands what they recorded to the host), so a script sees the same values and errors either way."""

from __future__ import annotations

from pipetrace.engine import Engine

MANIFEST = """
[triggers.before_signup]
mode = "blocking"

[[scripts]]
id = "check"
trigger = "before_signup"
file = "check.lua"
"""

SCRIPT = """
local seen = {}
local function try(...)
  local ok, err = pcall(...)
  seen[#seen + 1] = tostring(ok) .. " " .. (type(err) == "table" and "a table" or tostring(err))
end
seen[#seen + 1] = helpers.trace("plain", function(a, b) return a + b end, 2, 3)
seen[#seen + 1] = helpers.trace("attributed", {k = "v"}, function() return "in" end)
seen[#seen + 1] = select("#", helpers.trace("many", function() return 1, nil, 3 end))
try(helpers.trace, "fails", function() error("boom") end)
try(function() local v = helpers.trace("fails up", function() error("up", 2) end) return v end)
try(helpers.trace, "not a table", {}, function() error({}) end)
try(helpers.trace, 1, function() end)
try(helpers.trace, "no fn")
try(helpers.metrics.count, "m", "x")
try(helpers.metrics.gauge, "g", 1, 5)
seen[#seen + 1] = tostring((helpers.log({})))
seen[#seen + 1] = tostring((helpers.metrics.count("c")))
print("printed", {})
return {data = {seen = seen}}
"""


def test_helpers_give_a_script_the_same_answers_traced_or_not(make_engine, sink) -> None:
    traced = make_engine({"check.lua": SCRIPT}, MANIFEST)
    untraced: Engine = make_engine({"check.lua": SCRIPT}, MANIFEST, sink=None)
    got = untraced.execute_trigger("before_signup", {})
    want = traced.execute_trigger("before_signup", {})
    assert (got.allowed, got.error, got.data) == (want.allowed, want.error, want.data)
    assert got.data["seen"][:3] == [5, "in", 3]
    [trace] = sink.after(traced)
    assert [s.name for s in trace.spans[2:]][:3] == ["plain", "attributed", "many"]
