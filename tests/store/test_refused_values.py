"""A value the database cannot hold is the store's one-line error on both backends, never the
driver's own OverflowError or UnicodeEncodeError (which the viewer would take for a bug)."""

from __future__ import annotations

import re

import pytest
from factories import make_trace

from pipetrace.store import Repository, StoreError, TraceFilter


@pytest.mark.parametrize(
    "filters",
    [
        TraceFilter(started_from=-(2**64)),
        TraceFilter(text="a\ud800b"),
        TraceFilter(user_id="\udcff"),
    ],
    ids=["int beyond 64 bits", "lone surrogate in text", "lone surrogate in user"],
)
def test_a_filter_value_the_database_cannot_take_is_a_store_error(
    repo: Repository, filters: TraceFilter
) -> None:
    with pytest.raises(StoreError, match=re.escape(repo.url)):
        repo.list_traces(filters)


def test_a_row_value_the_database_cannot_take_is_a_store_error(repo: Repository) -> None:
    with pytest.raises(StoreError, match=re.escape(repo.url)):
        repo.save_traces([make_trace(1, started_at=2**64)])
    assert repo.count_traces() == 0
