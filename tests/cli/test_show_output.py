"""`show` and `replay` as people read them: whole messages in a pipe, the important columns on a
narrow terminal, and the input, outputs and Lua error location without --json."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import BASE_NS
from rich.cells import cell_len

from pipetrace.app.cli import main
from pipetrace.app.commands.details import MAX_JSON_CHARS
from pipetrace.app.commands.store_cmds import SHOWN_SPANS
from pipetrace.app.commands.table_layout import PIPE_WIDTH
from pipetrace.app.sample_store import synthetic_trace
from pipetrace.store import open_store
from pipetrace.store.codec import json_safe

ROOT = Path(__file__).resolve().parents[2]
WORDS = " ".join(f"w{n:03}" for n in range(60))
"""A message longer than any column: 60 distinct words, so a cut or reordering shows."""
MANIFEST = """\
[triggers.check]
mode = "blocking"
failure = "open"

[[scripts]]
id = "enrich"
trigger = "check"
file = "enrich.lua"

[[scripts]]
id = "explode"
trigger = "check"
file = "explode.lua"
depends_on = ["enrich"]
"""
ENRICH = 'return {data = {tier = "gold", note = "[bold]" .. context.email .. "\\127"}}\n'
EXPLODE = "-- fails with the reason it is given\nlocal reason = context.reason\nerror(reason)\n"


def pipelines(tmp_path: Path) -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "pipelines.toml").write_text(MANIFEST)
    (folder / "enrich.lua").write_text(ENRICH)
    (folder / "explode.lua").write_text(EXPLODE)
    return folder


def record(tmp_path: Path, payload: dict) -> tuple[str, str, Path]:
    """Run `check` through the real engine into a real file store: (db, trace id, pipelines)."""
    db, folder = str(tmp_path / "t.db"), pipelines(tmp_path)
    args = ["--input", json.dumps(payload), "--pipelines", str(folder), "--db", db, "--json"]
    result = CliRunner().invoke(main, ["run", "check", *args])
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout)["trace_id"], folder


def joined(text: str) -> str:
    """The output's lines stripped and joined by one space: a message wrapped inside its column
    reads whole again, and one that was cut or squeezed does not."""
    return " ".join(line.strip() for line in text.splitlines())


def test_piped_show_and_replay_keep_whole_messages(tmp_path: Path) -> None:
    db, trace_id, folder = record(tmp_path, {"email": "a@example.com", "reason": WORDS})
    message = f"explode.lua:3: {WORDS}"
    shown = CliRunner().invoke(main, ["show", trace_id, "--db", db])
    replayed = CliRunner().invoke(
        main, ["replay", trace_id, "--pipelines", str(folder), "--db", db]
    )
    assert shown.exit_code == 0, shown.output
    assert replayed.exit_code == 0, replayed.output
    table = shown.stdout[shown.stdout.index("span ") : shown.stdout.index("\ninput:")]
    scripts = replayed.stdout[
        replayed.stdout.index("scripts") : replayed.stdout.index("\nidentical")
    ]
    for lines in (table.splitlines(), scripts.splitlines()):
        assert all(cell_len(line) <= PIPE_WIDTH and line == line.rstrip() for line in lines)
    assert joined(table).count(message) == 2  # the trigger's span and the script's
    assert re.search(r"^  explode +1 +error ", table, re.M), table
    assert message in joined(scripts)
    assert re.search(r"^explode +same +error -> error ", scripts, re.M), scripts


def printed(label: str, value: object) -> str:
    """A labelled JSON line as `show` prints it: one line of JSON, DEL as its \\u escape."""
    return f"{label} {json.dumps(value, ensure_ascii=False)}".replace("\x7f", "\\u007f")


def test_show_prints_input_outputs_and_where_lua_failed(tmp_path: Path) -> None:
    secret = "s3cret-value"
    payload = {"email": "\x1b[2J[/]a@example.com", "password": secret, "reason": "no tier"}
    db, trace_id, _ = record(tmp_path, payload)
    result = CliRunner().invoke(main, ["show", trace_id, "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    stored = json.loads(CliRunner().invoke(main, ["show", trace_id, "--db", db, "--json"]).stdout)
    snapshot = stored["trace"]["context_snapshot"]
    assert snapshot["password"] == "[REDACTED]"
    assert printed("input:", snapshot) in lines
    assert secret not in result.stdout and "\x1b" not in result.stdout
    enrich = next(s for s in stored["spans"] if s["script_id"] == "enrich")
    data = enrich["attributes"]["output.data"]
    assert data == {"tier": "gold", "note": "[bold]\x1b[2J[/]a@example.com\x7f"}
    output = json.dumps(data, ensure_ascii=False)
    assert "\\u001b" in output and "[bold]" in output and "\x7f" in output
    assert printed("enrich output:", data) in lines
    assert "explode error at explode.lua:3: no tier" in lines
    assert printed("result:", stored["trace"]["result_data"]) in lines
    assert not any(line.startswith("explode output") for line in lines)


def test_show_cuts_long_json_and_says_how_long_it_was(tmp_path: Path) -> None:
    payload = {"email": "a@example.com", "reason": "x", "bio": "é" * 5000}
    db, trace_id, _ = record(tmp_path, payload)
    stored = json.loads(CliRunner().invoke(main, ["show", trace_id, "--db", db, "--json"]).stdout)
    whole = json.dumps(json_safe(stored["trace"]["context_snapshot"]), ensure_ascii=False)
    assert len(whole) > MAX_JSON_CHARS
    result = CliRunner().invoke(main, ["show", trace_id, "--db", db])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("input: "))
    note = f"… (cut: {len(whole)} characters in all; show --json has them)"
    assert line == f"input: {whole[:MAX_JSON_CHARS]}{note}"


def in_terminal(args: list[str], columns: int) -> str:
    """Run pipetrace with stdout on a pseudo-terminal `columns` wide; its output, styles removed."""
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=subprocess.PIPE,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(parent)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("columns", [60, 100])
def test_a_narrow_terminal_keeps_script_status_and_message(tmp_path: Path, columns: int) -> None:
    reason = "the tier service answered 503 twice"
    db, trace_id, folder = record(tmp_path, {"email": "a@example.com", "reason": reason})
    message = f"explode.lua:3: {reason}"
    shown = in_terminal(["show", trace_id, "--db", db], columns)
    replayed = in_terminal(["replay", trace_id, "--pipelines", str(folder), "--db", db], columns)
    listed = in_terminal(["traces", "--db", db], columns)
    table = shown[shown.index("span ") : shown.index("\ninput:")]
    scripts = replayed[replayed.index("scripts") : replayed.index("\nidentical")]
    for output in (table, scripts, listed):
        assert all(cell_len(line) <= columns for line in output.splitlines()), output
    assert re.search(r"^  explode +(1 +)?error ", table, re.M), table
    assert re.search(r"^  enrich +(0 +)?success", table, re.M), table
    assert message in joined(table)
    assert re.search(r"^explode +same +error -> error ", scripts, re.M), scripts
    assert message in joined(scripts)
    assert re.search(rf"^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d  {trace_id[:12]}  error  ", listed, re.M)


def test_a_huge_trace_shows_its_first_spans_and_json_has_them_all(tmp_path: Path) -> None:
    """show prints the first SHOWN_SPANS spans and how to get the rest; --all and --json (read
    and written a batch at a time) have every span."""
    db = str(tmp_path / "huge.db")
    trace_id = f"{7:032x}"
    repo = open_store(db)
    repo.save_traces([synthetic_trace(trace_id, SHOWN_SPANS + 234, BASE_NS)])
    repo.close()
    runner = CliRunner(env={"COLUMNS": "200"})
    shown = runner.invoke(main, ["show", trace_id, "--db", db])
    assert shown.exit_code == 0, shown.output
    assert "… 234 more spans not shown: show --all prints every span" in shown.stdout
    every = runner.invoke(main, ["show", trace_id, "--all", "--db", db])
    assert every.exit_code == 0 and "more spans not shown" not in every.stdout
    assert len(every.stdout.splitlines()) > len(shown.stdout.splitlines()) + 200
    body = runner.invoke(main, ["show", trace_id, "--json", "--db", db])
    spans = json.loads(body.stdout)["spans"]
    assert len(spans) == SHOWN_SPANS + 234 == len({(s["span_id"], s["started_at"]) for s in spans})
    assert [s["started_at"] for s in spans] == sorted(s["started_at"] for s in spans)
