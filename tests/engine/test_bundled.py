"""The bundled pipelines behave as engine/bundled.py documents."""

from __future__ import annotations

import pytest

from pipetrace.engine import Engine, bundled_pipelines_dir

GOOD = {"email": "ana@example.com", "ip": "81.2.69.160", "country": "DE", "attempts_last_hour": 1}


@pytest.fixture(scope="module")
def engine():
    with Engine.load(bundled_pipelines_dir()) as built:
        yield built


@pytest.mark.parametrize(
    ("change", "allowed", "error"),
    [
        ({}, True, None),
        ({"email": "x@mailinator.com"}, False, "disposable email addresses are not accepted"),
        ({"ip": "203.0.113.9"}, False, "requests from this address are blocked"),
        ({"attempts_last_hour": 25}, False, "too many attempts, try again later"),
        ({"country": "KP"}, False, "signups from KP are not available"),
        ({"country": "T1", "attempts_last_hour": 12}, False, "risk score 90 is too high"),
        ({"email": 42}, True, None),
        ({"attempts_last_hour": "12"}, True, None),
        ({"stress": "loop"}, True, None),
    ],
)
def test_before_signup(engine, change, allowed, error):
    outcome = engine.execute_trigger("before_signup", {**GOOD, **change})
    assert (outcome.allowed, outcome.error) == (allowed, error)


def test_signin_deny_list_fails_closed(engine):
    outcome = engine.execute_trigger("before_signin", {"ip": 5})
    assert not outcome.allowed and "ip must be a string" in outcome.error


def test_token_build_enriches(engine):
    outcome = engine.execute_trigger("token_build", {"roles": ["Admin"], "plan": "pro"})
    assert outcome.data == {
        "roles": ["admin", "user"],
        "tier": "premium",
        "email_verified": False,
        "scope": "admin:read admin:write profile email",
    }


def test_after_signup_is_async(engine):
    outcome = engine.execute_trigger("after_signup", {"email": "a@b.c"})
    assert outcome.allowed and outcome.data == {}
    assert engine.flush()
