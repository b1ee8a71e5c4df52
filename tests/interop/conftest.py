"""Fixtures for the interop tests."""

from __future__ import annotations

import pytest
from interop.interop_data import pipeline_trace

from pipetrace.store import TraceWithSpans


@pytest.fixture
def pipeline_traces() -> list[TraceWithSpans]:
    """Four traces: success, blocked, error (a replay) and success, with every column used."""
    return [
        pipeline_trace(0, "success", None),
        pipeline_trace(1, "blocked", "disposable email domain mailinator.com"),
        pipeline_trace(2, "error", "risk_scorer.lua:14: attempt to index a nil value"),
        pipeline_trace(3, "success", None),
    ]
