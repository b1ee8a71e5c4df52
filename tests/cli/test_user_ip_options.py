"""`--user` and `--ip` on `traces` and `export` list exactly one user's or IP's traces."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from factories import make_trace

from pipetrace.app.cli import main
from pipetrace.store import open_store

USERS = ("user-01", "user-010", "user-0199")
IPS = ("203.0.113.9", "203.0.113.90", "198.51.100.7")


@pytest.fixture
def filled(store_url: str) -> str:
    """A store whose users and IPs are prefixes of one another."""
    repo = open_store(store_url)
    try:
        repo.save_traces(
            [
                make_trace(
                    n,
                    user_id=USERS[n % 3],
                    request_ip=IPS[n % 2 + (n % 5 == 0)],
                    status="blocked" if n % 4 == 0 else "success",
                )
                for n in range(1, 41)
            ]
        )
    finally:
        repo.close()
    return store_url


def _listed(url: str, *args: str) -> dict:
    result = CliRunner().invoke(main, ["traces", *args, "--limit", "100", "--db", url, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_user_is_exact_where_search_matches_any_part(filled: str) -> None:
    exact = _listed(filled, "--user", "user-01")
    assert {t["user_id"] for t in exact["traces"]} == {"user-01"}
    assert exact["total"] == len(exact["traces"]) == 13
    searched = _listed(filled, "--search", "user-01")
    assert {t["user_id"] for t in searched["traces"]} == set(USERS)


def test_ip_and_network_combine_with_the_other_filters(filled: str) -> None:
    exact = _listed(filled, "--ip", "203.0.113.9", "--status", "blocked")
    assert exact["traces"], "some blocked traces from the IP"
    assert {(t["request_ip"], t["status"]) for t in exact["traces"]} == {("203.0.113.9", "blocked")}
    assert exact["total"] == len(exact["traces"])
    network = _listed(filled, "--ip", "203.0.113.0/24", "--user", "user-010")
    assert {t["request_ip"] for t in network["traces"]} == {"203.0.113.9", "203.0.113.90"}
    assert {t["user_id"] for t in network["traces"]} == {"user-010"}
    small = _listed(filled, "--ip", "203.0.113.0/28")
    assert {t["request_ip"] for t in small["traces"]} == {"203.0.113.9"}
    assert small["total"] == _listed(filled, "--ip", "203.0.113.9")["total"] > exact["total"]


def test_export_takes_the_same_options(filled: str) -> None:
    result = CliRunner().invoke(main, ["export", "--user", "user-0199", "--db", filled])
    assert result.exit_code == 0, result.stderr
    exported = set()
    for line in result.stdout.splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                exported |= {span["traceId"] for span in scope["spans"]}
    listed = _listed(filled, "--user", "user-0199")["traces"]
    assert exported == {t["trace_id"] for t in listed} and len(exported) == 13
    refused = CliRunner().invoke(main, ["export", "--ip", "10.0.0.0/9", "--db", filled])
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.startswith("pipetrace export: --ip: '10.0.0.0/9' is not one range")
