"""`pipetrace traces` and `show` read what the repository holds, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import BASE_NS, SEC, make_trace

from app.cli import main
from store import TraceFilter, open_store


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


def test_the_group_db_option_reaches_sub_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "group.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1)])
    repo.close()
    monkeypatch.setenv("PIPETRACE_DB", "")  # restored after the test, which the group changes
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
        (["--min-ms", "nan"], "--min-ms: nan is not a number"),
        (["--min-ms", "inf"], "--min-ms: inf is not a number"),
        (["--max-ms", "-inf"], "--max-ms: -inf is not a number"),
        pytest.param(
            ["--search", "x" * 100_000], "--search: 100000 characters is too long", id="search-100k"
        ),
    ],
)
def test_bad_filters_are_one_line_naming_the_option(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    db = str(tmp_path / "t.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1)])
    repo.close()
    result = CliRunner().invoke(main, ["traces", *args, "--db", db])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]


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
