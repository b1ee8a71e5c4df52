"""A trace's outline, which the database judges row by row, reads every span as a full read does:
damaged rows are marked at once, sound ones read the same when looked at."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from factories import make_trace

from pipetrace.store import Repository
from pipetrace.store.sql import Statement

DEEP = '{"a": ' + "[" * 150 + "]" * 150 + "}"
WIDE = '{"a": [' + "[1], " * 150 + "[1]]}"
"""More brackets than MAX_JSON_DEPTH but shallow: the database cannot tell, Python reads it."""
DAMAGE: list[tuple[str, Any]] = [
    ("name", b"blob name"),
    ("id", b"\xff"),
    ("parent_span_id", b"parent"),
    ("kind", ""),
    ("kind", b"INTERNAL"),
    ("status", "exploded"),
    ("status", b"success"),
    ("started_at", "soon"),
    ("started_at", 1.5),
    ("ended_at", None),
    ("ended_at", "later"),
    ("duration_ms", -1.0),
    ("duration_ms", "slow"),
    ("duration_ms", "9e999"),
    ("layer_index", "L1"),
    ("layer_index", 2.5),
    ("parallel_index", b"\x01"),
    ("script_id", b"script"),
    ("status_message", b"message"),
    ("attributes", "[1, 2"),
    ("attributes", "[1, 2]"),
    ("attributes", ' {"a": 1}'),
    ("attributes", '{"a": NaN}'),
    ("attributes", b'{"a": 1}'),
    ("attributes", DEEP),
    ("attributes", WIDE),
    ("attributes", ""),
    ("extra", "not json"),
    ("extra", DEEP),
]


@pytest.mark.parametrize(("column", "value"), DAMAGE, ids=[f"{c}={v!r:.20}" for c, v in DAMAGE])
def test_outline_reads_each_span_as_a_full_read_does(
    repo: Repository, column: str, value: Any
) -> None:
    """Whatever one span's column holds, the outline marks the spans a full read marks, and each
    span read whole from it equals the full read's."""
    item = make_trace(1, spans=4)
    repo.save_traces([item])
    span_id = item.spans[2].id
    if value == "9e999":
        change = Statement(f"UPDATE pipeline_spans SET {column} = 9e999 WHERE id = ?", (span_id,))
    else:
        change = Statement(f"UPDATE pipeline_spans SET {column} = ? WHERE id = ?", (value, span_id))
    repo.backend.write([change])
    full = repo.get_trace_with_spans(item.trace.id)
    outline = repo.get_trace_outline(item.trace.id)
    assert full is not None and outline is not None
    spans = outline.spans
    assert outline.trace == full.trace and len(spans) == len(full.spans)
    assert spans.damaged() == {i for i, s in enumerate(full.spans) if s.problems}
    for index, whole in enumerate(full.spans):
        bare = replace(spans[index], attributes={}, extra=None)
        assert bare == replace(whole, attributes={}, extra=None)
        assert spans.whole(index) == whole
