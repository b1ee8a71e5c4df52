"""Starting child processes from inside the viewer, whose standard error is Textual's capture."""

from __future__ import annotations

import contextlib
import sys
from multiprocessing import resource_tracker


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the real standard error.

    A process pool needs the tracker, and starting it passes `sys.stderr.fileno()` to the child;
    while Textual runs, `sys.stderr` is its print capture, whose fileno is -1, and the start
    fails ("bad value(s) in fds_to_keep"). So the tracker is started once with the process's
    own standard error in place, for the few milliseconds the start takes.
    """
    with contextlib.redirect_stderr(sys.__stderr__):
        resource_tracker.ensure_running()
