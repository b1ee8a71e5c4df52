"""Escape and abuse probes, each in its own process with a timeout: all end as contained spans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lupa import lua54

from pipetrace.engine.limits import Limits
from pipetrace.engine.sandbox import Sandbox
from pipetrace.engine.values import measure_input

RUNNER = Path(__file__).with_name("probe_runner.py")
ROOT = Path(__file__).resolve().parents[2]
# Probes that must hit the instruction budget or the memory cap, or must finish, get a deadline a
# loaded machine cannot reach first: filling 32 MiB takes up to 90 ms in a fresh process, fifty
# memory bombs 0.1 to 0.6 s, and the deadline is now checked while memory grows.
SLOW_OK = "[limits]\ndeadline_ms = 10000\n"
# A script that keeps nearly all of a small memory cap filled, for what it does next; its logs
# make the host side need memory after it (a bigger result buffer than the check script's).
FILL_MEMORY = (
    "for i = 1, 50 do helpers.log('line ' .. i) end\n"
    "local keep = {}\n"
    "pcall(function() local i = 0 while true do i = i + 1 keep[i] = {i} end end)\n"
)
SMALL_MEMORY = "[limits]\nmax_memory = 4194304\ndeadline_ms = 10000\n"

NIL_GLOBALS = """
return {data = {
  os = type(os), io = type(io), python = type(python), debug = type(debug),
  package = type(package), require = type(require), load = type(load),
  loadstring = type(loadstring), dofile = type(dofile), loadfile = type(loadfile),
  collectgarbage = type(collectgarbage), dump = type(string.dump), mt = getmetatable(""),
}}
"""

# name -> (lua source, expected span status, expected message fragment or None, limits toml)
PROBES = {
    "globals are absent": (NIL_GLOBALS, "success", None, ""),
    "os.execute": ('os.execute("touch /tmp/pwned")', "error", "global 'os'", ""),
    "io.open": ('io.open("/etc/passwd")', "error", "global 'io'", ""),
    "python.eval": ('return python.eval("1")', "error", "global 'python'", ""),
    "python builtins": ("return python.builtins.open", "error", "global 'python'", ""),
    "helper attributes": ("return helpers.hash.__globals__", "error", "index a function", ""),
    "require": ('require("os")', "error", "global 'require'", ""),
    "package.loadlib": ('package.loadlib("libc.so.6", "system")', "error", "global 'package'", ""),
    "binary chunk": ('load("\\27LuaT\\0")()', "error", "global 'load'", ""),
    "string.dump": ("string.dump(function() end)", "error", "field 'dump'", ""),
    "debug.sethook removal": ("debug.sethook() while true do end", "error", "global 'debug'", ""),
    "debug via string metatable": (
        'getmetatable("").__index.dump = 1',
        "error",
        "index a boolean",
        "",
    ),
    "busy loop": ("while true do end", "error", "instruction budget exceeded (1000000)", SLOW_OK),
    "loop in pcall": (
        "while true do pcall(function() while true do end end) end",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "swallowing the budget error": (
        "for i = 1, 1e12 do pcall(function() for j = 1, 9999 do end end) end\n"
        "return {data = {escaped = true}}",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "loop in coroutine.wrap": (
        "coroutine.wrap(function() while true do end end)()",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "loop in coroutine.create": (
        "local co = coroutine.create(function() while true do end end)\n"
        "while true do coroutine.resume(co) end",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "xpcall handler loop": (
        "xpcall(function() error('x') end, function() while true do end end)\nwhile true do end",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "budget kill inside an xpcall handler": (
        "xpcall(function() while true do end end, function() while true do end end)\n"
        "while true do end",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "close handler after a kill": (
        "local co = coroutine.create(function()\n"
        "  local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
        "  while true do end\n"
        "end)\n"
        "coroutine.resume(co)\ncoroutine.close(co)\nwhile true do end",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "deadline": (
        "while true do end",
        "error",
        "deadline exceeded (20 ms)",
        "[limits]\ninstruction_budget = 2000000000\ndeadline_ms = 20\n",
    ),
    "string metatable tampering": (
        'local mt = getmetatable("")\nmt.__index = {upper = function() return "pwned" end}',
        "error",
        "index a boolean",
        "",
    ),
    "string table tampering": (
        'string.upper = function() return "pwned" end',
        "error",
        "read-only",
        "",
    ),
    "rawset on library": (
        'rawset(string, "upper", function() return "pwned" end)',
        "error",
        "read-only",
        "",
    ),
    "helpers tampering": ("helpers.log = nil", "error", "read-only", ""),
    "global leak": ("leaked = true\n_G.leaked = true\nreturn nil", "success", None, ""),
    "randomseed leak": (
        "math.randomseed(42)\nreturn {data = {r = math.random(1, 10)}}",
        "success",
        None,
        "",
    ),
    "__gc finalizer loop": (
        "setmetatable({}, {__gc = function() while true do end end})",
        "error",
        "__gc metamethods are not allowed",
        "",
    ),
    "__gc added later": (
        "local mt = {}\nlocal t = setmetatable({}, mt)\n"
        "mt.__gc = function() while true do end end\nt = nil\nreturn nil",
        "success",
        None,
        "",
    ),
    "memory bomb": (
        'local s = "x"\nfor i = 1, 40 do s = s .. s end',
        "error",
        "memory limit exceeded",
        SLOW_OK,
    ),
    "swallowed memory bomb": (
        'for i = 1, 50 do pcall(function() local s = "x" for j = 1, 40 do s = s .. s end end) end\n'
        "return {data = {survived = true}}",
        "success",
        None,
        SLOW_OK,
    ),
    "string.rep bomb": ('return string.rep("x", 1e10)', "error", "string.rep result too large", ""),
    "gsub amplification": (
        'local s = string.rep("x", 90000)\ns = s:gsub("", string.rep("y", 1000))',
        "error",
        "memory limit exceeded",
        SLOW_OK,
    ),
    "deep recursion": ("local function f() return 1 + f() end\nreturn f()", "error", None, ""),
    "C stack recursion": (
        "local function f() return pcall(f) end\nf()\nwhile true do end",
        "error",
        "instruction budget exceeded",
        SLOW_OK,
    ),
    "catastrophic pattern": (
        'return {data = {m = string.find(string.rep("a", 3000), ".-.-.-b")}}',
        "error",
        "pattern too complex",
        "",
    ),
    "catastrophic pattern as method": (
        'return {data = {m = ("a"):rep(5000):match("(.-)(.-)b")}}',
        "error",
        "pattern too complex",
        "",
    ),
    "catastrophic pattern in helpers.matches": (
        'return {data = {m = helpers.matches(("a"):rep(5000), ".-.-.-b")}}',
        "error",
        "pattern too complex",
        "",
    ),
    "function in result": (
        "return {data = {f = print}}",
        "error",
        "output contains a function value",
        "",
    ),
    "coroutine in result": (
        "return {data = {c = coroutine.create(print)}}",
        "error",
        "output contains a thread value",
        "",
    ),
    "non-table result": ("return print", "error", "must return a table or nil, got function", ""),
    "cyclic result": (
        "local t = {}\nt.self = t\nreturn {data = t}",
        "error",
        "output contains a cyclic table",
        "",
    ),
    "allowed as a string": (
        'return {allowed = "false"}',
        "error",
        "result field 'allowed' must be a boolean, got string",
        "",
    ),
    "result with a looping __index": (
        "return setmetatable({}, {__index = function() while true do end end})",
        "success",
        None,
        "",
    ),
    "error object with a looping __tostring": (
        "error(setmetatable({}, {__tostring = function() while true do end end}))",
        "error",
        "error object is a table",
        "",
    ),
    "yield at top level": ("coroutine.yield(1)", "error", "yielded outside a coroutine", ""),
    "non-UTF-8 output": ('return {data = {s = "\\255\\254"}}', "error", "not UTF-8", ""),
    "helpers.hash with memory full": (
        FILL_MEMORY + "local errors = {}\n"
        "for i = 1, 50 do\n"
        "  local ok, err = pcall(helpers.hash, 'abc' .. i)\n"
        "  if not ok then errors[#errors + 1] = tostring(err) end\n"
        "end\n"
        "keep = nil\nreturn {data = {errors = #errors}}",
        "error",
        "memory limit exceeded",
        SMALL_MEMORY,
    ),
    "an error with memory full": (
        FILL_MEMORY + "error('boom')",
        "error",
        "boom",
        SMALL_MEMORY,
    ),
    "a result with memory full": (
        # Forty fields need far more than the few bytes a fill leaves, whatever the layout.
        FILL_MEMORY
        + "return {data = {n = #keep, "
        + ", ".join(f"f{i} = {i}" for i in range(40))
        + "}}",
        "error",
        "memory limit exceeded",
        SMALL_MEMORY,
    ),
}


def run_probe(tmp_path: Path, source: str, limits: str, given: object = None) -> dict:
    """Run the probe runner in its own process and return what it printed."""
    probe = tmp_path / "probe.lua"
    probe.write_text(source)
    args = [sys.executable, str(RUNNER), str(probe), limits]
    if given is not None:
        (tmp_path / "input.json").write_text(json.dumps(given))
        args.append(str(tmp_path / "input.json"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=30, cwd=ROOT, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(PROBES))
def test_probe_is_contained(tmp_path, name):
    source, status, fragment, limits = PROBES[name]
    result = run_probe(tmp_path, source, limits)
    assert result["status"] == status, result
    if fragment:
        assert fragment in (result["message"] or ""), result
    assert result["allowed"] is True
    assert result["after_allowed"] is True
    assert result["after"] == result["before"], "state leaked into the next trigger"
    assert result["after"]["upper"] == "ABC" and result["after"]["leak"] == "nil"
    if name == "globals are absent":
        assert set(result["data"].values()) == {"nil", False}


def test_the_smallest_max_memory_takes_the_largest_inputs_one_after_another(tmp_path):
    limits = Limits()
    # A list of empty lists costs Lua the most memory per input byte (3 bytes each in JSON).
    given = {"l": [[] for _ in range(limits.max_input_bytes // 3 - 10)]}
    assert measure_input(given, limits.max_input_bytes, limits.max_input_depth)
    toml = f"[limits]\nmax_memory = {limits.min_memory()}\n"
    result = run_probe(tmp_path, "return {data = {n = #context.l}}", toml, given)
    assert result["status"] == "success", result
    assert result["data"] == {"n": len(given["l"])}
    assert result["after_allowed"] is True and result["after"] == result["before"]


def test_attribute_filter_denies_host_objects():
    sandbox = Sandbox(Limits(), {})
    peek = sandbox.lua.eval("function(o) return o.__class__ end")
    with pytest.raises(AttributeError):
        peek(object())
    assert isinstance(sandbox.lua, lua54.LuaRuntime)
