"""A demo fill that resumes an interrupted one stores what one uninterrupted fill stores."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

from click.testing import CliRunner

from pipetrace.app.cli import main
from pipetrace.app.commands.engine_cmds import seed_trace_ids

SEED, COUNT, KEPT = 5, 300, 140
MEASURED = {"pk", "created_at", "ended_at", "duration_ms"}
"""Columns that are not facts of the seed: row numbers and the run's clock readings."""
LOOP_LIMIT = re.compile(
    r"deadline exceeded \(\d+ ms\)|instruction budget exceeded \(\d+\)|memory limit exceeded"
)
RACING = {"deadline_ms", "instruction_budget", "max_memory"}
"""A script in a busy loop stops at its deadline or its instruction budget, and one filling
memory at the memory cap or its deadline (32 MiB take 15 to 90 ms to fill), whichever a loaded
machine reaches first, having run as many instructions as it managed by then; everything else
a trace holds follows from the seed."""


def demo(db: Path) -> str:
    result = CliRunner().invoke(
        main, ["demo", "--traces", str(COUNT), "--seed", str(SEED), "--no-open", "--db", str(db)]
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def contents(db: Path) -> tuple[list[dict], list[dict]]:
    """Every stored trace and span, ordered, without the columns that are clock readings (a
    span's start is its trace's start plus a measured offset)."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        traces = conn.execute("SELECT * FROM pipeline_traces ORDER BY id").fetchall()
        spans = conn.execute("SELECT * FROM pipeline_spans ORDER BY trace_id, pk").fetchall()
    return (
        [_facts(row, MEASURED) for row in traces],
        [_facts(row, MEASURED | {"started_at"}) for row in spans],
    )


def _facts(row: sqlite3.Row, skip: set[str]) -> dict:
    facts = {key: row[key] for key in row.keys() if key not in skip}  # noqa: SIM118 - a Row
    if facts["status_message"]:
        facts["status_message"] = LOOP_LIMIT.sub("<loop limit>", facts["status_message"])
    attributes = json.loads(facts["attributes"] or "null")
    if isinstance(attributes, dict) and attributes.get("limit") in RACING:
        attributes.update(dict.fromkeys(("limit", "lua.error", "instructions.min"), "<loop limit>"))
    facts["attributes"] = attributes
    return facts


def test_a_resumed_fill_stores_the_traces_spans_and_ids_of_one_uninterrupted_fill(
    tmp_path: Path,
) -> None:
    whole, resumed = tmp_path / "whole.db", tmp_path / "resumed.db"
    demo(whole)
    with sqlite3.connect(whole) as source, sqlite3.connect(resumed) as copy:
        source.backup(copy)
    trace_ids = seed_trace_ids(SEED, COUNT)
    # What an interrupted fill leaves: its first traces, here less one the store refused.
    lost = [(i,) for i in [*trace_ids[KEPT:], trace_ids[KEPT // 2]]]
    with sqlite3.connect(resumed) as conn:
        conn.executemany("DELETE FROM pipeline_spans WHERE trace_id = ?", lost)
        conn.executemany("DELETE FROM pipeline_traces WHERE id = ?", lost)

    out = demo(resumed)

    assert f"stored {len(lost)} demo traces ({COUNT - len(lost)} already there)" in out
    traces, spans = contents(whole)
    assert contents(resumed) == (traces, spans)
    assert len(traces) == COUNT and len(spans) > 3 * COUNT
    assert {t["trigger_event"] for t in traces} >= {"before_signup", "after_signup", "token_build"}


def test_a_fill_of_more_traces_over_a_smaller_one_back_dates_nothing_into_the_future(
    tmp_path: Path,
) -> None:
    db = tmp_path / "t.db"
    args = ["demo", "--seed", "4", "--no-open", "--db", str(db)]
    assert CliRunner().invoke(main, [*args, "--traces", "40"]).exit_code == 0
    # Seed 4's oldest request of 80 is 29 hours older than its oldest of 40, so reading the
    # first fill's moment back from that trace would put the newest traces in the future.
    result = CliRunner().invoke(main, [*args, "--traces", "80"])

    assert result.exit_code == 0, result.stderr
    assert "stored 40 demo traces (40 already there)" in result.stdout
    with sqlite3.connect(db) as conn:
        (newest,) = conn.execute("SELECT max(started_at) FROM pipeline_traces").fetchone()
    assert newest <= time.time_ns()
