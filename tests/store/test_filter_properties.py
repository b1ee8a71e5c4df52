"""Property tests: the repository's filters equal a plain Python filter over the same rows."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import BASE_NS, SEC, make_trace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipetrace.store import Cursor, Repository, TraceFilter, TraceRow, open_store
from pipetrace.store.sql import Statement

TRIGGERS = ("before_signup", "before_signin", "token_build")
STATUSES = ("success", "blocked", "error")
WORDS = ("deny", "list", "email", "risk", "geo", "x_y", "50%")
USERS = ("alice", "alice2", "Alice", "bob", "", None)
IPS = ("10.0.0.1", "10.0.0.10", "10.0.0.129", "10.1.0.1", "100.0.0.1", "203.0.113.9", "n/a", None)
NETWORKS = (
    "10.0.0.0/8",
    "10.0.0.0/16",
    "10.0.0.7/24",
    "10.0.0.0/25",
    "10.0.0.1/32",
    "203.0.113.0/31",
)
PADDED_ID_TEXTS = ("000000000000001", "0000000000000002", "000000000000001A")
"""Prefixes of the rows' ids (make_trace's n, zero-padded) only behind 16 zeros, as Zipkin
prints a 64-bit id."""
MINUTE = 60 * SEC
STEP = 23 * MINUTE  # rows spread over many hours, so counts use whole hours and partial edges

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(TRIGGERS),
        st.sampled_from(STATUSES),
        st.integers(0, 40),  # start step; repeats exercise the keyset tie-break
        st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 3)),
        st.sampled_from(USERS),
        st.sampled_from(IPS),
        st.one_of(
            st.none(), st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
        ),
    ),
    max_size=40,
)
DURATION_BOUND = st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 6))
"""Bounds as a person types them (to the nanosecond): sqld reads JSON floats up to one unit in
the last place off (90.99999999999999 arrives as 91.0), which no typed bound reaches."""
filter_strategy = st.builds(
    TraceFilter,
    triggers=st.lists(st.sampled_from(TRIGGERS), max_size=2, unique=True).map(tuple),
    statuses=st.lists(st.sampled_from(STATUSES), max_size=2, unique=True).map(tuple),
    started_from=st.one_of(st.none(), st.integers(-100, 1000).map(lambda m: BASE_NS + m * MINUTE)),
    started_until=st.one_of(st.none(), st.integers(-100, 1000).map(lambda m: BASE_NS + m * MINUTE)),
    min_duration_ms=st.one_of(st.none(), DURATION_BOUND),
    max_duration_ms=st.one_of(st.none(), DURATION_BOUND),
    text=st.one_of(
        st.none(),
        st.sampled_from(
            (*WORDS, "ALICE", "203.0", "0000", "%", "_", "U7@EXAMPLE", *PADDED_ID_TEXTS)
        ),
    ),
    user_id=st.one_of(st.none(), st.sampled_from((*USERS[:-1], "ali"))),
    request_ip=st.one_of(st.none(), st.sampled_from((*IPS[:-1], "10.0.0"))),
    ip_network=st.one_of(st.none(), st.sampled_from(NETWORKS)),
)


@pytest.fixture(scope="module", params=["sqlite", "sqld"])
def module_repo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Repository]:
    """One store per backend for the whole module; each example empties it first."""
    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("props") / "props.db")
    else:
        from conftest import wipe_sqld

        url = request.getfixturevalue("sqld_url")
        wipe_sqld(url)
    repository = open_store(url)
    yield repository
    repository.close()


def load(repo: Repository, specs: list[tuple]) -> list[TraceRow]:
    repo.backend.write(
        [Statement("DELETE FROM pipeline_spans"), Statement("DELETE FROM pipeline_traces")]
    )
    items = []
    for n, (trigger, status, second, duration, user, ip, message) in enumerate(specs, start=1):
        items.append(
            make_trace(
                n,
                trigger=trigger,
                status=status,
                started_at=BASE_NS + second * STEP,
                duration_ms=duration,
                user_id=user,
                request_ip=ip,
                message=message,
                spans=1,
            )
        )
    repo.save_traces(items)
    return [item.trace for item in items]


def ascii_lower(text: str) -> str:
    """SQLite's LIKE folds ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def matches(row: TraceRow, f: TraceFilter) -> bool:
    """The meaning of a TraceFilter, written plainly."""
    if f.triggers and row.trigger_event not in f.triggers:
        return False
    if f.statuses and row.status not in f.statuses:
        return False
    if f.started_from is not None and row.started_at < f.started_from:
        return False
    if f.started_until is not None and row.started_at >= f.started_until:
        return False
    if f.min_duration_ms is not None and not row.duration_ms >= f.min_duration_ms:
        return False
    if f.max_duration_ms is not None and not row.duration_ms <= f.max_duration_ms:
        return False
    if f.user_id is not None and row.user_id != f.user_id:
        return False
    if f.request_ip is not None and row.request_ip != f.request_ip:
        return False
    if f.ip_network is not None and not in_network(row.request_ip, f.ip_network):
        return False
    text = (f.text or "").strip()
    if text:
        needle = ascii_lower(text)
        stored_input = json.dumps(row.context_snapshot, separators=(",", ":"))
        return (
            row.id.startswith(needle)
            or row.id.startswith("0" * 16 + needle)
            or needle in ascii_lower(row.user_id or "\0")
            or ascii_lower(row.request_ip or "\0").startswith(needle)
            or needle in ascii_lower(row.status_message or "\0")
            or ascii_lower(json.dumps(text)[1:-1]) in ascii_lower(stored_input)
        )
    return True


def in_network(ip: str | None, network: str) -> bool:
    """Whether a stored IP is an IPv4 address inside `network`."""
    if ip is None:
        return False
    try:
        return ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(network, strict=False)
    except ValueError:
        return False


def newest_first(rows: list[TraceRow]) -> list[str]:
    return [r.id for r in sorted(rows, key=lambda r: (r.started_at, r.id), reverse=True)]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=rows_strategy, f=filter_strategy, page_size=st.integers(1, 7))
def test_filters_and_pages_match_plain_python(
    module_repo: Repository, specs: list[tuple], f: TraceFilter, page_size: int
) -> None:
    rows = load(module_repo, specs)
    expected = newest_first([r for r in rows if matches(r, f)])

    got: list[str] = []
    cursor: Cursor | None = None
    while True:
        page = module_repo.list_traces(f, limit=page_size, cursor=cursor)
        assert len(page.rows) <= page_size
        got.extend(r.id for r in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert got == expected
    assert module_repo.count_traces(f) == len(expected)


def test_empty_store_has_no_pages(tmp_path: Path) -> None:
    repo = open_store(str(tmp_path / "e.db"))
    try:
        page = repo.list_traces(TraceFilter(text="anything"))
        assert page.rows == [] and page.next_cursor is None
        assert repo.count_traces() == 0 and repo.distinct_triggers() == []
    finally:
        repo.close()
