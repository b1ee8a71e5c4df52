"""Zipkin and Jaeger ids from the command line, on both backends: typed as those tools print
them, listed so that no two traces look alike, and every listed id resolves with `show`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli.test_show_output import in_terminal
from click.testing import CliRunner
from interop.interop_data import SAMPLES

from pipetrace.app.cli import main

YELP = "0000000000000000a03ee8fff1dcd9b9"
"""yelp.json's Zipkin 64-bit id a03ee8fff1dcd9b9, as stored."""
PADDED = {
    YELP,
    "00000000000000010000000000000000",
    "00000000000000020000000000000000",
}
"""The stored ids of the samples that begin with twelve zeros (yelp, otel_traces_01)."""
FILES = ("yelp.json", "otel_traces_01.json", "trace.json", "otlp2jaeger-in.json")


def run(*args: str) -> tuple[int, str, str]:
    """pipetrace with `args`: exit code, stdout, stderr."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(store_url: str) -> str:
    """A store on each backend holding the samples with zero-padded ids and two others."""
    code, _, err = run("import", "--db", store_url, *(str(SAMPLES / f) for f in FILES))
    assert code == 0, err
    return store_url


def listed_ids(output: str) -> list[str]:
    """The trace id column of `traces` output."""
    return re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (\S+)  ", output, re.M)


@pytest.mark.parametrize("typed", ["a03ee8", "a03ee8fff1dcd9b9", "A03EE8FFF1DC"])
def test_show_export_and_replay_take_the_id_as_zipkin_prints_it(db: str, typed: str) -> None:
    code, out, err = run("show", typed, "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["trace"]["trace_id"] == YELP
    code, out, err = run("export", "--db", db, "--trace", typed)
    assert code == 0, err
    assert json.loads(out)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] == YELP
    code, _, err = run("replay", typed, "--db", db)
    assert code == 2
    assert err.startswith(f"pipetrace: trace {YELP} was imported (zipkin); ")


def test_traces_lists_distinct_ids_that_each_resolve_with_show(db: str) -> None:
    code, out, err = run("traces", "--db", db)
    assert code == 0, err
    shown = listed_ids(out)
    assert len(shown) == 5 == len(set(shown))
    assert "a03ee8fff1dc" in shown
    assert not any(s.startswith("000000000000") and len(s) <= 12 for s in shown), shown
    resolved = set()
    for short in shown:
        code, body, err = run("show", short, "--db", db, "--json")
        assert code == 0, (short, err)
        resolved.add(json.loads(body)["trace"]["trace_id"])
    assert len(resolved) == 5 and resolved >= PADDED


def test_a_narrow_terminal_never_cuts_a_listed_id(db: str) -> None:
    """At 60 columns the id column keeps the longest short id whole."""
    out = in_terminal(["traces", "--db", db], 60)
    shown = listed_ids(out)
    assert len(shown) == 5 == len(set(shown)), out
    assert not any("…" in s for s in shown), out


def test_an_ambiguous_prefix_lists_its_candidates(db: str) -> None:
    code, out, err = run("show", "000000000000", "--db", db)
    assert code == 2 and out == ""
    assert err == (
        f"pipetrace: trace id prefix '000000000000' is ambiguous in {db}: it may mean "
        f"{', '.join(sorted(PADDED))}\n"
    )


def test_more_candidates_than_listed_end_with_an_ellipsis_and_a_whole_id_wins(
    tmp_path: Path,
) -> None:
    """Seven 64-bit ids 1…7, and otel_traces_01's 0000000000000001 0000000000000000, which
    0000000000000001 (the whole 64-bit id 1, as Zipkin prints it) also begins."""
    db = str(tmp_path / "many.db")
    assert run("import", "--db", db, str(SAMPLES / "otel_traces_01.json"))[0] == 0
    lines = [
        json.dumps([{"traceId": f"{n:016x}", "id": f"{n:016x}", "name": "op", "timestamp": 1}])
        for n in range(1, 8)
    ]
    for n, line in enumerate(lines):
        (tmp_path / f"z{n}.json").write_text(line)
        assert run("import", "--db", db, str(tmp_path / f"z{n}.json"))[0] == 0
    code, _, err = run("show", "00000000000000", "--db", db)
    assert code == 2
    listed = err.split("it may mean ", 1)[1].strip()
    assert listed == ", ".join(f"{n:032x}" for n in range(1, 6)) + ", …"
    code, out, err = run("show", "0000000000000001", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["trace"]["trace_id"] == f"{1:032x}"
    code, out, err = run("traces", "--db", db)
    shown = listed_ids(out)
    assert len(shown) == 9 == len(set(shown)) and "0000000000000001" in shown, out
    for short in shown:
        assert run("show", short, "--db", db)[0] == 0, short


def test_a_jaeger_id_without_leading_zeros_resolves(db: str) -> None:
    """Jaeger prints 0000000000000001 0000000000000000 as 10000000000000000."""
    code, out, err = run("show", "10000000000000000", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["trace"]["trace_id"] == "00000000000000010000000000000000"


@pytest.mark.parametrize("text", ["a03ee8", "A03EE8FFF1DCD9B9", "0000000000000000a03"])
def test_search_matches_the_unpadded_id(db: str, text: str) -> None:
    code, out, err = run("traces", "--search", text, "--db", db, "--json")
    assert code == 0, err
    assert [t["trace_id"] for t in json.loads(out)["traces"]] == [YELP]


def test_an_id_typed_without_its_leading_zeros_resolves(tmp_path: Path) -> None:
    """Jaeger prints 0…0227 as 227: show, export --trace and replay find it, even where other
    traces begin with 227 (a whole id wins over the ids it begins)."""
    db = str(tmp_path / "short.db")
    spans = [
        {"traceId": trace_id, "id": "1", "name": "op", "timestamp": 1}
        for trace_id in ("227", "227abc", "2270000000000000aaaa")
    ]
    (tmp_path / "z.json").write_text(json.dumps(spans))
    code, _, err = run("import", "--db", db, str(tmp_path / "z.json"))
    assert code == 0, err
    whole = "227".rjust(32, "0")
    code, out, err = run("show", "227", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["trace"]["trace_id"] == whole
    code, out, err = run("export", "--db", db, "--trace", "227")
    assert code == 0, err
    assert json.loads(out)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] == whole
    code, _, err = run("replay", "227", "--db", db)
    assert code == 2 and err.startswith(f"pipetrace: trace {whole} was imported (zipkin); ")
