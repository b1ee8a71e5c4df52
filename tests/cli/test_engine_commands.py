"""`pipetrace run` and `pipetrace demo` through the real engine into the real store."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_trace

from pipetrace.app.cli import main
from pipetrace.app.commands.engine_cmds import seed_trace_ids
from pipetrace.store import open_store

ROOT = Path(__file__).resolve().parents[2]
SIGNUP = {"email": "ana@mailinator.com", "password": "hunter2", "ip": "81.2.69.160"}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_blocks_and_stores_a_redacted_trace(store_url: str) -> None:
    code, out, _ = invoke(
        "run", "before_signup", "--input", json.dumps(SIGNUP), "--user", "u-1", "--ip",
        "81.2.69.160", "--db", store_url, "--json",
    )  # fmt: skip
    assert code == 0
    outcome = json.loads(out)
    assert outcome["allowed"] is False
    assert "disposable" in outcome["error"]

    code, out, _ = invoke("show", outcome["trace_id"], "--db", store_url, "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["trace"]["status"] == "blocked"
    assert shown["trace"]["user_id"] == "u-1"
    assert shown["trace"]["context_snapshot"]["password"] == "[REDACTED]"
    assert "hunter2" not in out
    scripts = {s["script_id"]: s for s in shown["spans"] if s["script_id"]}
    assert scripts["disposable_email"]["status"] == "blocked"
    assert scripts["risk_scorer"]["status"] == "skipped"


def test_run_allows_and_prints_the_decision(tmp_path: Path) -> None:
    payload = tmp_path / "in.json"
    payload.write_text(json.dumps({**SIGNUP, "email": "ana@example.com", "country": "DE"}))
    code, out, _ = invoke(
        "run", "before_signup", "--input", f"@{payload}", "--db", str(tmp_path / "t.db")
    )
    assert code == 0
    assert out.splitlines()[0] == "before_signup: allowed"
    assert "trace " in out


def test_run_rejects_bad_input_in_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    for args, needle in [
        (["--input", "{nope"], "--input:1:2: not valid JSON"),
        (["--input", "[1, 2]"], "must be a JSON object"),
        (["--input", "@/no/such/file.json"], "/no/such/file.json: cannot read"),
    ]:
        code, _, err = invoke("run", "before_signup", *args, "--db", db)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    code, _, err = invoke("run", "no_such_trigger", "--db", db)
    assert code == 2 and "no trigger 'no_such_trigger'" in err


def test_run_takes_only_a_user_and_an_ip_that_traces_can_find_again(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    for args, line in [
        (["--ip", "not an ip"], "pipetrace run: --ip: 'not an ip' is not an IP address"),
        (["--ip", "10.0.0.0/8"], "pipetrace run: --ip: '10.0.0.0/8' is a network; a request comes"),
        (["--user", ""], "pipetrace run: --user: the user id is empty"),
    ]:
        code, out, err = invoke("run", "before_signup", *args, "--db", db)
        assert (code, out) == (2, "") and err.startswith(line), err
        assert len(err.strip().splitlines()) == 1
    assert not Path(db).exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param(b"\xff\xfe{\x00}\x00", "not UTF-8 text (byte 0xff at offset 0)", id="utf16"),
        pytest.param(b"\x89PNG\r\n\x1a\n", "not UTF-8 text (byte 0x89", id="binary"),
        pytest.param(
            b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}", "nested too deeply", id="3000-deep"
        ),
        pytest.param(
            b'{"a": ' + b"9" * 5000 + b"}", "a number of 5000 digits is too long", id="int-5000"
        ),
        (b'{"a": NaN}', "NaN is not JSON"),
        (b'{"a": -Infinity}', "-Infinity is not JSON"),
        (b'{"a": 1e999}', "the number 1e999 is too large"),
        (b'{"email": "\\ud800"}', "the string '\\ud800' is not valid Unicode (it holds U+D800"),
    ],
)
def test_run_refuses_input_json_cannot_carry_in_one_line(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    payload = tmp_path / "in.json"
    payload.write_bytes(content)
    db = tmp_path / "t.db"
    arguments = [(f"@{payload}", f"--input {payload}: ")]
    if not needle.startswith("not UTF-8"):
        arguments.append((content.decode(), "--input: "))
    for argument, where in arguments:
        code, out, err = invoke("run", "before_signup", "--input", argument, "--db", str(db))
        lines = err.strip().splitlines()
        assert (code, out) == (2, ""), err
        assert len(lines) == 1 and where + needle in lines[0], lines
    assert not db.exists()


def test_run_that_cannot_store_its_trace_says_so_after_the_decision(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert invoke("run", "before_signup", "--db", str(db))[0] == 0
    with sqlite3.connect(db) as conn:  # a store that opens but refuses every new trace
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON pipeline_traces "
            "BEGIN SELECT RAISE(ABORT, 'writes refused'); END"
        )
    for extra in ([], ["--json"]):
        code, out, err = invoke("run", "before_signup", "--db", str(db), *extra)
        assert code == 2
        assert "allowed" in out
        lines = err.strip().splitlines()
        assert len(lines) == 1
        assert "before_signup ran (allowed=True) but its trace" in lines[0]
        assert "was not stored" in lines[0] and "writes refused" in lines[0]
    assert len(_summary(db)) == 1


def _closed_port_url(tmp_path: Path) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _newer_store(tmp_path: Path) -> str:
    db = tmp_path / "newer.db"
    open_store(str(db)).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    return str(db)


def _not_a_database(tmp_path: Path) -> str:
    path = tmp_path / "notes.db"
    path.write_text("not a database\n")
    return str(path)


@pytest.mark.parametrize(
    ("make_store", "cause"),
    [
        pytest.param(_closed_port_url, "cannot connect", id="server-down"),
        pytest.param(_newer_store, "newer than this pipetrace", id="newer-schema"),
        pytest.param(_not_a_database, "not a SQLite database", id="not-a-database"),
        pytest.param(lambda tmp: str(tmp / "typo" / "x.db"), "does not exist", id="no-folder"),
    ],
)
def test_run_prints_the_decision_when_the_store_cannot_be_opened(
    tmp_path: Path, make_store, cause: str
) -> None:
    db = make_store(tmp_path)
    signup = json.dumps(SIGNUP)
    code, out, err = invoke("run", "before_signup", "--input", signup, "--db", db)
    assert code == 2
    assert (
        out.splitlines()[0] == "before_signup: blocked: disposable email addresses are not accepted"
    )
    assert "pipetrace show" not in out
    [line] = err.splitlines()
    assert line.startswith("pipetrace: before_signup ran (allowed=False) but its trace ")
    assert "was not stored: " in line and cause in line, line

    code, out, err = invoke(
        "run", "token_build", "--input", '{"roles": "admin"}', "--db", db, "--json"
    )
    assert code == 2
    outcome = json.loads(out)
    assert outcome["allowed"] is True and len(outcome["trace_id"]) == 32
    [line] = err.splitlines()
    assert f"its trace {outcome['trace_id']} was not stored: " in line and cause in line, line
    assert not (tmp_path / "typo").exists()


def test_run_shows_a_script_error_without_a_store(tmp_path: Path) -> None:
    db = _closed_port_url(tmp_path)
    code, out, _ = invoke("run", "token_build", "--input", '{"roles": "admin"}', "--db", db)
    assert code == 2
    assert "script error: claims_enricher: claims_enricher.lua:" in out


def test_run_refuses_bad_input_before_it_runs_even_without_a_store(tmp_path: Path) -> None:
    down = _closed_port_url(tmp_path)
    for args, needle in [
        (["before_signup", "--input", "{nope", "--db", down], "--input:1:2: not valid JSON"),
        (["no_such_trigger", "--db", down], "no trigger 'no_such_trigger'"),
        (["x", "--pipelines", str(tmp_path), "--db", down], "pipelines.toml: not found in"),
        (["before_signup", "--db", "postgres://db/x"], "unsupported database URL scheme"),
    ]:
        code, out, err = invoke("run", *args)
        assert (code, out) == (2, ""), out
        [line] = err.splitlines()
        assert needle in line and "ran" not in line, line


def test_run_reports_a_broken_pipelines_folder(tmp_path: Path) -> None:
    folder = tmp_path / "pipes"
    folder.mkdir()
    (folder / "pipelines.toml").write_text('[triggers.x]\nmode = "blocking"\n[[scripts]]\nid = 1\n')
    code, _, err = invoke("run", "x", "--pipelines", str(folder), "--db", str(tmp_path / "t.db"))
    assert code == 2
    assert "pipelines.toml" in err and len(err.strip().splitlines()) == 1


def _summary(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, trigger_event, status, allowed, span_count FROM pipeline_traces ORDER BY id"
        ).fetchall()


def test_demo_same_seed_same_traces_and_idempotent(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for db in (first, second):
        code, out, err = invoke(
            "demo", "--traces", "120", "--seed", "3", "--no-open", "--db", str(db)
        )
        assert code == 0, err
        assert "stored 120 demo traces" in out
    assert _summary(first) == _summary(second)
    statuses = {row[2] for row in _summary(first)}
    assert {"success", "blocked"} <= statuses
    code, out, _ = invoke("demo", "--traces", "120", "--seed", "3", "--no-open", "--db", str(first))
    assert code == 0 and "already holds the 120 demo traces of seed 3" in out
    assert len(_summary(first)) == 120


def test_a_one_trace_demo_says_trace(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    code, out, err = invoke("demo", "--no-open", "--traces", "1", "--db", db)
    assert code == 0, err
    assert out.splitlines()[-1] == f"{db}: stored 1 demo trace"
    code, out, _ = invoke("demo", "--no-open", "--traces", "1", "--db", db)
    assert out.splitlines() == [f"{db}: already holds the 1 demo trace of seed 7"]


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_an_interrupted_demo_says_what_it_stored_and_how_to_finish(
    tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    db = tmp_path / "t.db"
    args = ["demo", "--traces", "100000", "--seed", "11", "--no-open", "--db", str(db)]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Ctrl-C as an interactive shell gives it: a child inherits an ignored SIGINT (which
        # Python then leaves ignored), and the test runner's may be ignored by then.
        preexec_fn=_default_sigint,
    )
    try:
        while not _stored(db):  # some traces are in: the fill is under way
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
    finally:
        process.send_signal(signum)  # the command only, as Ctrl-C's handler sees it
        _, stderr = process.communicate(timeout=120)

    assert process.returncode == status, stderr
    stored = _stored(db)
    assert stderr.decode().strip().splitlines()[-1] == (
        f"pipetrace: interrupted: stored {stored} of 100000 demo traces of seed 11 in {db}; "
        "run the same command again to add the rest"
    )


def _default_sigint() -> None:
    """In the child before it runs Python: SIGINT does what it does in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM pipeline_traces").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def test_demo_counts_what_its_writer_wrote_while_a_cleanup_deletes_them(tmp_path: Path) -> None:
    """A cleanup beside the fill deletes its back-dated traces as they come: the fill still
    wrote every one of them, and says so instead of asking to be run again."""
    db = tmp_path / "t.db"
    repo = open_store(str(db))
    deleted = [0]
    done = threading.Event()

    def clean_up() -> None:
        while not done.is_set():
            day_ago = time.time_ns() - 86_400 * 1_000_000_000
            deleted[0] += repo.cleanup_old_traces(day_ago, batch_size=50, pause=0).traces
            time.sleep(0.05)

    cleaner = threading.Thread(target=clean_up)
    cleaner.start()
    try:
        code, out, err = invoke(
            "demo", "--traces", "3000", "--seed", "3", "--no-open", "--db", str(db)
        )
    finally:
        done.set()
        cleaner.join()
        repo.close()

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"{db}: stored 3000 demo traces"
    assert deleted[0] > 0 and _stored(db) == 3000 - deleted[0]


def test_demo_counts_its_own_traces_and_says_why_some_were_not_stored(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    repo = open_store(str(db))
    repo.save_traces([make_trace(n, user_id="old") for n in range(1, 151)])
    repo.close()
    refused = seed_trace_ids(3, 120)[7]
    with sqlite3.connect(db) as conn:  # a cleanup running meanwhile, and a write refused
        old = "(SELECT min(id) FROM pipeline_traces WHERE user_id = 'old')"
        conn.execute(
            "CREATE TRIGGER cleanup AFTER INSERT ON pipeline_traces WHEN new.user_id IS NOT 'old' "
            f"BEGIN DELETE FROM pipeline_spans WHERE trace_id = {old}; "
            f"DELETE FROM pipeline_traces WHERE id = {old}; END"
        )
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON pipeline_traces WHEN new.id = '{refused}' "
            "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"
        )

    code, _out, err = invoke("demo", "--traces", "120", "--seed", "3", "--no-open", "--db", str(db))

    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert "stored 119 of 120 demo traces of seed 3" in line
    assert "1 not written" in line and "disk quota exceeded" in line
