"""Finding traces by a typed id on both backends, with the real samples' zero-padded ids."""

from __future__ import annotations

import pytest
from interop.interop_data import SAMPLES

from pipetrace.store import Repository, Statement, TraceFilter
from pipetrace.store.interop import import_file
from pipetrace.store.repository import id_lookup
from pipetrace.store.trace_ids import lookup_prefixes, significant_id

YELP = "0000000000000000a03ee8fff1dcd9b9"
"""yelp.json's Zipkin 64-bit id a03ee8fff1dcd9b9, as stored."""
CONVERSION_2 = "00000000000000010000000000000000"
CONVERSION_3 = "00000000000000020000000000000000"
"""otel_traces_01.json's two 128-bit ids whose first 15 digits are zeros."""
SPEC = "5b8efff798038103d269b633813fc60c"
"""trace.json's id."""


@pytest.fixture
def samples(repo: Repository) -> Repository:
    """A store holding every single-trace-per-id sample file."""
    for name in ("yelp.json", "otel_traces_01.json", "trace.json", "otlp2jaeger-in.json"):
        import_file(repo, SAMPLES / name)
    return repo


@pytest.mark.parametrize(
    "typed",
    ["a03ee8", "a03ee8fff1dcd9b9", "A03EE8FFF1DC", "0000000000000000a03e", YELP],
)
def test_a_zipkin_id_is_found_as_zipkin_prints_it(samples: Repository, typed: str) -> None:
    assert samples.find_trace_ids(typed, limit=5) == [YELP]


def test_a_jaeger_id_typed_without_its_leading_zeros_is_found(samples: Repository) -> None:
    """Jaeger prints 0000000000000001 0000000000000000 as 10000000000000000."""
    assert samples.find_trace_ids("10000000000000000", limit=5) == [CONVERSION_2]
    assert samples.find_trace_ids("1000000000000000", limit=5) == []


def test_a_prefix_of_zeros_finds_each_id_once_sorted_within_the_limit(
    samples: Repository,
) -> None:
    """'000000000000' begins all three padded ids and, behind the padding, the Zipkin one."""
    assert samples.find_trace_ids("000000000000", limit=6) == [YELP, CONVERSION_2, CONVERSION_3]
    assert samples.find_trace_ids("000000000000", limit=2) == [YELP, CONVERSION_2]
    assert samples.find_trace_ids("5b8e", limit=6) == [SPEC]
    assert samples.find_trace_ids("b9", limit=6) == []


def test_every_meaning_of_a_prefix_is_an_index_range(samples: Repository) -> None:
    """The lookup reads the id index once per meaning, each read stopping at the limit (an OR
    of the ranges is one MULTI-INDEX OR read that takes every id in them), never the table."""
    for typed in ("a03ee8", "10000000000000000", YELP):
        stmt = id_lookup(typed, 6)
        plan = samples.backend.query(Statement("EXPLAIN QUERY PLAN " + stmt.sql, stmt.params))
        steps = [str(row[-1]) for row in plan]
        reads = [s for s in steps if "pipeline_traces" in s]
        assert len(reads) == len(lookup_prefixes(typed)), steps
        assert all(s.startswith("SEARCH") and "INDEX" in s for s in reads), steps
        assert not any("MULTI-INDEX OR" in s for s in steps), steps


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a03ee8", [YELP]),
        ("A03EE8FFF1DCD9B9", [YELP]),
        ("0000000000000000a03ee8", [YELP]),
        ("a03ee8fff1dcd9b9a", []),
        ("0000000000000002", [CONVERSION_3]),
    ],
)
def test_search_matches_the_unpadded_id(samples: Repository, text: str, found: list[str]) -> None:
    assert [r.id for r in samples.list_traces(TraceFilter(text=text)).rows] == found
    assert samples.count_traces(TraceFilter(text=text)) == len(found)


def test_significant_id() -> None:
    assert significant_id(YELP) == "a03ee8fff1dcd9b9"
    assert significant_id(CONVERSION_2) == CONVERSION_2
    assert significant_id("0" * 16) == "0" * 16
