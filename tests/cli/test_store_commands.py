"""`pipetrace traces` and `show` read what the repository holds, on both backends."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import BASE_NS, SEC, make_trace

from pipetrace.app.cli import main
from pipetrace.store import TraceFilter, open_store
from pipetrace.store.sql import Statement


def test_traces_filters_match_the_repository(store_url: str) -> None:
    repo = open_store(store_url)
    try:
        repo.save_traces(
            [
                make_trace(1, status="blocked", message="IP on deny list", duration_ms=4),
                make_trace(2, trigger="token_build", duration_ms=40),
                make_trace(3, status="blocked", message="disposable email", duration_ms=9),
                make_trace(4, status="error", message="risk.lua:3: boom", duration_ms=1),
            ]
        )
        since = (BASE_NS + 2 * SEC) // 1_000_000_000
        args = ["--status", "blocked", "--status", "error", "--min-ms", "2", "--search", "e"]
        result = CliRunner().invoke(
            main, ["traces", *args, "--since", f"@{since}", "--db", store_url, "--json"]
        )
        assert result.exit_code == 2 and "bad time '@" in result.stderr
        result = CliRunner().invoke(main, ["traces", *args, "--db", store_url, "--json"])
        assert result.exit_code == 0, result.stderr
        listed = json.loads(result.stdout)
        expected = repo.list_traces(
            TraceFilter(statuses=("blocked", "error"), min_duration_ms=2, text="e")
        )
        assert [t["trace_id"] for t in listed["traces"]] == [r.id for r in expected.rows]
        assert listed["total"] == 2 == len(expected.rows)

        shown = CliRunner().invoke(main, ["show", f"{3:032x}", "--db", store_url, "--json"])
        body = json.loads(shown.stdout)
        assert body["trace"]["status_message"] == "disposable email"
        assert [s["span_id"] for s in body["spans"]] == [
            s.id for s in make_trace(3, status="blocked").spans
        ]
        text = CliRunner().invoke(main, ["show", f"{3:032x}", "--db", store_url])
        assert "disposable email" in text.stdout and "script_1" in text.stdout
    finally:
        repo.close()


def test_the_group_db_option_reaches_sub_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "group.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1)])
    repo.close()
    result = CliRunner().invoke(main, ["--db", db, "traces", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total"] == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "0001-01-01"], "--since: time '0001-01-01' is out of range"),
        (["--since", "9999-12-31"], "--since: time '9999-12-31' is out of range"),
        (["--until", "0001-01-01"], "--until: time '0001-01-01' is out of range"),
        (["--since", "99999999999d"], "--since: age '99999999999d' is too large"),
        (["--until", "yesterday-ish"], "--until: bad time 'yesterday-ish'"),
        (["--min-ms", "nan"], "--min-ms: duration 'nan' is not a number of milliseconds"),
        (["--min-ms", "inf"], "--min-ms: duration 'inf' is not a number"),
        (["--max-ms", "-inf"], "--max-ms: duration '-inf' is not a number"),
        (["--max-ms", "fast"], "--max-ms: duration 'fast' is not a number"),
        (["--min-ms", "-1"], "--min-ms: duration '-1' is negative"),
        (["--max-ms", "-0.5"], "--max-ms: duration '-0.5' is negative"),
        (
            ["--min-ms", "5", "--max-ms", "1"],
            "--min-ms, --max-ms: minimum 5 ms is above maximum 1 ms",
        ),
        pytest.param(
            ["--search", "x" * 100_000], "--search: 100000 characters is too long", id="search-100k"
        ),
        (["--user", ""], "--user: the user id is empty"),
        (["--user", "u" * 1001], "--user: 1001 characters is too long (at most 1000)"),
        (["--ip", ""], "--ip: the IP is empty"),
        (["--ip", "1" * 65], "--ip: 65 characters is too long for an IP"),
        (["--ip", "10.0.0.256"], "--ip: '10.0.0.256' is not an IP address"),
        (["--ip", "user-1"], "--ip: 'user-1' is not an IP address"),
        (["--ip", "10.0.0.0/12"], "--ip: '10.0.0.0/12' is not one range of stored IP text"),
        (["--ip", "10.0.0.0/33"], "--ip: '10.0.0.0/33' is not an IPv4 network"),
        (["--ip", "2001:db8::/32"], "--ip: '2001:db8::/32' is not an IPv4 network"),
        (["--ip", "\x1b[2J"], "--ip: '\\x1b[2J' is not an IP address"),
    ],
)
def test_bad_filters_are_one_line_naming_the_option(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1)])
    repo.close()
    for command in ("traces", "export"):
        result = CliRunner().invoke(main, [command, *args, "--db", db])
        assert (result.exit_code, result.stdout) == (2, "")
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"pipetrace {command}: {fragment}"), lines


def test_equal_duration_bounds_are_a_filter(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1, duration_ms=4), make_trace(2, duration_ms=9)])
    repo.close()
    args = ["traces", "--min-ms", "4", "--max-ms", "4.0", "--db", db, "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    assert [t["trace_id"] for t in json.loads(result.stdout)["traces"]] == [f"{1:032x}"]


@pytest.mark.parametrize("trace_id", ["", "  "])
def test_show_without_an_id_asks_for_one(tmp_path: Path, trace_id: str) -> None:
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1), make_trace(2)])
    repo.close()
    result = CliRunner().invoke(main, ["show", trace_id, "--db", db])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "pipetrace: TRACE_ID is empty: give a trace id or a unique prefix of one"
    ]


MARKUP = ("[/]", "[bold]x", "[link=https://example.com]here[/link] :thumbs_up:")


def test_stored_text_is_printed_as_it_is_never_as_markup(tmp_path: Path) -> None:
    (tmp_path / "[").mkdir()  # the path holds markup, so "[" is a folder of it
    db = str(tmp_path / "[/]markup.db")
    item = make_trace(1, status="blocked", message=MARKUP[2], user_id=MARKUP[0])
    item.trace.request_ip = MARKUP[1]
    item.spans[1].name = MARKUP[1]
    repo = open_store(db)
    repo.save_traces([item])
    repo.close()
    runner = CliRunner(env={"COLUMNS": "300"})
    listed = runner.invoke(main, ["traces", "--db", db])
    assert listed.exit_code == 0, listed.output
    shown = runner.invoke(main, ["show", item.trace.id, "--db", db])
    assert shown.exit_code == 0, shown.output
    for text in MARKUP:
        assert text in listed.stdout and text in shown.stdout
    missing = runner.invoke(main, ["show", "[/]", "--db", db])
    assert missing.exit_code == 2
    assert missing.stderr == f"pipetrace: no trace '[/]' in {db}\n"


def strict_json(text: str) -> Any:
    """JSON as other tools read it: NaN and Infinity are not JSON."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_damaged_rows_are_listed_and_shown_with_their_problems(tmp_path: Path) -> None:
    db = str(tmp_path / "damaged.db")
    repo = open_store(db)
    repo.save_traces([make_trace(n) for n in range(1, 5)])
    ids = [f"{n:032x}" for n in range(1, 5)]
    deep = '{"a": ' + "[" * 2000 + "]" * 2000 + "}"
    repo.backend.write(
        [
            Statement(
                "UPDATE pipeline_traces SET user_id = ?, result_data = ? WHERE id = ?",
                (b"u-1", b'{"score": 1}', ids[0]),
            ),
            Statement(
                "UPDATE pipeline_spans SET attributes = ? WHERE trace_id = ?", (b"{", ids[0])
            ),
            Statement("UPDATE pipeline_traces SET started_at = 1.5e30 WHERE id = ?", (ids[1],)),
            Statement("UPDATE pipeline_traces SET ended_at = 1.5e30 WHERE id = ?", (ids[2],)),
            Statement(
                "UPDATE pipeline_traces SET context_snapshot = ? WHERE id = ?", (deep, ids[3])
            ),
        ]
    )
    repo.close()
    runner = CliRunner(env={"COLUMNS": "300"})
    listed = runner.invoke(main, ["traces", "--db", db])
    assert listed.exit_code == 0, listed.output
    assert all(trace_id[:12] in listed.stdout for trace_id in ids)
    as_json = runner.invoke(main, ["traces", "--db", db, "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = {t["trace_id"]: t for t in strict_json(as_json.stdout)["traces"]}
    assert rows[ids[1]]["problems"] == ["started_at out of range (1.5e+30)"]
    assert rows[ids[1]]["started"] is None and rows[ids[0]]["started"].startswith("2026-")
    assert "1970" not in listed.stdout
    assert rows[ids[2]]["problems"] == ["ended_at out of range (1.5e+30)"]
    expected = {
        ids[0]: "user_id: stored as a BLOB",
        ids[1]: "started_at out of range (1.5e+30)",
        ids[2]: "ended_at out of range (1.5e+30)",
        ids[3]: "context_snapshot: JSON nested deeper than 100 levels",
    }
    for trace_id, problem in expected.items():
        shown = runner.invoke(main, ["show", trace_id, "--db", db])
        assert shown.exit_code == 0, shown.output
        assert f"stored row problem: {problem}" in shown.stdout
        body = runner.invoke(main, ["show", trace_id, "--db", db, "--json"])
        assert body.exit_code == 0, body.output
        assert problem in strict_json(body.stdout)["trace"]["problems"]


def test_show_json_stays_json_for_stored_nan_and_lone_surrogates(tmp_path: Path) -> None:
    db = str(tmp_path / "odd.db")
    item = make_trace(1)
    item.spans[0].attributes = {"\ud800": "x\udfff"}
    repo = open_store(db)
    repo.save_traces([item])
    repo.backend.write(
        [
            Statement(
                "UPDATE pipeline_traces SET result_data = ?, duration_ms = 9e999 WHERE id = ?",
                ('{"nan": NaN, "inf": Infinity, "big": 1e999, "neg": -Infinity}', item.trace.id),
            )
        ]
    )
    repo.close()
    result = CliRunner().invoke(main, ["show", item.trace.id, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    body = strict_json(result.stdout)
    assert body["trace"]["result_data"] == {
        "nan": {"$numberDouble": "NaN"},
        "inf": {"$numberDouble": "Infinity"},
        "big": {"$numberDouble": "Infinity"},
        "neg": {"$numberDouble": "-Infinity"},
    }
    assert body["trace"]["duration_ms"] == {"$numberDouble": "Infinity"}
    assert body["trace"]["problems"] == ["duration_ms not finite (inf)"]
    assert body["spans"][0]["attributes"] == {"\ud800": "x\udfff"}
    text = CliRunner().invoke(main, ["show", item.trace.id, "--db", db])
    assert text.exit_code == 0, text.output


def test_arguments_that_are_not_utf8_are_one_line(tmp_path: Path) -> None:
    """Bytes the shell passes that are not UTF-8 arrive as lone surrogates: refused up front."""
    db = str(tmp_path / "t.db")
    open_store(db).close()
    for args in (
        ["show", "\udcff"],
        ["traces", "--search", "a\udcffb"],
        ["run", "x", "--user", "\udcff"],
    ):
        result = CliRunner().invoke(main, [*args, "--db", db])
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "is not valid UTF-8" in lines[0], result.output


def test_control_characters_in_stored_text_cannot_drive_the_terminal(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    item = make_trace(
        1, status="blocked", message="\x1b[2J\x1b]52;c;ZXZpbA==\x07 gone \x9b2J", user_id="a\rb"
    )
    repo = open_store(db)
    repo.save_traces([item])
    repo.close()
    runner = CliRunner(env={"COLUMNS": "300"})
    for args in (["traces"], ["show", item.trace.id]):
        result = runner.invoke(main, [*args, "--db", db])
        assert result.exit_code == 0, result.output
        assert not {"\x1b", "\r", "\x9b"} & set(result.stdout)
        assert "\\x1b[2J" in result.stdout and "a\\x0db" in result.stdout
        assert "\\x9b2J" in result.stdout


def test_counts_of_one_read_in_the_singular(tmp_path: Path) -> None:
    db, copy, out = str(tmp_path / "t.db"), str(tmp_path / "copy.db"), tmp_path / "one.jsonl"
    two_days_ago = time.time_ns() - 2 * 86_400 * SEC
    repo = open_store(db)
    repo.save_traces([make_trace(1, spans=1, started_at=two_days_ago)])
    repo.close()
    runner = CliRunner(env={"COLUMNS": "200"})
    listed = runner.invoke(main, ["traces", "--db", db])
    assert listed.stdout.splitlines()[0] == "1 of 1 trace"
    exported = runner.invoke(main, ["export", "--db", db, "-o", str(out)])
    assert exported.stderr.startswith("exported 1 trace (1 span) to "), exported.stderr
    imported = runner.invoke(main, ["import", "--db", copy, str(out)])
    assert imported.stdout == (
        f"{out}: otlp: added 1 trace (1 span), merged 0 spans into 0 stored traces, "
        "skipped 0 duplicate spans\n"
    )
    again = runner.invoke(main, ["import", "--db", copy, str(out)])
    assert again.stdout.endswith(", skipped 1 duplicate span\n")
    counted = runner.invoke(main, ["cleanup", "--dry-run", "--older-than", "1d", "--db", db])
    assert counted.stdout.startswith("1 trace and 1 span older than 1d (before ")
    deleted = runner.invoke(main, ["cleanup", "--yes", "--older-than", "1d", "--db", db])
    assert deleted.stdout.startswith("deleted 1 trace and 1 span older than 1d ")
