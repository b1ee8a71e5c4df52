"""Export the open trace and import trace files from the viewer, on real stores."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from app.tui.scenes import press, settle, type_text
from store import open_store
from store.interop import write_export


def test_export_writes_the_open_trace_as_otlp_json(sample, viewer, tmp_path: Path) -> None:
    """x, enter: the default ./trace-<id12>.otlp.json holds the trace's TracesData."""

    async def run() -> list[str]:
        app = viewer()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            app.open_trace(sample.blocked_id)
            await settle(pilot)
            await press(pilot, "x", "enter")
            return [n.message for n in app._notifications]

    messages = asyncio.run(run())
    path = tmp_path / f"trace-{sample.blocked_id[:12]}.otlp.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    spans = json.loads(lines[0])["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert {s["traceId"] for s in spans} == {sample.blocked_id}
    assert any(f"to ./{path.name}" in m for m in messages), messages


def test_import_adds_traces_and_a_malformed_file_is_refused(
    sample, sample_repo, viewer, tmp_path: Path
) -> None:
    """i imports a file into an empty store (the list refreshes); a broken file says where."""
    good = tmp_path / "two.otlp.json"
    report = write_export(sample_repo, [sample.blocked_id, sample.error_id], good)
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceSpans": [', encoding="utf-8")
    open_store("empty.db").close()

    async def run() -> tuple[int | None, int | None, list[tuple[str, str]]]:
        app = viewer("empty.db")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await press(pilot, "i")
            await type_text(pilot, bad.name)
            await press(pilot, "enter")
            after_bad = app.list_screen.count
            await press(pilot, "i")
            await type_text(pilot, good.name)
            await press(pilot, "enter")
            notes = [(n.severity, n.message) for n in app._notifications]
            return after_bad, app.list_screen.count, notes

    after_bad, after_good, notes = asyncio.run(run())
    assert after_bad == 0
    assert after_good == 2
    errors = [m for severity, m in notes if severity == "error"]
    assert len(errors) == 1 and "\n" not in errors[0]
    assert f"{bad.name}:1:20: not valid JSON (Expecting value)" in errors[0], errors
    assert any(f"added 2 traces with {report.spans} spans" in m for _, m in notes), notes
