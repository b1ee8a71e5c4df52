"""Engine benchmark: tracing overhead (throughput and p99 decision latency) and engine cost
against raw lupa, measured in one run, tracing into the real store for the record, and how far
past its deadline an adversarial script keeps a trigger.

Usage: python bench/engine.py [--quick]
"""

from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

from lupa import lua54

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# engine package: put the repository root there instead. (Not through _common: the recorder
# process re-imports this file with the edited sys.path, where _common is out of reach.)
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from pipetrace.engine import (  # noqa: E402
    Engine,
    OutOfProcess,
    Pipelines,
    TraceRecord,
    bundled_pipelines_dir,
    load_pipelines,
)

# Five scripts in three layers: three checks, geo after the deny list, the scorer last.
MANIFEST = """
[triggers.before_signup]
mode = "blocking"

[[scripts]]
id = "disposable_email"
trigger = "before_signup"
file = "disposable_email.lua"

[[scripts]]
id = "ip_denylist"
trigger = "before_signup"
file = "ip_denylist.lua"

[[scripts]]
id = "velocity_check"
trigger = "before_signup"
file = "velocity_check.lua"

[[scripts]]
id = "geo_rule"
trigger = "before_signup"
file = "geo_rule.lua"
depends_on = ["ip_denylist"]

[[scripts]]
id = "risk_scorer"
trigger = "before_signup"
file = "risk_scorer.lua"
depends_on = ["geo_rule", "disposable_email", "velocity_check"]
"""

INPUT = {
    "email": "ana+news@example.com",
    "ip": "81.2.69.160",
    "country": "XX",
    "attempts_last_hour": 7,
    "password": "hunter2",
    "device": {"os": "linux", "agent": "firefox", "fingerprint": "f3a9c1"},
}
META = {"user_id": "u-123", "request_ip": "81.2.69.160"}

RAW_HELPERS = """
local sha = ...
local logs = {}
return {
  log = function(m) logs[#logs + 1] = m end,
  now = function() return 0 end,
  hash = function(s) return sha(s) end,
  matches = function(s, p) return string.find(s, p) ~= nil end,
  trace = function(name, fn, ...) return fn(...) end,
}
"""

RAW_MERGE = """
function(into, data) for k, v in pairs(data) do into[k] = v end end
"""

ADVERSARY_DEADLINE_MS = 100
ADVERSARY_MANIFEST = """
[triggers.t]
mode = "blocking"
failure = "closed"

[[scripts]]
id = "s"
trigger = "t"
file = "s.lua"

[limits]
deadline_ms = {deadline_ms}
instruction_budget = 1000000000000
"""
# 4 MiB and 8 MiB strings, and an 8 MiB one differing from the second in its last byte.
STRINGS = (
    'local big = ("x"):rep(1 << 20) big = big .. big .. big .. big\n'
    'local huge = big .. big local other = huge:sub(1, -2) .. "y"\n'
)
# Scripts that spend their time where the hook cannot see it: in C library calls, in VM
# instructions that each work through megabytes, or both after a cheap start that lets the
# hook's step grow. Each loops until something stops it.
ADVERSARIES = {
    "a call that ran for minutes": 'string.rep("", 1e15)',
    "1 MiB string.upper calls": 'local s = ("x"):rep(1 << 20) while true do s:upper() end',
    "8 MiB helpers.hash calls": STRINGS + "while true do helpers.hash(huge) end",
    "patterns at the cost limit": 'local s = ("a"):rep(158) while true do s:find(".-.-b") end',
    "100,000-value table.unpack calls": (
        'local t = {} while true do select("#", table.unpack(t, 1, 100000)) end'
    ),
    "a sort with a C comparator": (
        "local t = {} for i = 1, 100000 do t[i] = i % 7 end\n"
        "while true do table.sort(t, rawequal) end"
    ),
    "4 MiB concatenations": STRINGS + "while true do local x = big .. big end",
    "8 MiB comparisons": STRINGS
    + "local n = 0 while true do if huge < other then n = n + 1 end end",
    "a cheap loop, then comparisons": (
        STRINGS
        + "for i = 1, 300000 do end local n = 0 while true do n = n + (huge < other and 1 or 0) end"
    ),
    "arithmetic on a 1 MiB string": (
        'local s = ("1"):rep(1 << 20) while true do local x = s + 0 end'
    ),
    "lookups through 2,000 __index tables": (
        "local t = {} for i = 1, 1999 do t = setmetatable({}, {__index = t}) end\n"
        "while true do local v = t.missing end"
    ),
    "allocations at the memory cap": (
        "local keep = {}\n"
        "pcall(function() local i = 0 while true do i = i + 1 keep[i] = {i} end end)\n"
        "while true do pcall(function() return {} end) end"
    ),
}
# An 8 MiB string: string.upper of it takes 24 MiB at its peak (a buffer and the result), most
# of the 32 MiB memory cap.
EIGHT = 'local s = ("x"):rep(1 << 20) s = s .. s .. s .. s s = s .. s\n'
# Single calls at their limits, or on data near the memory cap: the longest one is the second
# term of the margin.
LONGEST_CALLS = {
    'string.rep("x", 1 << 20)': ("", 'string.rep("x", 1 << 20)'),
    "string.upper of 8 MiB": (EIGHT, "s:upper()"),
    "helpers.hash of 8 MiB": (EIGHT, "helpers.hash(s)"),
    "utf8.len of 8 MiB": (EIGHT, "utf8.len(s)"),
    "a pattern at the cost limit": ('local s = ("a"):rep(158)', 's:find(".-.-b")'),
    "table.unpack of 100,000 values": ("local t = {}", 'select("#", table.unpack(t, 1, 100000))'),
    "table.sort of 1,024 short strings": (
        'local t = {} for i = 1, 1024 do t[i] = ("x"):rep(200) .. (i * 7919) % 1024 end',
        "table.sort(t)",
    ),
    "an 8 MiB comparison": (STRINGS, "local b = huge < other"),
}


class DequeSink:
    """A sink doing cheap real work: keep the newest traces in memory."""

    def __init__(self) -> None:
        self.traces: collections.deque[TraceRecord] = collections.deque(maxlen=10_000)

    def submit(self, trace: TraceRecord) -> None:
        self.traces.append(trace)


def no_sink() -> NoReturn:
    """A sink factory that fails, so the recorder process drops every trace without building
    it: what the trigger path and the shipping cost on their own."""
    raise RuntimeError("this recorder process builds nothing")


def build_pipelines(folder: Path) -> Pipelines:
    """Copy the bundled scripts into a five-script, three-layer pipeline."""
    source = bundled_pipelines_dir()
    for name in ("disposable_email", "ip_denylist", "velocity_check", "geo_rule", "risk_scorer"):
        shutil.copy(source / f"{name}.lua", folder / f"{name}.lua")
    (folder / "pipelines.toml").write_text(MANIFEST)
    return load_pipelines(folder)


def run_engine(engine: Engine, n: int, latencies: list[int] | None = None) -> float:
    """Seconds for n blocking triggers; with latencies, each decision's nanoseconds are added."""
    clock = time.perf_counter_ns
    start = time.perf_counter()
    if latencies is None:
        for _ in range(n):
            engine.execute_trigger("before_signup", INPUT, META)
    else:
        for _ in range(n):
            begun = clock()
            engine.execute_trigger("before_signup", INPUT, META)
            latencies.append(clock() - begun)
    return time.perf_counter() - start


def p99(latencies: list[int]) -> float:
    """The 99th percentile of decision latencies, in microseconds."""
    return statistics.quantiles(latencies, n=100)[98] / 1000


def bench_tracing(
    pipelines: Pipelines, sink: Any, n: int, rounds: int, delivers: bool = True
) -> dict[str, Any]:
    """Triggers per second with a sink and without, in alternating rounds (flush time counts
    for tracing); the ratio is the median of each round's on/off ratio, which keeps bursts of
    load from other machines' tenants out of the comparison. Each decision's latency is kept
    too, for the p99 of each side; `written` is what the sink said it wrote (None when it does
    not say)."""
    on, off = Engine(pipelines, sink=sink), Engine(pipelines)
    run_engine(on, 200)
    run_engine(off, 200)
    on.flush()
    rates_on, rates_off, ratios = [], [], []
    latencies_on: list[int] = []
    latencies_off: list[int] = []
    for _ in range(rounds):
        rates_off.append(n / run_engine(off, n, latencies_off))
        start = time.perf_counter()
        run_engine(on, n, latencies_on)
        on.flush()
        rates_on.append(n / (time.perf_counter() - start))
        ratios.append(rates_on[-1] / rates_off[-1])
    counters = on.counters
    delivery_error = on.delivery_error
    on.close()
    written = on.sink_written
    off.close()
    if delivers and (counters["dropped"] or counters["sink_errors"] or delivery_error):
        raise SystemExit(f"traces were not delivered, the figures would mislead: {delivery_error}")
    return {
        "on": statistics.median(rates_on),
        "off": statistics.median(rates_off),
        "ratio": statistics.median(ratios),
        "counters": counters,
        "p99_on": p99(latencies_on),
        "p99_off": p99(latencies_off),
        "traced": 200 + n * rounds,
        "written": written,
    }


def bench_store(pipelines: Pipelines, n: int, rounds: int) -> dict[str, Any]:
    """Tracing into the real embedded store (a SQLite file) through the recorder process
    against untraced, as bench_tracing measures it; traces the engine or the store's writer
    could not keep count as dropped."""
    from pipetrace.app.engine_sink import StoreSink  # the app's sink: only this measure needs it

    with tempfile.TemporaryDirectory() as tmp:
        sink = OutOfProcess(functools.partial(StoreSink, str(Path(tmp) / "traces.db")))
        got = bench_tracing(pipelines, sink, n, rounds, delivers=False)
    written = got["written"]
    got["dropped"] = got["traced"] - written if written is not None else None
    return got


def bench_neighbour(pipelines: Pipelines, n: int, rounds: int) -> float:
    """The untraced engine's rate beside a process spinning on another core, over its rate
    alone: what any work on the second core costs on this machine, recorder or not."""
    engine = Engine(pipelines)
    run_engine(engine, 200)
    ratios = []
    for _ in range(rounds):
        alone = run_engine(engine, n)
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.1)
        beside = run_engine(engine, n)
        neighbour.kill()
        neighbour.wait()
        ratios.append(alone / beside)
    engine.close()
    return statistics.median(ratios)


def raw_lupa(pipelines: Pipelines) -> Any:
    """The same five chunks called straight through lupa, for the baseline."""
    lua = lua54.LuaRuntime()
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    helpers = lua.execute(RAW_HELPERS, sha)
    merge = lua.eval(RAW_MERGE)
    load = lua.globals().load
    layers = []
    for layer in pipelines.triggers["before_signup"].layers:
        fns = []
        for script in layer:
            env = lua.table(helpers=helpers, pairs=lua.globals().pairs, ipairs=lua.globals().ipairs,
                            type=lua.globals().type, tostring=lua.globals().tostring,
                            string=lua.globals().string, table=lua.globals().table,
                            error=lua.globals().error)  # fmt: skip
            fns.append((script.id, env, load(script.source, "=" + script.file, "t", env)))
        layers.append(fns)

    def call() -> dict[str, Any]:
        ctx = lua.table_from(INPUT, recursive=True)
        ctx.outputs = lua.table()
        merged = lua.table()
        for fns in layers:
            prev = lua.table()
            for script_id, env, fn in fns:
                env.context = ctx
                res = fn()
                if res is not None and res.data is not None:
                    ctx.outputs[script_id] = res.data
                    merge(prev, res.data)
            ctx.prev = prev
            merge(merged, prev)
        return dict(merged)

    return call


def bench_cost(pipelines: Pipelines, n: int, rounds: int) -> tuple[float, float]:
    """Microseconds per trigger: engine (no sink) and raw lupa calls of the same scripts."""
    engine = Engine(pipelines)
    call = raw_lupa(pipelines)
    assert call() == engine.execute_trigger("before_signup", INPUT).data, "baseline differs"
    for _ in range(200):
        call()
    run_engine(engine, 200)
    engine_us, raw_us = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            call()
        raw_us.append((time.perf_counter() - start) / n * 1e6)
        engine_us.append(run_engine(engine, n) / n * 1e6)
    engine.close()
    return statistics.median(engine_us), statistics.median(raw_us)


def bench_recorder(pipelines: Pipelines, n: int, rounds: int) -> float:
    """CPU microseconds the recorder takes to build one record (redaction and masking
    included) from the packed facts of the bench's trigger, in this process on its own: the
    fastest round, since other tenants of the machine only ever add to it."""
    engine = Engine(pipelines, sink=DequeSink())
    dispatcher: Any = engine._dispatcher  # the bench reaches in: keep the facts, time the build
    build, facts = dispatcher._build, []
    dispatcher.put = facts.append
    run_engine(engine, n)
    engine.close()
    for packed in facts[:200]:
        build(packed)
    per_record = []
    for _ in range(rounds):
        start = time.process_time()
        for packed in facts:
            build(packed)
        per_record.append((time.process_time() - start) / len(facts) * 1e6)
    return min(per_record)


def adversary_engine(folder: Path, source: str, deadline_ms: int, sink: Any = None) -> Engine:
    """An engine with one blocking trigger that runs `source` under the given deadline."""
    folder.mkdir()
    (folder / "pipelines.toml").write_text(ADVERSARY_MANIFEST.format(deadline_ms=deadline_ms))
    (folder / "s.lua").write_text(source)
    return Engine(load_pipelines(folder), sink=sink)


def bench_overshoot(repeat: int) -> dict[str, tuple[float, str | None]]:
    """For each adversary, the most milliseconds a trigger ran past its deadline in `repeat`
    runs (negative when a bound stopped it sooner), and what stopped it."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for number, (name, source) in enumerate(ADVERSARIES.items()):
            engine = adversary_engine(Path(tmp) / str(number), source, ADVERSARY_DEADLINE_MS)
            worst, error = -float(ADVERSARY_DEADLINE_MS), None
            for _ in range(repeat):
                start = time.perf_counter()
                outcome = engine.execute_trigger("t", {})
                took = (time.perf_counter() - start) * 1000 - ADVERSARY_DEADLINE_MS
                worst, error = max(worst, took), outcome.error
            engine.close()
            results[name] = (worst, error)
    return results


def bench_longest_call(repeat: int) -> tuple[str, float]:
    """The single bounded call that takes longest, in ms: the median of `repeat` runs, each
    timed by a custom span around it (so building its arguments is not counted)."""
    timed = {}
    with tempfile.TemporaryDirectory() as tmp:
        for number, (name, (setup, call)) in enumerate(LONGEST_CALLS.items()):
            sink = DequeSink()
            source = f'{setup}\nhelpers.trace("call", function() {call} end)\n'
            engine = adversary_engine(Path(tmp) / str(number), source, 60_000, sink)
            for _ in range(repeat):
                engine.execute_trigger("t", {})
            engine.flush()
            engine.close()
            spans = [t.spans[-1] for t in sink.traces]
            assert all(span.name == "call" and span.status == "success" for span in spans), name
            timed[name] = statistics.median((s.ended_at - s.started_at) / 1e6 for s in spans)
    name = max(timed, key=timed.__getitem__)
    return name, timed[name]


def main() -> None:
    """Run the measurements and print the goal lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (about 20 s)")
    args = parser.parse_args()
    n, rounds = (1_000, 9) if args.quick else (2_000, 25)
    with tempfile.TemporaryDirectory() as tmp:
        pipelines = build_pipelines(Path(tmp))
    process = bench_tracing(pipelines, OutOfProcess(DequeSink), n, rounds)
    thread = bench_tracing(pipelines, DequeSink(), n, rounds)
    shipping = bench_tracing(pipelines, OutOfProcess(no_sink), n, rounds, delivers=False)
    store = bench_store(pipelines, n, rounds)
    neighbour = bench_neighbour(pipelines, n, max(3, rounds // 3))
    for name, got in (("recorder process", process), ("sink thread", thread)):
        print(
            f"{name:16}: {got['on']:6.0f} triggers/s traced vs {got['off']:6.0f} with sink=None"
            f" (flush included) {got['counters']}"
        )
    print(
        f"p99 decision : {process['p99_on']:6.1f} us traced (recorder process) vs"
        f" {process['p99_off']:6.1f} us untraced"
    )
    engine_us, raw_us = bench_cost(pipelines, n, rounds)
    recorder_us = bench_recorder(pipelines, n, rounds)
    print(f"engine     : {engine_us:9.1f} us per five-script, three-layer trigger")
    print(f"raw lupa   : {raw_us:9.1f} us for the same five chunks called directly")
    print(f"recorder   : {recorder_us:9.1f} us CPU per record built from its packed facts")
    print(f"for the record, a sink thread in this process: on/off {thread['ratio']:.2f}")
    print(f"for the record, trigger path and shipping, nothing built: {shipping['ratio']:.2f}")
    print(
        f"for the record, traced into the embedded store (recorder process) / untraced:"
        f" {store['ratio']:.2f}, {store['on']:.0f} vs {store['off']:.0f} triggers/s,"
        f" {store['dropped']} of {store['traced']} traces dropped,"
        f" p99 decision {store['p99_on']:.1f} us vs {store['p99_off']:.1f} us"
    )
    print(f"for the record, untraced beside a busy second core / alone: {neighbour:.2f}")
    repeat = 2 if args.quick else 5
    overshoot = bench_overshoot(repeat)
    longest, longest_ms = bench_longest_call(repeat)
    for name, (past, error) in overshoot.items():
        why = (error or "no error").removeprefix("s: ")
        print(f"for the record, {name}: stopped {past:+.1f} ms from its deadline ({why})")
    print(f"for the record, the longest single bounded call: {longest}, {longest_ms:.1f} ms")
    print(goal_line("tracing on/off", process["ratio"], ">=", 0.95))
    print(goal_line("engine/raw lupa", engine_us / raw_us, "<=", 1.3))
    print(
        goal_line(
            "p99 decision latency traced/untraced",
            process["p99_on"] / process["p99_off"],
            "<=",
            1.1,
        )
    )
    worst = max(past for past, _ in overshoot.values())
    print(
        f"overshoot past the deadline, worst of {len(overshoot)} adversarial scripts: "
        f"{worst:.1f} ms (goal <= 10 ms + the longest single call, {longest_ms:.1f} ms)"
    )


def goal_line(what: str, value: float, op: str, goal: float) -> str:
    """The closing line the house format asks for (as bench/_common.py's, which the recorder
    process could not import from here)."""
    return f"ratio {what}: {value:.2f} (goal {op} {goal})"


if __name__ == "__main__":
    main()
