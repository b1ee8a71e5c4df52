"""Exceptions the engine raises at load time (execution never raises into the caller)."""


class EngineError(Exception):
    """Base error so callers can catch every engine failure with one clause and show a title."""

    title = "Engine error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PipelineError(EngineError):
    """A pipelines folder that cannot be loaded; the message names the file, script and line."""

    title = "Invalid pipeline"
