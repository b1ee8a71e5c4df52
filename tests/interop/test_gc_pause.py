"""The garbage collector is off while spans are imported, on again after the last of several
overlapping pauses and after a failed import, and stays off if it was off before."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator

import pytest

from pipetrace.gc_pause import gc_paused
from pipetrace.store import Repository, TraceWithSpans
from pipetrace.store.interop import import_text


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_overlapping_pauses_turn_the_collector_on_after_the_last() -> None:
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_collector_off_before_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_an_import_runs_with_the_collector_off_and_turns_it_on_again_if_it_fails(
    sqlite_repo: Repository,
) -> None:
    seen: list[bool] = []

    def scrub(trace: TraceWithSpans) -> None:
        seen.append(gc.isenabled())

    import_text(sqlite_repo, _document("1"), scrub=scrub)
    assert seen == [False]
    assert gc.isenabled()

    def failing(trace: TraceWithSpans) -> None:
        raise RuntimeError("the scrub failed")

    with pytest.raises(RuntimeError):
        import_text(sqlite_repo, _document("2"), scrub=failing)
    assert gc.isenabled()


def _document(digit: str) -> str:
    """An OTLP document of one span."""
    span = {"traceId": digit * 32, "spanId": digit * 16, "name": "a", "startTimeUnixNano": "1"}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
