"""Recording never changes the decision: a script that logs, traces and counts metrics meets
its instruction budget and its memory cap at the same limit whether its trigger is traced or
not, since backtests replay traced traffic untraced and compare the decisions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipetrace.engine import Engine
from pipetrace.engine.engine import Outcome

MANIFEST = """
[triggers.before_signup]
mode = "blocking"

[limits]
{limit} = {value}
deadline_ms = 60000

[[scripts]]
id = "busy"
trigger = "before_signup"
file = "busy.lua"
failure = "closed"
"""

SCRIPT = """
local kept = {}
local text = ("x"):rep(12000)
for i = 1, 300 do
  helpers.log("step " .. i)
  kept[i] = helpers.trace("add", function(a, b) return a .. b end, text, i)
  helpers.trace("attributed", {i = i}, function() return i end)
  helpers.metrics.count("steps", 1, {at = i})
  helpers.metrics.gauge("last", i)
end
return {data = {n = #kept}}
"""

KILLS = ("instruction budget exceeded", "memory limit exceeded")

Build = Callable[..., Engine]


def _outcome(make_engine: Build, limit: str, value: int, traced: bool) -> Outcome:
    """The decision of a fresh engine whose `limit` is value."""
    manifest = MANIFEST.format(limit=limit, value=value)
    engine = make_engine({"busy.lua": SCRIPT}, manifest, **({} if traced else {"sink": None}))
    return engine.execute_trigger("before_signup", {})


def _killed(outcome: Outcome) -> bool:
    """Whether a limit killed the script (it fails closed, so the trigger blocks)."""
    return not outcome.allowed and any(kill in (outcome.error or "") for kill in KILLS)


def _smallest_surviving(make_engine: Build, limit: str, low: int, high: int) -> int:
    """The smallest value of `limit` at which a traced run's script is not killed."""
    assert _killed(_outcome(make_engine, limit, low, traced=True))
    assert not _killed(_outcome(make_engine, limit, high, traced=True))
    while high - low > 1:
        middle = (low + high) // 2
        if _killed(_outcome(make_engine, limit, middle, traced=True)):
            low = middle
        else:
            high = middle
    return high


@pytest.mark.parametrize(
    ("limit", "low", "high"),
    [("instruction_budget", 1, 10_000_000), ("max_memory", 3 << 20, 64 << 20)],
)
def test_an_untraced_script_meets_its_limits_exactly_where_a_traced_one_does(
    make_engine: Build, limit: str, low: int, high: int
) -> None:
    edge = _smallest_surviving(make_engine, limit, low, high)
    assert _killed(_outcome(make_engine, limit, edge - 1, traced=False))
    untraced = _outcome(make_engine, limit, edge, traced=False)
    assert (untraced.allowed, untraced.data) == (True, {"n": 300})


@pytest.mark.xfail(
    strict=True,
    reason="a traced trigger's facts are kept in Lua memory under the cap after its scripts ran",
)
def test_recording_a_trigger_does_not_fail_it_at_the_memory_edge(make_engine: Build) -> None:
    edge = _smallest_surviving(make_engine, "max_memory", 3 << 20, 64 << 20)
    for value in range(edge, edge + (64 << 10), 1024):
        traced = _outcome(make_engine, "max_memory", value, traced=True)
        assert (traced.allowed, traced.error, traced.data) == (True, None, {"n": 300}), value
