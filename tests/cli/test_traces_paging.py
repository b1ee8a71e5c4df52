"""`pipetrace traces --cursor`: scripts page through more traces than --limit, every one once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import BASE_NS, SEC, make_trace

from pipetrace.app.cli import main
from pipetrace.store import open_store


def fill(db: str, count: int) -> list[str]:
    """`count` traces, several started in the same nanosecond (ties the id must break), every
    third blocked; their ids newest first, as the list orders them."""
    items = [
        make_trace(
            n, status="blocked" if n % 3 == 0 else "success", started_at=BASE_NS + n // 4 * SEC
        )
        for n in range(1, count + 1)
    ]
    repo = open_store(db)
    repo.save_traces(items)
    repo.close()
    ordered = sorted(items, key=lambda i: (i.trace.started_at, i.trace.id), reverse=True)
    return [i.trace.id for i in ordered]


def page_through(db: str, *args: str) -> tuple[list[str], int]:
    """Every trace id the listing pages give, in order, and how many pages it took."""
    ids: list[str] = []
    cursor: list[str] = []
    pages = 0
    while True:
        result = CliRunner().invoke(main, ["traces", *args, *cursor, "--db", db, "--json"])
        assert result.exit_code == 0, result.output
        body = json.loads(result.stdout)
        ids += [t["trace_id"] for t in body["traces"]]
        pages += 1
        if body["next_cursor"] is None:
            return ids, pages
        cursor = ["--cursor", body["next_cursor"]]


def test_cursor_pages_return_every_trace_once_in_order(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    newest_first = fill(db, 83)
    ids, pages = page_through(db, "--limit", "10")
    assert ids == newest_first and pages == 9
    blocked = [i for i in newest_first if int(i, 16) % 3 == 0]
    ids, pages = page_through(db, "--status", "blocked", "--since", "2026-01-01", "--limit", "4")
    assert ids == blocked and pages == 7


def test_the_text_list_names_its_next_page(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    newest_first = fill(db, 5)
    first = CliRunner().invoke(main, ["traces", "--limit", "3", "--db", db])
    assert first.exit_code == 0, first.output
    hint = first.stdout.splitlines()[-1]
    assert hint.startswith("next page: --cursor ")
    rest = CliRunner().invoke(
        main, ["traces", "--limit", "3", "--cursor", hint[20:], "--db", db, "--json"]
    )
    assert rest.exit_code == 0, rest.output
    body = json.loads(rest.stdout)
    assert [t["trace_id"] for t in body["traces"]] == newest_first[3:]
    assert body["next_cursor"] is None


def next_cursor(db: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["traces", "--limit", "2", *args, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["next_cursor"]


@pytest.mark.parametrize(
    ("cursor", "fragment"),
    [
        ("", "'' is not a cursor"),
        ("garbage", "'garbage' is not a cursor"),
        ("1780000000000000000:" + "0" * 32, "is not a cursor"),
        ("newest:17x0:" + "0" * 32, "is not a cursor"),
        ("newest:1780000000000000000:" + "G" * 32, "is not a cursor"),
        ("newest:1780000000000000000:" + "0" * 31, "is not a cursor"),
        ("newest: 1780000000000000000:" + "0" * 32, "is not a cursor"),
        ("newest:١٢٣:" + "0" * 32, "is not a cursor"),
        pytest.param("newest:9" * 200, "is too long to be a cursor", id="1600-chars"),
        ("newest:99999999999999999999:" + "0" * 32, "is not a cursor"),
        (
            "newest:9223372036854775808:" + "0" * 32,
            "start time 9223372036854775808 is out of range",
        ),
        ("oldest:1780000000000000000:" + "0" * 32, "belongs to the 'oldest' order"),
        ("newest:1780000000000000000:" + "0" * 32, "other filters"),
        ("newest:1780000000000000000:" + "0" * 32 + ":00000000", "other filters"),
        ("\x1b[2J", "'\\x1b[2J' is not a cursor"),
    ],
)
def test_a_bad_cursor_is_one_line(tmp_path: Path, cursor: str, fragment: str) -> None:
    db = str(tmp_path / "t.db")
    fill(db, 3)
    result = CliRunner().invoke(main, ["traces", "--cursor", cursor, "--db", db, "--json"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipetrace: --cursor: ") and fragment in lines[0]
    assert "\x1b" not in result.stderr and result.stdout == ""


def test_a_cursor_only_continues_the_filters_that_printed_it(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    fill(db, 12)
    since = ["--since", "2026-01-01"]
    blocked = next_cursor(db, "--status", "blocked", *since)
    same = ["--status", "blocked", *since, "--cursor", blocked]
    result = CliRunner().invoke(main, ["traces", *same, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["traces"]) == 2
    others = (["--status", "error", *since], ["--status", "blocked"], [], since)
    narrower = (["--user", "u-1"], ["--ip", "203.0.113.9"])
    for other in (*others, ["--status", "blocked", "--since", "2026-01-02"]):
        result = CliRunner().invoke(main, ["traces", *other, "--cursor", blocked, "--db", db])
        assert result.exit_code == 2
        assert result.stderr.startswith("pipetrace: --cursor: it continues a listing with other")
    for other in narrower:
        result = CliRunner().invoke(main, ["traces", *same, *other, "--db", db])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("pipetrace: --cursor: it continues a listing with other")
        assert "--search, --user and --ip as the command" in result.stderr
    unfiltered = next_cursor(db)
    result = CliRunner().invoke(main, ["traces", "--cursor", unfiltered, "--db", db, "--json"])
    assert result.exit_code == 0, result.output


def test_a_cursor_continues_an_age_as_typed_and_a_bound_however_written(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    fill(db, 5)
    age = ["--since", "20000d", "--min-ms", "0"]
    cursor = next_cursor(db, *age)  # the next command resolves 20000d to a later instant
    same = ["traces", *age[:3], "0.0", "--cursor", cursor, "--db", db, "--json"]
    result = CliRunner().invoke(main, same)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["traces"]) == 3


def test_help_says_how_to_page(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["traces", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--cursor TOKEN" in text and "next_cursor" in text and "same filters" in text
