"""Reads from sqld go on server streams held between requests (a warm server connection each):
one is reused, one the server forgot or a connection that broke is replaced once, threads
reading at once each get their own, and a server that went away is still one line."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import running_sqld

from pipetrace.store.backends import open_backend
from pipetrace.store.backends.libsql import LibsqlBackend
from pipetrace.store.errors import StoreUnavailable
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url


def _open(url: str) -> LibsqlBackend:
    backend = open_backend(parse_database_url(url))
    assert isinstance(backend, LibsqlBackend)
    return backend


def test_reads_reuse_one_held_stream(sqld_url: str) -> None:
    backend = _open(sqld_url)
    try:
        assert backend.query(Statement("SELECT 1")) == [(1,)]
        [(conn, baton)] = backend.reads.idle
        assert baton  # the server keeps the stream (and its connection) open for the next read
        assert backend.query_many([Statement("SELECT 2"), Statement("SELECT 3")]) == [
            [(2,)],
            [(3,)],
        ]
        [(same_conn, _next_baton)] = backend.reads.idle
        assert same_conn is conn
    finally:
        backend.close()


def test_a_stream_the_server_forgot_is_replaced(sqld_url: str) -> None:
    backend = _open(sqld_url)
    try:
        backend.query(Statement("SELECT 1"))
        [(conn, _baton)] = backend.reads.idle
        backend.reads.idle = [(conn, "a baton the server never gave")]
        assert backend.query(Statement("SELECT 3")) == [(3,)]
        [(_conn, baton)] = backend.reads.idle
        assert baton and baton != "a baton the server never gave"
    finally:
        backend.close()


def test_a_broken_connection_is_replaced(sqld_url: str) -> None:
    backend = _open(sqld_url)
    try:
        backend.query(Statement("SELECT 1"))
        [(conn, _baton)] = backend.reads.idle
        assert conn.sock is not None
        conn.sock.close()
        assert backend.query(Statement("SELECT 4")) == [(4,)]
    finally:
        backend.close()


def test_threads_reading_at_once_each_get_their_answers(sqld_url: str) -> None:
    backend = _open(sqld_url)
    wrong: list[tuple[int, object]] = []

    def read(n: int) -> None:
        for i in range(20):
            value = n * 100 + i
            rows = backend.query(Statement("SELECT ?", (value,)))
            if rows != [(value,)]:
                wrong.append((value, rows))

    threads = [threading.Thread(target=read, args=(n,)) for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wrong == []
        assert 1 <= len(backend.reads.idle) <= len(threads)
    finally:
        backend.close()


def test_a_server_that_went_away_is_one_line(tmp_path: Path) -> None:
    with running_sqld(tmp_path) as url:
        backend = _open(url)
        assert backend.query(Statement("SELECT 1")) == [(1,)]
    try:
        with pytest.raises(StoreUnavailable, match="cannot connect") as caught:
            backend.query(Statement("SELECT 1"))
        assert "\n" not in str(caught.value)
    finally:
        backend.close()
