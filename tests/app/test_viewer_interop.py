"""Export the open trace and import trace files from the viewer, on real stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from interop.interop_data import SAMPLES
from notices import record_notices
from screen_text import screen_lines
from textual.widgets import Input, Label

from pipetrace.app.tui.scenes import press, settle, type_text
from pipetrace.app.tui.screens.path_dialog import PathDialog
from pipetrace.store import open_store
from pipetrace.store.interop import import_file, write_export

CONVERSION_2 = "00000000000000010000000000000000"
CONVERSION_3 = "00000000000000020000000000000000"
"""otel_traces_01.json's two ids, alike in their first 15 digits."""


async def test_export_writes_the_open_trace_as_otlp_json(sample, viewer, tmp_path: Path) -> None:
    """x, enter: the default ./trace-<id>.otlp.json holds the trace's TracesData."""
    app = viewer()
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(sample.blocked_id)
        await settle(pilot)
        await press(pilot, "x", "enter")
        messages = [n.message for n in notices]

    path = tmp_path / f"trace-{sample.blocked_id}.otlp.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    spans = json.loads(lines[0])["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert {s["traceId"] for s in spans} == {sample.blocked_id}
    assert any(f"to ./{path.name}" in m for m in messages), messages


async def test_import_adds_traces_and_a_malformed_file_is_refused(
    sample, sample_repo, viewer, tmp_path: Path
) -> None:
    """i imports a file into an empty store (the list refreshes); a broken file says where."""
    good = tmp_path / "two.otlp.json"
    report = write_export(sample_repo, [sample.blocked_id, sample.error_id], good)
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceSpans": [', encoding="utf-8")
    open_store("empty.db").close()

    app = viewer("empty.db")
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "i")
        await type_text(pilot, bad.name)
        await press(pilot, "enter")
        after_bad = app.list_screen.count
        await press(pilot, "i")
        await type_text(pilot, good.name)
        await press(pilot, "enter")
        notes = [(n.severity, n.message) for n in notices]
        after_good = app.list_screen.count

    assert after_bad == 0
    assert after_good == 2
    errors = [m for severity, m in notes if severity == "error"]
    assert len(errors) == 1 and "\n" not in errors[0]
    assert f"{bad.name}:1:20: not valid JSON (Expecting value)" in errors[0], errors
    assert any(f"added 2 traces ({report.spans} spans), merged 0" in m for _, m in notes), notes


async def test_a_trace_with_warnings_lists_them_in_its_header(viewer, tmp_path: Path) -> None:
    """A Jaeger trace's warnings (as Jaeger UI downloads them) show under the trace's summary."""
    (trace,) = json.loads((SAMPLES / "otlp2jaeger-out.json").read_text())["data"]
    download = tmp_path / "download.json"
    download.write_text(json.dumps({**trace, "warnings": ["clock skew adjustment disabled"]}))
    repo = open_store(str(tmp_path / "jaeger.db"))
    import_file(repo, download)
    repo.close()
    app = viewer(str(tmp_path / "jaeger.db"))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_trace(trace["traceID"])
        await settle(pilot)
        lines = screen_lines(app)
    assert any("! warnings: clock skew adjustment disabled" in line for line in lines), lines


def _traces_of(path: Path) -> set[str]:
    """The trace ids of the spans an exported file holds."""
    return {
        span["traceId"]
        for line in path.read_text(encoding="utf-8").splitlines()
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    }


async def test_export_names_are_per_trace_and_never_replace_a_file_unasked(
    viewer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Zero-padded ids get names that tell them apart (the 64-bit one without its padding); a
    second export of a trace suggests a free name; typing an existing file's name warns, and
    only the second enter replaces it."""
    monkeypatch.chdir(tmp_path)
    repo = open_store("samples.db")
    for name in ("otel_traces_01.json", "yelp.json"):
        import_file(repo, SAMPLES / name)
    repo.close()
    first, second, yelp = (
        tmp_path / f"trace-{CONVERSION_2}.otlp.json",
        tmp_path / f"trace-{CONVERSION_3}.otlp.json",
        tmp_path / "trace-a03ee8fff1dcd9b9.otlp.json",
    )

    async def export(pilot, trace_id: str) -> str:
        """Open the trace, press x: the suggested path; enter exports it; back to the list."""
        pilot.app.open_trace(trace_id)
        await settle(pilot)
        await press(pilot, "x")
        suggested = pilot.app.screen.query_one("#path", Input).value
        await press(pilot, "enter", "escape")
        return suggested

    app = viewer("samples.db")
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        suggested = [
            await export(pilot, CONVERSION_2),
            await export(pilot, CONVERSION_3),
            await export(pilot, "0000000000000000a03ee8fff1dcd9b9"),
        ]
        second.write_text("kept\n", encoding="utf-8")
        app.open_trace(CONVERSION_2)
        await settle(pilot)
        await press(pilot, "x")
        again = app.screen.query_one("#path", Input).value
        await press(pilot, "ctrl+u", "-", "enter")
        stdout = str(app.screen.query_one("#dialog-error", Label).render())
        await press(pilot, "ctrl+u")
        await type_text(pilot, second.name)
        await press(pilot, "enter")
        warning = str(app.screen.query_one("#dialog-error", Label).render())
        still_open = isinstance(app.screen, PathDialog)
        unchanged = second.read_text(encoding="utf-8") == "kept\n"
        await press(pilot, "enter")
        warned_first = still_open and unchanged
        messages = [n.message for n in notices]

    assert suggested == [f"./{first.name}", f"./{second.name}", f"./{yelp.name}"]
    assert _traces_of(first) == {CONVERSION_2}
    assert _traces_of(yelp) == {"0000000000000000a03ee8fff1dcd9b9"}
    assert again == f"./trace-{CONVERSION_2}-2.otlp.json"
    assert warning == f"{second.name} exists: Export again to replace it"
    assert stdout == "- is standard output, which the viewer owns: type a file path"
    assert warned_first
    assert _traces_of(second) == {CONVERSION_2}
    assert messages[-1] == f"wrote 1 trace, 2 spans to {second.name}", messages
