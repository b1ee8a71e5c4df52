"""The recorder process: the same records as in-process recording, real store writes, and a
child that fails, hangs or dies never reaching the caller."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import pytest
from recording_sinks import HangingSink, JsonLinesSink, SlowFlushSink, broken_factory

from pipetrace.app.engine_sink import StoreSink
from pipetrace.engine import (
    Engine,
    EngineError,
    OutOfProcess,
    SeededIds,
    bundled_pipelines_dir,
    load_pipelines,
)
from pipetrace.store import open_store

SIGNUPS = [
    {"email": "ana+test@example.com", "ip": "81.2.69.160", "country": "XX", "password": "p1"},
    {"email": "bot@mailinator.com", "ip": "81.2.69.160", "country": "FR"},
    {"email": "x@example.com", "ip": "81.2.69.160", "attempts_last_hour": "many"},
    {"email": "y@example.com", "ip": "203.0.113.9", "country": "KP"},
]


def without_times(trace: dict) -> dict:
    """A record as a dict, minus the clock readings that differ from run to run."""
    trace = dict(trace, ended_at=None)
    trace["spans"] = [dict(s, started_at=None, ended_at=None) for s in trace["spans"]]
    return trace


def run_all(engine: Engine) -> list:
    return [engine.execute_trigger("before_signup", s, {"user_id": 7}) for s in SIGNUPS]


class Attempts(enum.IntEnum):
    MANY = 30


class Country(str):
    """A str subclass, which MessagePack refuses and the engine must still record."""


OTHER_CALLS = [
    ("token_build", {"user_id": "u1", "roles": ["admin"], "token": "t0k3n"}),
    ("after_signup", {"email": "a@example.com"}),
    ("no_such_trigger", {}),
    ("before_signup", {"email": "a@example.com", "tags": {1, 2}}),
    ("before_signup", {"email": "a@example.com", "ip": ("81.2.69.160",)}),
    ("before_signup", OrderedDict(email="a@example.com", attempts_last_hour=Attempts.MANY)),
    ("before_signup", {"email": "a\ud800@example.com", "country": Country("FR")}),
]


def run_every_kind(engine: Engine) -> list:
    """Blocking runs that allow, block and fail, then enrichment, async, an unknown trigger and
    inputs the engine refuses or must normalise; async runs are waited for in order."""
    outcomes = run_all(engine)
    for trigger, payload in OTHER_CALLS:
        outcomes.append(engine.execute_trigger(trigger, payload, {"request_ip": "10.0.0.1"}))
        engine.flush()
    return outcomes


def test_the_recorder_process_builds_the_records_the_engine_builds_in_process(tmp_path, sink):
    pipelines = load_pipelines(bundled_pipelines_dir())
    with Engine(pipelines, sink=sink, ids=SeededIds(5), clock=lambda: 10**18) as engine:
        expected = run_every_kind(engine)
    path = tmp_path / "records.jsonl"
    spec = OutOfProcess(functools.partial(JsonLinesSink, str(path)))
    with Engine(pipelines, sink=spec, ids=SeededIds(5), clock=lambda: 10**18) as engine:
        assert run_every_kind(engine) == expected
    got = [json.loads(line) for line in path.read_text().splitlines()]
    want = [json.loads(json.dumps(dataclasses.asdict(t))) for t in sink.traces]
    assert len(got) == len(SIGNUPS) + len(OTHER_CALLS)
    assert [without_times(t) for t in got] == [without_times(t) for t in want]
    assert {t["status"] for t in got} == {"success", "blocked", "error"}
    assert {t["trigger_event"] for t in got} >= {"token_build", "after_signup", "no_such_trigger"}
    assert got[0]["context_snapshot"]["password"] == "[REDACTED]"
    assert engine.counters["submitted"] == len(got)


def test_the_store_receives_what_the_recorder_process_writes(store_url):
    with Engine.load(
        bundled_pipelines_dir(), sink=OutOfProcess(functools.partial(StoreSink, store_url))
    ) as engine:
        outcomes = run_all(engine)
    repo = open_store(store_url)
    try:
        stored = repo.get_traces_with_spans([o.trace_id for o in outcomes])
    finally:
        repo.close()
    assert len(stored) == len(SIGNUPS)
    by_id = {t.trace.id: t for t in stored}
    first = by_id[outcomes[0].trace_id]
    assert first.trace.context_snapshot["password"] == "[REDACTED]"
    assert first.trace.user_id == "7"
    assert first.spans[0].name == "before_signup"
    assert by_id[outcomes[1].trace_id].trace.status == "blocked"


def test_the_engine_passes_on_what_the_store_writer_says_it_wrote(store_url):
    """A caller counts the writer's committed traces, not what the store holds later (a
    cleanup may have deleted some by then)."""
    engine = Engine.load(
        bundled_pipelines_dir(), sink=OutOfProcess(functools.partial(StoreSink, store_url))
    )
    assert engine.sink_written is None
    run_all(engine)
    assert engine.flush(30) and engine.sink_written == len(SIGNUPS)
    run_all(engine)
    assert engine.close(30) is True
    assert engine.sink_written == 2 * len(SIGNUPS)


def test_a_failing_sink_factory_is_counted_and_never_reaches_the_caller():
    with Engine.load(bundled_pipelines_dir(), sink=OutOfProcess(broken_factory)) as engine:
        assert run_all(engine)[0].allowed
        assert engine.flush(10)
        assert engine.counters["sink_errors"] == len(SIGNUPS)
        assert engine.delivery_error == (
            "the sink factory failed: ConnectionError: collector refused the connection"
        )


def test_a_sink_the_recorder_process_cannot_take_is_refused_in_one_line():
    with pytest.raises(EngineError, match="the recorder process cannot take this sink"):
        Engine.load(bundled_pipelines_dir(), sink=OutOfProcess(lambda: JsonLinesSink("x")))


@pytest.mark.timing
def test_a_hanging_sink_in_the_recorder_process_neither_delays_nor_blocks_close():
    pipelines = load_pipelines(bundled_pipelines_dir())
    reference = Engine(pipelines, ids=SeededIds(3), clock=lambda: 0)
    expected = [reference.execute_trigger("before_signup", SIGNUPS[0]) for _ in range(400)]
    engine = Engine(
        pipelines,
        sink=OutOfProcess(HangingSink),
        ids=SeededIds(3),
        clock=lambda: 0,
        max_pending_traces=10,
    )
    start = time.perf_counter()
    got = [engine.execute_trigger("before_signup", SIGNUPS[0]) for _ in range(400)]
    assert got == expected
    assert time.perf_counter() - start < 10
    assert not engine.flush(0.5)
    start = time.perf_counter()
    engine.close(timeout=1)
    assert time.perf_counter() - start < 5
    assert engine.counters["dropped"] > 0


def test_a_flush_that_runs_out_of_time_says_why_the_sink_is_late_until_it_is_done():
    with Engine.load(bundled_pipelines_dir(), sink=OutOfProcess(SlowFlushSink)) as engine:
        run_all(engine)
        assert engine.delivery_stall is None
        assert not engine.flush(1)
        assert engine.delivery_stall == "the collector is not answering"
        assert engine.flush(20)
        assert engine.delivery_stall is None
        assert engine.delivery_error is None  # late is not lost
        assert engine.counters["submitted"] == len(SIGNUPS)


@pytest.mark.timing
def test_a_killed_recorder_process_is_reported_and_later_traces_are_counted_as_dropped():
    expected = run_all(Engine.load(bundled_pipelines_dir(), ids=SeededIds(1), clock=lambda: 0))
    engine = Engine.load(
        bundled_pipelines_dir(), sink=OutOfProcess(HangingSink), ids=SeededIds(1), clock=lambda: 0
    )
    engine._dispatcher._process.kill()
    engine._dispatcher._process.join(5)
    assert not engine.flush(5)
    assert "recorder process" in (engine.delivery_error or "")
    start = time.perf_counter()
    assert run_all(engine) == expected
    assert time.perf_counter() - start < 5
    engine.close(timeout=1)
    assert engine.counters["dropped"] == len(SIGNUPS)


def test_the_recorder_process_keeps_seeded_span_ids_reproducible(tmp_path: Path):
    runs = []
    for n in range(2):
        path = tmp_path / f"{n}.jsonl"
        spec = OutOfProcess(functools.partial(JsonLinesSink, str(path)))
        with Engine.load(bundled_pipelines_dir(), sink=spec, ids=SeededIds(9)) as engine:
            run_all(engine)
        runs.append([[s["span_id"] for s in json.loads(line)["spans"]] for line in path.open()])
    assert runs[0] == runs[1] and len({i for ids in runs[0] for i in ids}) > 10


@pytest.mark.parametrize("where", ["JsonLinesSink", "OutOfProcess"])
def test_traces_still_queued_at_exit_are_delivered_without_close(tmp_path: Path, where: str):
    path = tmp_path / "records.jsonl"
    sink = f"functools.partial(JsonLinesSink, {str(path)!r})"
    sink = f"OutOfProcess({sink})" if where == "OutOfProcess" else f"{sink}()"
    code = f"""
import functools, sys
sys.path.append({str(Path(__file__).parents[1])!r})
from recording_sinks import JsonLinesSink
from pipetrace.engine import Engine, OutOfProcess, bundled_pipelines_dir
engine = Engine.load(bundled_pipelines_dir(), sink={sink})
for _ in range(200):
    engine.execute_trigger("before_signup", {{"email": "a@example.com"}})
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert len(path.read_text().splitlines()) == 200
