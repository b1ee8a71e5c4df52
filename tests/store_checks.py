"""Consistency checks that retention tests run against a store, from any test folder."""

from __future__ import annotations

from pipetrace.store import Repository
from pipetrace.store.sql import Statement


def orphan_spans(repo: Repository) -> int:
    """Spans whose trace no longer exists: what a half-done delete would leave behind."""
    rows = repo.backend.query(
        Statement(
            "SELECT count(*) FROM pipeline_spans "
            "WHERE trace_id NOT IN (SELECT id FROM pipeline_traces)"
        )
    )
    return int(rows[0][0])
