"""Sandboxed Lua pipeline engine that records every trigger execution as a trace.

Its names are imported when first used (`pipetrace.lazy_names`): a command that only reads the
manifest or the bundled folder does not load Lua."""

from typing import TYPE_CHECKING

from pipetrace.lazy_names import lazy_names

if TYPE_CHECKING:
    from pipetrace.engine.bundled import bundled_pipelines_dir
    from pipetrace.engine.engine import Clock, Engine, Outcome
    from pipetrace.engine.errors import EngineError, PipelineError
    from pipetrace.engine.execution import Execution, ScriptOutcome
    from pipetrace.engine.given_pipelines import GivenScript, given_pipelines
    from pipetrace.engine.host_values import FetchResponse
    from pipetrace.engine.ids import IdSource, RandomIds, SeededIds
    from pipetrace.engine.limits import Limits
    from pipetrace.engine.manifest import Pipelines, Script, Trigger, load_pipelines
    from pipetrace.engine.offload import OutOfProcess
    from pipetrace.engine.tracing import SpanRecord, TraceRecord, TraceSink

__getattr__ = lazy_names(
    __name__,
    {
        ".bundled": ("bundled_pipelines_dir",),
        ".engine": ("Clock", "Engine", "Outcome"),
        ".errors": ("EngineError", "PipelineError"),
        ".execution": ("Execution", "ScriptOutcome"),
        ".given_pipelines": ("GivenScript", "given_pipelines"),
        ".host_values": ("FetchResponse",),
        ".ids": ("IdSource", "RandomIds", "SeededIds"),
        ".limits": ("Limits",),
        ".manifest": ("Pipelines", "Script", "Trigger", "load_pipelines"),
        ".offload": ("OutOfProcess",),
        ".tracing": ("SpanRecord", "TraceRecord", "TraceSink"),
    },
)

__all__ = [
    "Clock",
    "Engine",
    "EngineError",
    "Execution",
    "FetchResponse",
    "GivenScript",
    "IdSource",
    "Limits",
    "OutOfProcess",
    "Outcome",
    "PipelineError",
    "Pipelines",
    "RandomIds",
    "Script",
    "ScriptOutcome",
    "SeededIds",
    "SpanRecord",
    "TraceRecord",
    "TraceSink",
    "Trigger",
    "bundled_pipelines_dir",
    "given_pipelines",
    "load_pipelines",
]
