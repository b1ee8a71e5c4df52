"""Exceptions the engine raises at load time (execution never raises into the caller)."""

from pipetrace.errors import PipetraceError


class EngineError(PipetraceError):
    """Base error so callers can catch every engine failure with one clause and show a title."""

    title = "Engine error"


class PipelineError(EngineError):
    """A pipelines folder that cannot be loaded; the message names the file, script and line."""

    title = "Invalid pipeline"
