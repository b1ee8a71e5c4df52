"""Exact user and IP filters and IPv4 networks, on both backends, and the indexes they read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from factories import BASE_NS, SEC, make_trace

from pipetrace.store import Cursor, Repository, TraceFilter
from pipetrace.store.ipv4 import NetworkText, network_text
from pipetrace.store.sql import Statement

USERS = ("user-01", "user-010", "user-0199", "USER-01", None)
IPS = ("10.0.0.1", "10.0.0.10", "10.0.0.200", "10.1.0.1", "100.0.0.1", "2001:db8::1", None)


def _fill(repo: Repository, count: int = 70) -> list:
    """Traces cycling through USERS, IPS and the statuses, a second apart."""
    statuses = ("success", "blocked", "error")
    items = [
        make_trace(
            n,
            user_id=USERS[n % len(USERS)],
            request_ip=IPS[n % len(IPS)],
            status=statuses[n % 3],
            spans=1,
        )
        for n in range(1, count + 1)
    ]
    repo.save_traces(items)
    return [item.trace for item in items]


def _ids(rows: list, keep: Callable[[object], bool]) -> list[str]:
    """Ids of the rows `keep` accepts, newest first."""
    chosen = sorted((r for r in rows if keep(r)), key=lambda r: (r.started_at, r.id), reverse=True)
    return [r.id for r in chosen]


def _all_pages(repo: Repository, f: TraceFilter, size: int) -> list[str]:
    """Every matching id, page by page through the cursors."""
    got: list[str] = []
    cursor: Cursor | None = None
    while True:
        page = repo.list_traces(f, limit=size, cursor=cursor)
        got += [r.id for r in page.rows]
        if page.next_cursor is None:
            return got
        cursor = page.next_cursor


def test_user_filter_is_exact_where_search_is_a_substring(repo: Repository) -> None:
    rows = _fill(repo)
    exact = TraceFilter(user_id="user-01")
    wanted = _ids(rows, lambda r: r.user_id == "user-01")
    assert len(wanted) == 14
    assert _all_pages(repo, exact, size=3) == wanted
    assert repo.count_traces(exact) == 14
    searched = repo.list_traces(TraceFilter(text="user-01"), limit=1000).rows
    assert {r.user_id for r in searched} == {"user-01", "user-010", "user-0199", "USER-01"}
    assert repo.count_traces(TraceFilter(user_id="user-0")) == 0
    assert repo.count_traces(TraceFilter(user_id="USER-01")) == 14


def test_ip_filter_is_exact_text(repo: Repository) -> None:
    rows = _fill(repo)
    for ip in ("10.0.0.1", "2001:db8::1"):
        f = TraceFilter(request_ip=ip)
        wanted = _ids(rows, lambda r, ip=ip: r.request_ip == ip)
        assert wanted and _all_pages(repo, f, size=4) == wanted
        assert repo.count_traces(f) == len(wanted)
    assert repo.count_traces(TraceFilter(request_ip="10.0.0")) == 0


def test_user_and_ip_combine_with_every_other_filter(repo: Repository) -> None:
    rows = _fill(repo, count=140)
    f = TraceFilter(
        user_id="user-010",
        request_ip="10.0.0.10",
        statuses=("success", "error"),
        triggers=("before_signup",),
        started_from=BASE_NS + 20 * SEC,
        started_until=BASE_NS + 130 * SEC,
        min_duration_ms=1.0,
    )
    wanted = _ids(
        rows,
        lambda r: (
            r.user_id == "user-010"
            and r.request_ip == "10.0.0.10"
            and r.status in ("success", "error")
            and BASE_NS + 20 * SEC <= r.started_at < BASE_NS + 130 * SEC
        ),
    )
    assert len(wanted) >= 2
    assert _all_pages(repo, f, size=1) == wanted
    assert repo.count_traces(f) == len(wanted)
    newest = repo.list_traces(f, limit=1).rows[0]
    older = Cursor(newest.started_at, newest.id)
    assert [r.id for r in repo.list_newer(f, older)] == []
    newer = _ids(
        rows,
        lambda r: r.user_id == "user-010" and (r.started_at, r.id) > (newest.started_at, newest.id),
    )
    assert (
        newer and [r.id for r in repo.list_newer(TraceFilter(user_id="user-010"), older)] == newer
    )


def test_user_filter_narrows_the_plot(repo: Repository) -> None:
    rows = _fill(repo)
    points = repo.duration_points(TraceFilter(user_id="user-0199"), slices=4).points
    wanted = sorted(r.started_at for r in rows if r.user_id == "user-0199")
    assert sorted(p[0] for p in points) == wanted


@pytest.mark.parametrize(
    ("network", "inside"),
    [
        ("10.0.0.0/8", {"10.0.0.1", "10.0.0.10", "10.0.0.200", "10.1.0.1"}),
        ("10.0.0.0/16", {"10.0.0.1", "10.0.0.10", "10.0.0.200"}),
        ("10.0.0.99/24", {"10.0.0.1", "10.0.0.10", "10.0.0.200"}),
        ("10.0.0.0/25", {"10.0.0.1", "10.0.0.10"}),
        ("10.0.0.8/30", {"10.0.0.10"}),
        ("10.0.0.1/32", {"10.0.0.1"}),
        ("100.0.0.0/8", {"100.0.0.1"}),
        ("11.0.0.0/8", set()),
    ],
)
def test_ipv4_networks(repo: Repository, network: str, inside: set[str]) -> None:
    rows = _fill(repo)
    f = TraceFilter(ip_network=network)
    wanted = _ids(rows, lambda r: r.request_ip in inside)
    assert _all_pages(repo, f, size=5) == wanted
    assert repo.count_traces(f) == len(wanted)
    both = TraceFilter(ip_network=network, statuses=("blocked",), user_id="user-010")
    assert _all_pages(repo, both, size=2) == _ids(
        rows, lambda r: r.request_ip in inside and r.status == "blocked" and r.user_id == "user-010"
    )


def test_network_texts() -> None:
    assert network_text("10.1.2.3/16") == NetworkText(prefix="10.1.")
    assert network_text("10.1.2.0/30") == NetworkText(
        prefix="10.1.2.", addresses=("10.1.2.0", "10.1.2.1", "10.1.2.2", "10.1.2.3")
    )
    assert len(network_text("10.1.2.128/25").addresses) == 128
    assert network_text("10.1.2.3/32") == NetworkText(addresses=("10.1.2.3",))
    for bad in ("10.0.0.0/12", "0.0.0.0/0", "10.0.0.0/7", "2001:db8::/32", "10.0.0.0/33", "ten"):
        with pytest.raises(ValueError, match=bad.replace(".", r"\.")):
            network_text(bad)


# -- the indexes these filters read ---------------------------------------------------------


def _plans(repo: Repository, monkeypatch: pytest.MonkeyPatch, f: TraceFilter) -> list[str]:
    """SQLite's plan of every read the list (first, later and earlier page), count and plot
    make."""
    sent: list[Statement] = []
    query, query_many = repo.backend.query, repo.backend.query_many

    def recording(statement: Statement) -> list[tuple]:
        sent.append(statement)
        return query(statement)

    def recording_many(statements: list[Statement]) -> list[list[tuple]]:
        sent.extend(statements)
        return query_many(statements)

    monkeypatch.setattr(repo.backend, "query", recording)
    monkeypatch.setattr(repo.backend, "query_many", recording_many)
    page = repo.list_traces(f, limit=2)
    assert page.next_cursor is not None, "the plan of a later page is checked too"
    repo.list_traces(f, limit=2, cursor=page.next_cursor)
    repo.list_newer(f, page.next_cursor, limit=2)
    repo.count_traces(f)
    repo.duration_points(f, slices=3)
    monkeypatch.undo()
    plans = []
    for statement in sent:
        explained = query(Statement("EXPLAIN QUERY PLAN " + statement.sql, statement.params))
        plans.append(" | ".join(str(row[-1]) for row in explained))
    return plans


@pytest.mark.parametrize(
    ("f", "index"),
    [
        (TraceFilter(user_id="user-7"), "ix_pipeline_traces_user_started (user_id=?"),
        (TraceFilter(request_ip="10.1.2.3"), "ix_pipeline_traces_ip_started (request_ip=?"),
        (TraceFilter(ip_network="10.1.0.0/16"), "ix_pipeline_traces_ip_started (request_ip>?"),
        (TraceFilter(ip_network="10.0.0.0/25"), "ix_pipeline_traces_ip_started (request_ip"),
    ],
    ids=["user", "ip", "network", "small-network"],
)
@pytest.mark.parametrize("analyzed", [False, True], ids=["fresh", "analyzed"])
def test_filters_read_their_index_never_the_whole_table(
    repo: Repository, monkeypatch: pytest.MonkeyPatch, f: TraceFilter, index: str, analyzed: bool
) -> None:
    # A store as traffic makes it: many users and IPs, a few traces each.
    repo.save_traces(
        [
            make_trace(n, user_id=f"user-{n % 300}", request_ip=f"10.{n % 3}.{n % 7}.{n % 11}")
            for n in range(1, 1501)
        ]
    )
    if analyzed:
        repo.analyze()
    plans = _plans(repo, monkeypatch, f)
    list_first, list_later, list_earlier, count = plans[:4]
    for plan in (list_first, list_later, list_earlier, count):
        assert index in plan, plan
    for plan in plans:
        assert "SCAN pipeline_traces" not in plan, plan
    if f.user_id or f.request_ip:
        # The start time is in the index: a page is read in order, never sorted.
        for plan in (list_first, list_later, list_earlier):
            assert "TEMP B-TREE" not in plan, plan
