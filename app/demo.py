"""Realistic auth traffic for the demo: sign-ups, sign-ins and token builds over 30 days.

The mix follows what the bundled pipelines do (engine/bundled.py): mostly allowed requests,
disposable emails, deny-listed IPs, bursts and risky countries that get blocked, malformed
inputs that make scripts error, and now and then a request that hits a sandbox limit.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DAY_NS = 86_400 * 1_000_000_000
DOMAINS = ("example.com", "gmail.com", "proton.me", "acme.io", "fastmail.com")
DISPOSABLE = ("mailinator.com", "yopmail.com", "guerrillamail.com")
COUNTRIES = ("DE", "FR", "US", "BR", "IN", "JP", "NL", "SE", "T1", "XX")
GOOD_IPS = ("81.2.69.160", "89.160.20.112", "175.16.199.1", "216.160.83.56", "2.125.160.216")
BAD_IPS = ("203.0.113.7", "203.0.113.99", "198.51.100.66")
NAMES = ("ana", "bo", "chen", "dara", "eli", "fatma", "goran", "hana", "ivo", "june")


@dataclass(frozen=True, slots=True)
class DemoRequest:
    """One trigger call of the demo: what, with which input, by whom, and when."""

    trigger: str
    input: dict[str, Any]
    metadata: dict[str, Any]
    started_at: int


def demo_requests(count: int, seed: int, now_ns: int) -> Iterator[DemoRequest]:
    """`count` requests over the 30 days before `now_ns`, oldest first; same seed, same requests."""
    rng = random.Random(seed)
    for age in _ages(rng, count):
        started_at = now_ns - age
        user = f"user-{rng.randrange(1, 400):04d}"
        ip = rng.choice(GOOD_IPS)
        roll = rng.random()
        if roll < 0.45:
            trigger, payload, ip = "before_signup", *_signup(rng, ip)
        elif roll < 0.75:
            trigger, payload, ip = "before_signin", *_signin(rng, ip)
        elif roll < 0.9:
            trigger, payload = "token_build", _token(rng)
        else:
            trigger, payload = "after_signup", {"email": _email(rng), "plan": "free"}
        yield DemoRequest(trigger, payload, {"user_id": user, "request_ip": ip}, started_at)


def demo_age(count: int, seed: int, position: int) -> int:
    """How long before the fill's `now_ns` the request at `position` started, so a resumed fill
    can read that moment back from a trace it stored."""
    return _ages(random.Random(seed), count)[position]


def _ages(rng: random.Random, count: int) -> list[int]:
    """How long before `now_ns` each request starts, oldest first (the rng's first draws)."""
    return sorted((rng.randrange(30 * DAY_NS) for _ in range(count)), reverse=True)


def _email(rng: random.Random, domain: str | None = None) -> str:
    return f"{rng.choice(NAMES)}{rng.randrange(100)}@{domain or rng.choice(DOMAINS)}"


def _signup(rng: random.Random, ip: str) -> tuple[dict[str, Any], str]:
    """A sign-up: mostly clean, sometimes blocked, malformed or abusive."""
    data: dict[str, Any] = {
        "email": _email(rng),
        "password": f"hunter{rng.randrange(10_000)}",
        "ip": ip,
        "country": rng.choice(COUNTRIES[:8]),
        "attempts_last_hour": rng.randrange(0, 6),
    }
    roll = rng.random()
    if roll < 0.08:
        data["email"] = _email(rng, rng.choice(DISPOSABLE))
    elif roll < 0.12:
        data["ip"] = ip = rng.choice(BAD_IPS)
    elif roll < 0.15:
        data["attempts_last_hour"] = rng.randrange(21, 60)
    elif roll < 0.17:
        data["country"] = "KP"
    elif roll < 0.19:
        data["country"], data["attempts_last_hour"] = "T1", rng.randrange(11, 21)
    elif roll < 0.21:
        data["email"] = 42
    elif roll < 0.23:
        data["attempts_last_hour"] = str(data["attempts_last_hour"])
    elif roll < 0.235:
        data["stress"] = rng.choice(("loop", "memory", "pattern"))
    return data, ip


def _signin(rng: random.Random, ip: str) -> tuple[dict[str, Any], str]:
    """A sign-in: same risks, plus a token in the payload that must be redacted."""
    data, ip = _signup(rng, ip)
    if rng.random() < 0.1:
        del data["country"]
    data["session_token"] = f"tok_{rng.getrandbits(64):016x}"
    return data, ip


def _token(rng: random.Random) -> dict[str, Any]:
    """A token build: roles and plan; a few malformed role lists."""
    roles: Any = rng.sample(["reader", "writer", "admin", "billing"], rng.randrange(1, 3))
    if rng.random() < 0.04:
        roles = "admin"
    return {
        "roles": roles,
        "plan": rng.choice(("free", "free", "pro", "enterprise")),
        "email_verified": rng.random() < 0.9,
    }
