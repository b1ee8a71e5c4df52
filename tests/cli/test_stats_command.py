"""`pipetrace stats` agrees with a recount from `show --json` of every trace of a demo store, and
`traces --script S --script-status X` lists exactly the traces whose run of S ended so."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipetrace.app.cli import main
from pipetrace.store.backends import open_backend
from pipetrace.store.duration_buckets import RELATIVE_ERROR, exact_percentile
from pipetrace.store.migrate import upgrade
from pipetrace.store.url import parse_database_url

TRACES = 240
QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """A demo store and `show --json` of each of its traces, by trace id."""
    db = str(tmp_path_factory.mktemp("stats") / "demo.db")
    made = _cli("demo", "--traces", str(TRACES), "--seed", "3", "--no-open", "--db", db)
    assert made.exit_code == 0, made.output
    listed = _cli("traces", "--limit", "10000", "--replays", "include", "--json", "--db", db)
    ids = [t["trace_id"] for t in json.loads(listed.stdout)["traces"]]
    assert len(ids) == TRACES
    shown = {}
    for trace_id in ids:
        result = _cli("show", trace_id, "--json", "--db", db)
        assert result.exit_code == 0, result.stderr
        shown[trace_id] = json.loads(result.stdout)
    return db, shown


def _runs(shown: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(trace id, trigger, span) of every script's own span (no custom span) of the traffic."""
    return [
        (trace_id, body["trace"]["trigger_event"], span)
        for trace_id, body in shown.items()
        if body["trace"]["replay_of"] is None
        for span in body["spans"]
        if span["script_id"] is not None and not span["attributes"].get("custom")
    ]


def _close(estimate: float | None, exact: float | None) -> bool:
    """Whether a percentile from the buckets is within their relative error of the exact one."""
    if exact is None or estimate is None:
        return estimate == exact
    return abs(estimate - exact) <= RELATIVE_ERROR * exact + 1e-12


def test_stats_json_agrees_with_show_json_of_every_trace(demo: tuple[str, dict[str, Any]]) -> None:
    db, shown = demo
    result = _cli("stats", "--json", "--db", db)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["source"] == "rollups"

    statuses: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    limits: Counter[tuple[str, str]] = Counter()
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _trace_id, trigger, span in _runs(shown):
        key = (trigger, span["script_id"])
        statuses[key][span["status"]] += 1
        limits[key] += isinstance(span["attributes"].get("limit"), str)
        if span["status"] != "skipped" and span["duration_ms"] is not None:
            durations[key].append(span["duration_ms"])
    for body in shown.values():
        trace = body["trace"]
        if trace["replay_of"] is None:
            statuses[(trace["trigger_event"], "")][trace["status"]] += 1
            if trace["duration_ms"] is not None:
                durations[(trace["trigger_event"], "")].append(trace["duration_ms"])

    reported = {}
    for group in report["triggers"]:
        reported[(group["trigger"], "")] = group["traces"]
        for row in group["scripts"]:
            reported[(group["trigger"], row["script"])] = row
    assert set(reported) == set(statuses)
    for key, row in reported.items():
        assert row["statuses"] == dict(statuses[key]), key
        assert row["limit_hits"] == limits[key], key
        assert row["errors"] == statuses[key]["error"]
        for name, quantile in QUANTILES.items():
            assert _close(row[name], exact_percentile(durations[key], quantile)), (key, name)
    assert any(row["errors"] for row in reported.values())


def test_traces_by_script_status_lists_exactly_those_traces(
    demo: tuple[str, dict[str, Any]],
) -> None:
    db, shown = demo
    runs = _runs(shown)
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for trace_id, _trigger, span in runs:
        wanted[(span["script_id"], span["status"])].add(trace_id)
    checked = 0
    for (script, status), expected in sorted(wanted.items()):
        if status == "success" and checked:
            continue  # the common pairs page the same way; check the rarer ones
        listed: list[str] = []
        cursor: list[str] = []
        while True:
            args = ["--script", script, "--script-status", status, "--limit", "7", *cursor]
            page = json.loads(_cli("traces", *args, "--json", "--db", db).stdout)
            listed += [t["trace_id"] for t in page["traces"]]
            assert page["total"] == len(expected)
            if page["next_cursor"] is None:
                break
            cursor = ["--cursor", page["next_cursor"]]
        assert len(listed) == len(set(listed)) and set(listed) == expected, (script, status)
        starts = [shown[t]["trace"]["started_at"] for t in listed]
        assert starts == sorted(starts, reverse=True)
        checked += 1
    assert checked >= 3


def test_the_list_names_the_script_that_blocked(demo: tuple[str, dict[str, Any]]) -> None:
    db, shown = demo
    blocked = next(
        (trace_id, span["script_id"])
        for trace_id, _trigger, span in _runs(shown)
        if span["status"] == "blocked"
    )
    listed = json.loads(_cli("traces", "--status", "blocked", "--json", "--db", db).stdout)
    by = {t["trace_id"]: t["blocked_by"] for t in listed["traces"]}
    assert by[blocked[0]] == blocked[1]
    header = _cli("show", blocked[0], "--db", db).stdout.splitlines()[:4]
    assert f"blocked by {blocked[1]}" in header


def test_script_options_are_refused_in_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "old.db")
    for args, says in (
        (["traces", "--script-status", "error"], "--script-status: names a script's runs"),
        (["traces", "--script", "s", "--script-version", "xyz"], "is not a script version"),
        (["stats", "--script", ""], "the script id is empty"),
        (["stats", "--sort", "speed"], "'speed' is not one of"),
    ):
        result = _cli(*args, "--db", db)
        assert result.exit_code == 2, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], (args, lines)
    backend = open_backend(parse_database_url(db))
    upgrade(backend, "0005")
    backend.close()
    for args in (["stats"], ["traces", "--script", "risk_scorer"]):
        result = _cli(*args, "--db", db)
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "run pipetrace db upgrade" in lines[0], lines
