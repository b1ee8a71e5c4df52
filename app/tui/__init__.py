"""The Textual trace viewer; `make_app` builds it and `run_viewer` runs it, for the command line
and the tests alike."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pipetrace.store import DatabaseTarget, Repository
from pipetrace.store.writer import WriterStats

from .app import LIVE_POLL_S, PipetraceApp


def make_app(
    store: str | DatabaseTarget,
    *,
    repository: Repository | None = None,
    clock: Callable[[], int] | None = None,
    writer_stats: Callable[[], WriterStats] | None = None,
    poll_interval: float = LIVE_POLL_S,
    page_size: int = 100,
    pipelines_dir: Path | None = None,
    show_tracebacks: bool = False,
) -> PipetraceApp:
    """The viewer on a store URL or target (opened in a worker), or on an open repository (left
    open at exit).

    `clock` returns Unix ns; fix it and the time filters and ages are deterministic.
    `pipelines_dir` is what replays run (the bundled pipelines when None). `show_tracebacks`
    shows a bug's traceback in its dialog (PIPETRACE_DEBUG).
    """
    return PipetraceApp(
        store,
        repository=repository,
        clock=clock,
        writer_stats=writer_stats,
        poll_interval=poll_interval,
        page_size=page_size,
        pipelines_dir=pipelines_dir,
        show_tracebacks=show_tracebacks,
    )


def run_viewer(app: PipetraceApp, *, headless: bool = False) -> None:
    """Run the viewer; a crash exits with its non-zero code, so scripts and shells see it."""
    app.run(headless=headless)
    if app.return_code:
        sys.exit(app.return_code)


__all__ = ["PipetraceApp", "make_app", "run_viewer"]
