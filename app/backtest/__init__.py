"""Backtest: replay stored traffic through a candidate pipelines folder and report what flips."""

from .report import FLIP_CLASSES, BacktestReport, FlipClass
from .run import BacktestError, run_backtest

__all__ = ["FLIP_CLASSES", "BacktestError", "BacktestReport", "FlipClass", "run_backtest"]
