"""The one error a backtest raises, so workers and the parent share it without importing each
other."""

from __future__ import annotations

from pipetrace.errors import PipetraceError


class BacktestError(PipetraceError):
    """A backtest that cannot start or go on, and why, in one line."""

    title = "Cannot backtest"
