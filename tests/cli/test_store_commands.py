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


MARKUP = ("[/]", "[bold]x", "[link=https://example.com]here[/link] :thumbs_up:")


def test_stored_text_is_printed_as_it_is_never_as_markup(tmp_path: Path) -> None:
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
