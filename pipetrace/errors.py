"""The one base of every error a user can act on, so the CLI and the viewer tell them from bugs."""

from __future__ import annotations


class PipetraceError(Exception):
    """A failure the user caused or can fix (bad input, an unusable store, a broken pipelines
    folder): shown as one line or in the viewer's error dialog, never as a traceback.

    Engine, store and app errors all derive from it; anything else that escapes is a bug."""

    title = "Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
