"""Sandboxed Lua pipeline engine that records every trigger execution as a trace."""

from engine.bundled import bundled_pipelines_dir
from engine.engine import Clock, Engine, Outcome
from engine.errors import EngineError, PipelineError
from engine.ids import IdSource, RandomIds, SeededIds
from engine.limits import Limits
from engine.manifest import Pipelines, Script, Trigger, load_pipelines
from engine.offload import OutOfProcess
from engine.tracing import SpanRecord, TraceRecord, TraceSink

__all__ = [
    "Clock",
    "Engine",
    "EngineError",
    "IdSource",
    "Limits",
    "OutOfProcess",
    "Outcome",
    "PipelineError",
    "Pipelines",
    "RandomIds",
    "Script",
    "SeededIds",
    "SpanRecord",
    "TraceRecord",
    "TraceSink",
    "Trigger",
    "bundled_pipelines_dir",
    "load_pipelines",
]
