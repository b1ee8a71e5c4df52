"""How the command line and the viewer speak of an exception no code expected: as a bug."""

from __future__ import annotations

import traceback


def bug_line(exc: BaseException, *, debug: bool) -> str:
    """One line saying pipetrace hit a bug and which; without debug, how to see the traceback."""
    what = " ".join(f"{type(exc).__name__}: {exc}".split()).removesuffix(":")
    hint = "" if debug else "; run with PIPETRACE_DEBUG=1 for the traceback"
    return f"pipetrace hit a bug: {what}{hint}"


def traceback_text(exc: BaseException) -> str:
    """The exception's traceback as Python prints it, for PIPETRACE_DEBUG=1."""
    return "".join(traceback.format_exception(exc))
