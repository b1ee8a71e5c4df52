"""The Textual trace viewer; `make_app` builds it and `run_viewer` runs it, for the command line
and the tests alike."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pipetrace.store import Repository
from pipetrace.store.writer import WriterStats

from .app import PipetraceApp


def make_app(
    db_url: str | None = None,
    *,
    repository: Repository | None = None,
    clock: Callable[[], int] | None = None,
    writer_stats: Callable[[], WriterStats] | None = None,
    poll_interval: float = 2.0,
    page_size: int = 100,
    pipelines_dir: Path | None = None,
) -> PipetraceApp:
    """The viewer on a URL (opened in a worker) or on an open repository (left open at exit).

    `clock` returns Unix ns; fix it and the time filters and ages are deterministic.
    `pipelines_dir` is what replays run (the bundled pipelines when None).
    """
    return PipetraceApp(
        db_url,
        repository=repository,
        clock=clock,
        writer_stats=writer_stats,
        poll_interval=poll_interval,
        page_size=page_size,
        pipelines_dir=pipelines_dir,
    )


def run_viewer(app: PipetraceApp, *, headless: bool = False) -> None:
    """Run the viewer; a crash exits with its non-zero code, so scripts and shells see it."""
    app.run(headless=headless)
    if app.return_code:
        sys.exit(app.return_code)


__all__ = ["PipetraceApp", "make_app", "run_viewer"]
