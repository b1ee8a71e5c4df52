"""Import and export failures as one-line messages with a title, so callers show, not crash."""

from __future__ import annotations

from pipetrace.errors import PipetraceError


class InteropError(PipetraceError):
    """An import or export failed for a reason the user can act on."""

    title = "Import or export failed"


class MalformedFile(InteropError):
    """A file to import is not valid trace data; nothing of it was stored."""

    title = "Malformed trace file"


class MalformedRequest(InteropError):
    """A request to the OTLP receiver is not an OTLP export request; nothing of it is stored."""

    title = "Malformed OTLP request"


class CollectorError(InteropError):
    """An OTLP collector refused the export or could not be reached."""

    title = "Collector error"


class Invalid(Exception):
    """A bad value inside a document, with the JSON path to it built up while unwinding."""

    def __init__(self, message: str, *path: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str | int] = list(path)

    def at(self, *prefix: str | int) -> Invalid:
        """Prepend the enclosing keys and indexes, then re-raise from the caller."""
        self.path[:0] = prefix
        return self

    def where(self) -> str:
        """The path as people write it: resourceSpans[0].scopeSpans[1].spans[2].traceId."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text
