"""Sandboxed Lua pipeline engine that records every trigger execution as a trace."""

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
