"""helpers.hash takes the original's algorithms, sha256 (the default) and md5, and refuses
any other in one line."""

from __future__ import annotations

import hashlib

import pytest

ONE = """
[triggers.t]
mode = "blocking"
failure = "closed"

[[scripts]]
id = "s"
trigger = "t"
file = "s.lua"
"""


@pytest.mark.parametrize(
    ("call", "digest"),
    [
        ('helpers.hash("bob")', hashlib.sha256(b"bob").hexdigest()),
        ('helpers.hash("bob", "sha256")', hashlib.sha256(b"bob").hexdigest()),
        ('helpers.hash("bob", "md5")', hashlib.md5(b"bob").hexdigest()),
        ('helpers.hash("bob", "MD5")', hashlib.md5(b"bob").hexdigest()),
        ("helpers.hash(42, 'md5')", hashlib.md5(b"42").hexdigest()),
        ('helpers.hash("", "md5")', hashlib.md5(b"").hexdigest()),
        ('helpers.hash("h\\u{e9}", "md5")', hashlib.md5("hé".encode()).hexdigest()),
    ],
)
def test_hash_honours_its_algorithm(make_engine, call, digest):
    engine = make_engine({"s.lua": f"return {{data = {{h = {call}}}}}"}, ONE)
    assert engine.execute_trigger("t", {}).data == {"h": digest}


@pytest.mark.parametrize(
    ("algorithm", "named"),
    [('"sha1"', "'sha1'"), ('"sha512"', "'sha512'"), ("5", "a number"), ("{}", "a table")],
)
def test_other_algorithms_are_refused_in_one_line(make_engine, algorithm, named):
    engine = make_engine(
        {"s.lua": f'return {{data = {{h = helpers.hash("x", {algorithm})}}}}'}, ONE
    )
    outcome = engine.execute_trigger("t", {})
    assert not outcome.allowed
    assert outcome.error == (
        f"s: s.lua:1: helpers.hash: unknown algorithm {named}; use 'sha256' or 'md5'"
    )
