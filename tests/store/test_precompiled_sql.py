"""What the store keeps as plain copies, so reading a store needs no SQLAlchemy or Alembic, stays
what it copies: the precompiled SQL is what the builders compile to, the column names are the
tables', and the migration history read from the scripts' lines is Alembic's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from future_versions import FUTURE_REVISION, future_version

from pipetrace.store import columns, migrate, revisions, schema
from pipetrace.store.precompile import compile_table
from pipetrace.store.sql import PRECOMPILED


def test_the_precompiled_sql_is_what_the_builders_compile_now() -> None:
    shipped = {path.name: json.loads(path.read_text()) for path in PRECOMPILED.glob("*.json")}
    assert shipped == json.loads(json.dumps(compile_table())), (
        "a statement builder changed: run python -m pipetrace.store.precompile"
    )


def test_the_plain_column_names_are_the_tables() -> None:
    assert schema.traces.name == columns.TRACE_TABLE
    assert schema.spans.name == columns.SPAN_TABLE
    assert tuple(c.name for c in schema.traces.columns) == columns.TRACE_COLUMNS
    assert tuple(c.name for c in schema.spans.columns if c.name != "pk") == columns.SPAN_COLUMNS


def _alembic_history() -> list[tuple[str, str | None, bool]]:
    scripts = reversed(list(migrate.script_directory().walk_revisions()))
    return [
        (s.revision, s.down_revision, bool(getattr(s.module, "needed_to_read", True)))
        for s in scripts
    ]


@pytest.mark.parametrize("needed_to_read", [False, True])
def test_the_history_read_from_the_scripts_is_alembic_s(
    tmp_path: Path, needed_to_read: bool
) -> None:
    assert [tuple(r) for r in revisions.history()] == _alembic_history()
    with future_version(tmp_path, needed_to_read=needed_to_read):
        assert [tuple(r) for r in revisions.history()] == _alembic_history()
        assert revisions.head_revision() == FUTURE_REVISION
        assert revisions.history()[-1].needed_to_read is needed_to_read
    assert revisions.head_revision() != FUTURE_REVISION
