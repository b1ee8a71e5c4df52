"""Replays are not traffic: left out of lists, counts and exports unless asked, on both
backends, after a migration too; `--no-store` writes nothing; `pipelines init` copies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner, Result
from factories import BASE_NS, BLOCKED_SIGNUP, make_trace

from pipetrace.app.cli import main
from pipetrace.app.engine_sink import recording_engine
from pipetrace.engine import bundled_pipelines_dir
from pipetrace.store import Repository, TraceFilter, open_store
from pipetrace.store.migrate import upgrade
from pipetrace.store.schema import HOUR_NS
from pipetrace.store.sql import Statement


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def record_blocked(repo: Repository) -> str:
    with recording_engine(repo) as (engine, _):
        outcome = engine.execute_trigger("before_signup", BLOCKED_SIGNUP, {"user_id": "u-7"})
    return outcome.trace_id


def listing(url: str, *extra: str) -> dict:
    result = cli("traces", "--db", url, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_stored_replay_changes_no_count_and_is_listed_only_when_asked(store_url: str) -> None:
    repo = open_store(store_url)
    try:
        original = record_blocked(repo)
        before = (repo.count_traces(), repo.count_traces(TraceFilter(statuses=("blocked",))))
        plotted = repo.duration_points(TraceFilter())
    finally:
        repo.close()

    replayed = cli("replay", original, "--db", store_url, "--json")
    assert replayed.exit_code == 0, replayed.output
    diff = json.loads(replayed.output)
    assert diff["stored"] is True

    repo = open_store(store_url)
    try:
        assert repo.count_traces() == before[0]
        assert repo.count_traces(TraceFilter(statuses=("blocked",))) == before[1]
        assert repo.duration_points(TraceFilter()).points == plotted.points
        assert repo.count_traces(TraceFilter(replays="only")) == 1
        assert repo.count_traces(TraceFilter(replays="include")) == before[0] + 1
    finally:
        repo.close()
    default = listing(store_url)
    assert default["total"] == before[0]
    assert [t["trace_id"] for t in default["traces"]] == [original]
    only = listing(store_url, "--replays", "only")
    assert [(t["trace_id"], t["replay_of"]) for t in only["traces"]] == [
        (diff["replay_id"], original)
    ]
    assert listing(store_url, "--replays", "include")["total"] == before[0] + 1
    table = cli("traces", "--db", store_url, "--replays", "include")
    assert table.output.count(" replay") == 1


def test_export_leaves_replays_out_unless_asked(sqlite_repo: Repository, tmp_path: Path) -> None:
    url = sqlite_repo.url
    original = record_blocked(sqlite_repo)
    assert cli("replay", original, "--db", url).exit_code == 0
    for choice, expected in (("exclude", 1), ("include", 2), ("only", 1)):
        out = tmp_path / f"{choice}.json"
        result = cli("export", "--db", url, "--replays", choice, "-o", str(out))
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert text.count('"pipeline.trace.replay_of"') == (0 if choice == "exclude" else 1)
        documents = [json.loads(line) for line in text.splitlines()]
        assert len({s["traceId"] for d in documents for s in _spans(d)}) == expected


def _spans(document: dict) -> list[dict]:
    return [
        span
        for resource in document["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def test_no_store_leaves_the_store_byte_for_byte_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    repo = open_store(str(path))
    try:
        original = record_blocked(repo)
    finally:
        repo.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    result = cli("replay", original, "--db", str(path), "--no-store")

    assert result.exit_code == 0, result.output
    assert "(not stored)" in result.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_replay_help_says_what_is_stored_and_where_the_bundled_set_is() -> None:
    text = " ".join(cli("replay", "--help").output.split())
    assert "stored as a new trace marked as a replay" in text
    assert "--no-store" in text
    for command in (("replay",), ("run",), ()):
        shown = "".join(cli(*command, "--help").output.split())
        assert "".join(str(bundled_pipelines_dir()).split()) in shown


def test_migration_makes_stored_replays_not_traffic(tmp_path: Path) -> None:
    path = tmp_path / "at0003.db"
    repo = open_store(str(path), migrate=False)
    try:
        upgrade(repo.backend, "0003")
        first = make_trace(1, status="blocked")
        again = make_trace(2, status="blocked", started_at=first.trace.started_at + 1)
        again.trace.replay_of = first.trace.id
        repo.save_traces([first, again, make_trace(3)])
        hours = TraceFilter(started_from=BASE_NS - HOUR_NS, started_until=BASE_NS + 3 * HOUR_NS)
        assert repo.count_traces(TraceFilter(replays="include")) == 3
        upgrade(repo.backend)
        assert repo.count_traces() == 2
        assert repo.count_traces(hours) == 2  # the hourly counts were rebuilt without it
        assert repo.count_traces(TraceFilter(statuses=("blocked",))) == 1
        assert repo.count_traces(TraceFilter(replays="only")) == 1
        raw = repo.backend.query(Statement("SELECT sum(n) FROM pipeline_trace_counts"))
        assert raw[0][0] == 2
        repo.save_traces([_replay_of(4, first.trace.id)])
        assert repo.count_traces(hours) == 2
        repo.backend.write([Statement("UPDATE pipeline_traces SET replay_of = NULL")])
        assert repo.count_traces(hours) == 4  # a trace that stops being a replay counts again
    finally:
        repo.close()


def _replay_of(n: int, original: str):  # type: ignore[no-untyped-def]
    item = make_trace(n)
    item.trace.replay_of = original
    return item


def test_pipelines_init_copies_the_bundled_set_and_refuses_a_full_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    result = cli("pipelines", "init", str(folder))
    assert result.exit_code == 0, result.output
    bundled = bundled_pipelines_dir()
    names = sorted(p.name for p in bundled.iterdir() if p.is_file())
    assert sorted(p.name for p in folder.iterdir()) == names
    for name in names:
        assert (folder / name).read_bytes() == (bundled / name).read_bytes()
    again = CliRunner().invoke(main, ["pipelines", "init", str(folder)])
    assert again.exit_code == 2
    assert again.output.strip().count("\n") == 0 and "not empty" in again.output
