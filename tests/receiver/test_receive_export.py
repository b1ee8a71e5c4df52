"""`pipetrace export --endpoint` from one store into `pipetrace receive` on another: OTLP JSON
over HTTP, and the traces arrive as `import --scrub` of the same export stores them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from interop.interop_data import pipeline_trace, stored
from receiver.receiving import receiving

from pipetrace.app.cli import main
from pipetrace.store import TraceWithSpans, open_store


def test_an_export_to_the_receiver_stores_the_traces_as_they_were(tmp_path: Path) -> None:
    pipeline_traces: list[TraceWithSpans] = [
        pipeline_trace(0, "success", None),
        pipeline_trace(1, "blocked", "disposable email domain mailinator.com"),
        pipeline_trace(2, "error", "risk_scorer.lua:14: attempt to index a nil value"),
    ]
    source, target = str(tmp_path / "source.db"), str(tmp_path / "received.db")
    repo = open_store(source)
    try:
        repo.save_traces(pipeline_traces)
    finally:
        repo.close()
    with receiving(tmp_path, target) as rx:
        result = CliRunner().invoke(
            main,
            ["export", "--endpoint", rx.url, "--batch-spans", "7", "--replays", "include",
             "--db", source],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        counts = rx.settled()
    assert counts["written"] == sum(len(t.spans) for t in pipeline_traces)
    imported = str(tmp_path / "imported.db")
    exported = str(tmp_path / "traces.jsonl")
    for args in (
        ["export", "-o", exported, "--replays", "include", "--db", source],
        ["import", "--scrub", exported, "--db", imported],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.stderr
    expected, received = open_store(imported), open_store(target)
    try:
        for item in pipeline_traces:
            assert stored(received, item.trace.id) == stored(expected, item.trace.id)
        assert received.get_trace_with_spans(f"{1:032x}").trace.context_snapshot == {
            "email": "x@example.com", "password": "[REDACTED]", "n": 0, "_redacted": ["password"],
        }  # fmt: skip
    finally:
        expected.close()
        received.close()
