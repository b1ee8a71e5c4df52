"""The engine: runs a trigger's scripts layer by layer in the sandbox and reports one Outcome."""

from __future__ import annotations

import atexit
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipetrace.engine.dispatch import Dispatcher, TraceDispatcher
from pipetrace.engine.execution import Execution, script_outcomes
from pipetrace.engine.host_values import FetchResponse, HostValues
from pipetrace.engine.ids import IdSource, RandomIds
from pipetrace.engine.manifest import Pipelines, Trigger, load_pipelines
from pipetrace.engine.offload import OutOfProcess, ProcessDispatcher
from pipetrace.engine.record import Recorder, pack_facts
from pipetrace.engine.redaction import Redactor
from pipetrace.engine.results import INT_KEYS, NESTED, nested_data, shaped
from pipetrace.engine.sandbox import Sandbox
from pipetrace.engine.tracing import TraceSink
from pipetrace.engine.values import InputError, clone, measure_input

Clock = Callable[[], int]
_perf = time.perf_counter_ns


def _dispatcher(
    sink: TraceSink | OutOfProcess | None, recorder: Recorder, max_pending: int
) -> Dispatcher | None:
    """Where packed facts go: nowhere, a thread in front of a sink, or a recorder process."""
    if sink is None:
        return None
    if isinstance(sink, OutOfProcess):
        return ProcessDispatcher(sink, recorder, max_pending)
    return TraceDispatcher(sink, recorder.build, max_pending)


def _facts(
    trace_id: str,
    trigger: str,
    started_at: int,
    origin: int,
    status: str,
    message: str | None,
    allowed: bool,
    meta: dict[str, Any],
    input: dict[str, Any],
    replay_of: str | None,
    input_bytes: int | None,
    crashed: bool,
    runs: list[Any] | None,
) -> tuple[Any, ...]:
    """One execution's raw facts as Recorder.build reads them, ended now; the input only when
    it was measured (a refused one is not stored)."""
    user_id, request_ip = meta.get("user_id"), meta.get("request_ip")
    return (
        trace_id, trigger, started_at, origin, _perf(), status, message, allowed,
        None if user_id is None else str(user_id),
        None if request_ip is None else str(request_ip),
        input if input_bytes is not None else None, replay_of, input_bytes, crashed, runs,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision for the caller: allow or not, why not, merged script data, and the trace."""

    allowed: bool
    error: str | None
    data: dict[str, Any] | list[Any]
    trace_id: str


class Engine:
    """Executes triggers of a pipeline set; never raises into the caller from execute_trigger.

    `secrets` are what helpers.secret(name) hands scripts; their values, like every value
    the pipelines' `[redact]` rules redact from an input, are masked in every trace. `env` is
    the allow-list helpers.env(name) reads, and `fetch_responses` what helpers.fetch(url)
    returns for each URL (there is no network: any other URL is the script's error)."""

    def __init__(
        self,
        pipelines: Pipelines,
        sink: TraceSink | OutOfProcess | None = None,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        fetch_responses: Mapping[str, FetchResponse] | None = None,
        max_pending_traces: int = 10_000,
        max_pending_async: int = 1_000,
    ) -> None:
        self.pipelines = pipelines
        self._clock = clock or time.time_ns
        self._ids = ids or RandomIds()
        self._host = HostValues.checked(pipelines.limits, secrets, env, fetch_responses)
        self._local = threading.local()
        redactor = Redactor(pipelines.redaction, self._host.secrets.values())
        self._recorder = Recorder(pipelines, self._ids, redactor)
        self._plans = {
            name: tuple(script.id for layer in trigger.layers for script in layer)
            for name, trigger in pipelines.triggers.items()
        }
        self._dispatcher = _dispatcher(sink, self._recorder, max_pending_traces)
        self._async: queue.Queue[tuple[Any, ...] | None] = queue.Queue(max_pending_async)
        self._async_thread: threading.Thread | None = None
        self._async_lock = threading.Lock()
        self.async_dropped = 0
        if self._dispatcher is not None:
            atexit.register(self.close)

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> Engine:
        """Load a pipelines folder and build an engine for it in one call."""
        return cls(load_pipelines(path), **kwargs)

    @property
    def counters(self) -> dict[str, int]:
        """Trace delivery counters (submitted, dropped, sink_errors) plus dropped async runs."""
        d = self._dispatcher
        return {
            "submitted": d.submitted if d else 0,
            "dropped": d.dropped if d else 0,
            "sink_errors": d.sink_errors if d else 0,
            "async_dropped": self.async_dropped,
        }

    @property
    def delivery_error(self) -> str | None:
        """The latest reason traces did not reach the sink (a failing sink, a stopped recorder
        process), or None."""
        return self._dispatcher.error if self._dispatcher else None

    @property
    def sink_written(self) -> int | None:
        """What the sink says it wrote (its `written` attribute: a store writer counts committed
        traces) as of the latest flush() or close(), or None for a sink that does not say."""
        return self._dispatcher.written if self._dispatcher else None

    @property
    def delivery_stall(self) -> str | None:
        """Why the latest flush is not done yet, as a recorder process's sink says (a store it
        cannot reach), or None."""
        return self._dispatcher.stall if self._dispatcher else None

    def execute_trigger(
        self,
        trigger: str,
        input: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        *,
        replay_of: str | None = None,
    ) -> Outcome:
        """Run a trigger and return its decision; async triggers return at once."""
        try:
            trace_id = self._ids.trace_id()
        except Exception:
            trace_id = RandomIds().trace_id()
        meta = metadata or {}
        spec = self.pipelines.triggers.get(trigger)
        try:
            if spec is not None and spec.mode == "async":
                started_at = self._now()
                return self._enqueue(spec, input, meta, replay_of, trace_id, started_at)
            return self._execute(trigger, spec, input, meta, replay_of, trace_id, None)
        except Exception as exc:
            closed = spec is not None and spec.failure == "closed"
            message = f"internal engine error: {type(exc).__name__}: {exc}"
            return Outcome(not closed, message if closed else None, {}, trace_id)

    def execute_untraced(
        self,
        trigger: str,
        input: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        *,
        replay_of: str | None = None,
    ) -> Execution:
        """Run a trigger here and now (an async one too) without recording a trace, for callers
        that compare a great many runs (a backtest): its decision and each script's outcome,
        with the trace built only if asked for (`Execution.record`). Never raises."""
        try:
            trace_id = self._ids.trace_id()
        except Exception:
            trace_id = RandomIds().trace_id()
        meta = metadata or {}
        spec = self.pipelines.triggers.get(trigger)
        runs: list[Any] = []
        try:
            if spec is not None:
                self._sandbox()
            started_at = self._now()
            origin = _perf()
            status, message, allowed, _, crashed, input_bytes = self._decide(
                trigger, spec, input, trace_id, started_at, runs
            )
        except Exception:
            allowed = spec is None or spec.failure != "closed"
            return Execution(trace_id, allowed, "error", (), None, self._recorder)
        facts = _facts(
            trace_id, trigger, started_at, origin, status, message, allowed, meta, input,
            replay_of, input_bytes, crashed, runs,
        )  # fmt: skip
        plan = self._plans.get(trigger, ())
        return Execution(
            trace_id, allowed, status, script_outcomes(plan, runs), facts, self._recorder
        )

    def _enqueue(
        self,
        spec: Trigger,
        input: dict[str, Any],
        meta: dict[str, Any],
        replay_of: str | None,
        trace_id: str,
        started_at: int,
    ) -> Outcome:
        """Hand an async trigger to the background worker (copying its input) and allow."""
        job = (spec.name, spec, clone(input), dict(meta), replay_of, trace_id, started_at)
        self._ensure_worker()
        try:
            self._async.put_nowait(job)
        except queue.Full:
            self.async_dropped += 1
        return Outcome(True, None, {}, trace_id)

    def _ensure_worker(self) -> None:
        """Start the async worker thread on first use."""
        if self._async_thread is None:
            with self._async_lock:
                if self._async_thread is None:
                    thread = threading.Thread(
                        target=self._work, name="pipetrace-async", daemon=True
                    )
                    thread.start()
                    self._async_thread = thread
                    if self._dispatcher is None:  # with a sink, already registered
                        atexit.register(self.close)

    def _work(self) -> None:
        """Run queued async triggers until close() posts the stop marker."""
        while True:
            job = self._async.get()
            try:
                if job is None:
                    return
                self._execute(*job)
            except Exception:
                self.async_dropped += 1
            finally:
                self._async.task_done()

    def close(self, timeout: float = 10.0) -> bool:
        """Finish queued async triggers and deliver pending traces (also runs at exit); whether
        the sink took and closed on everything within the timeout."""
        atexit.unregister(self.close)
        if self._async_thread is not None:
            self._async.put(None)
            self._async_thread.join(timeout)
            self._async_thread = None
        if self._dispatcher is not None:
            return self._dispatcher.close(timeout)
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until queued async work and traces are done (for tests, demos and replays)."""
        end = time.monotonic() + timeout
        while self._async.unfinished_tasks:
            if time.monotonic() > end:
                return False
            time.sleep(0.001)
        if self._dispatcher is None:
            return True
        return self._dispatcher.flush(max(0.0, end - time.monotonic()))

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> int:
        """The injected clock's time, or the system's if that clock fails."""
        try:
            return self._clock()
        except Exception:
            return time.time_ns()

    def _sandbox(self) -> Sandbox:
        """This thread's runtime with the compiled scripts (a runtime is not shared by threads)."""
        sandbox = getattr(self._local, "sandbox", None)
        if sandbox is None:
            sandbox = Sandbox(
                self.pipelines.limits,
                self.pipelines.scripts.values(),
                self._host,
                self.pipelines.triggers.values(),
            )
            self._local.sandbox = sandbox
        return sandbox

    def _execute(
        self,
        trigger: str,
        spec: Trigger | None,
        input: dict[str, Any],
        meta: dict[str, Any],
        replay_of: str | None,
        trace_id: str,
        started_at: int | None,
    ) -> Outcome:
        """Run the layers, apply the failure policy, queue the trace and build the Outcome.

        started_at is when an async trigger was queued, or None to read the clock here. This
        thread's sandbox is made first, so its start-up (about 1.5 ms) is not in the trace."""
        if spec is not None:
            self._sandbox()
        if started_at is None:
            started_at = self._now()
        origin = _perf()
        runs: list[Any] | None = [] if self._dispatcher is not None else None
        status, message, allowed, merged, crashed, input_bytes = self._decide(
            trigger, spec, input, trace_id, started_at, runs
        )
        outcome = Outcome(allowed, None if allowed else message, merged, trace_id)
        if self._dispatcher is not None:
            # Raw facts only, packed at once (which copies the input); see Recorder.build.
            try:
                packed = pack_facts(_facts(
                    trace_id, trigger, started_at, origin, status, message, allowed, meta, input,
                    replay_of, input_bytes, crashed, runs,
                ))  # fmt: skip
            except Exception:
                self._dispatcher.dropped += 1
            else:
                self._dispatcher.put(packed)
        return outcome

    def _decide(
        self,
        trigger: str,
        spec: Trigger | None,
        input: dict[str, Any],
        trace_id: str,
        started_at: int,
        runs: list[Any] | None,
    ) -> tuple[str, str | None, bool, dict[str, Any] | list[Any], bool, int | None]:
        """Check the input and run the layers: status, message, allowed, data, whether the host
        side crashed, and the input's measured size (None when it was refused or the trigger is
        unknown). runs, when given, gets start, end and result of each script that ran."""
        if spec is None:
            return "error", f"unknown trigger '{trigger}'", True, {}, False, None
        limits = self.pipelines.limits
        try:
            input_bytes = measure_input(input, limits.max_input_bytes, limits.max_input_depth)
        except InputError as exc:
            # No script saw it, so no script's failure policy can allow it: padding an input
            # past the limits must not get it past the checks (refused_input).
            return "error", str(exc), spec.refused_input == "allow", {}, False, None
        status, message, allowed, merged, crashed = self._run_layers(
            spec, input, input_bytes, trace_id, started_at, runs
        )
        return status, message, allowed, merged, crashed, input_bytes

    def _run_layers(
        self,
        spec: Trigger,
        input: dict[str, Any],
        input_bytes: int,
        trace_id: str,
        started_at: int,
        runs: list[Any] | None,
    ) -> tuple[str, str | None, bool, dict[str, Any] | list[Any], bool]:
        """Run the layers in one call into the sandbox, which stops when one blocks or fails
        closed; return status, message, allowed, data (none when not allowed: a denied request
        has no use for it) and whether the host side crashed. runs, when given, gets start, end
        and result of each script that ran (with logs and custom spans only when tracing).
        input_bytes is the input's measured size."""
        sandbox = self._sandbox()
        try:
            seed, now = int(trace_id[:15], 16), started_at // 1_000_000
            sandbox.begin(input, input_bytes, seed, now, self._dispatcher is not None)
            res = sandbox.run_trigger(spec.name, runs is not None)
            status, message, allowed, flags, end = res[:5]
            end += 5
            if not flags:
                result: dict[str, Any] | list[Any] = {}
            elif flags & NESTED:
                result = shaped(nested_data(res, 5, end), bool(flags & INT_KEYS))
            elif flags & INT_KEYS:
                result = shaped(dict(zip(res[5:end:2], res[6:end:2], strict=True)), True)
            else:
                result = dict(sorted(zip(res[5:end:2], res[6:end:2], strict=True)))
            if runs is not None:
                total = len(res)
                while end < total:
                    count = res[end + 2]
                    runs += (res[end], res[end + 1], res[end + 3 : end + 3 + count])
                    end += 3 + count
        except Exception as exc:
            self._local.sandbox = None
            return self._crashed(spec, exc)
        return status, message, allowed, result, False

    def _crashed(
        self, spec: Trigger, exc: Exception
    ) -> tuple[str, str | None, bool, dict[str, Any], bool]:
        """A host-side runtime failure (e.g. memory while converting) is an error of the run."""
        name = type(exc).__name__
        text = "memory limit exceeded" if "Memory" in name else f"{name}: {exc}"
        message = f"runtime failure: {text}"
        return "error", message, spec.failure == "open", {}, True
