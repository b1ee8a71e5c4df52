"""Settings: read once from flags and the environment, a flag winning; nothing writes os.environ."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_trace

from pipetrace.app.cli import main
from pipetrace.app.settings import Settings, SettingsError
from pipetrace.store import DatabaseTarget, open_store, parse_database_url


def _store_with(path: Path, count: int) -> str:
    """A store at `path` holding `count` traces, so a listing says which store it read."""
    repo = open_store(str(path))
    try:
        repo.save_traces([make_trace(n) for n in range(1, count + 1)])
    finally:
        repo.close()
    return str(path)


def _listed(args: list[str], env: dict[str, str] | None = None) -> int:
    result = CliRunner(env=env).invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["total"]


def test_defaults_without_flags_or_variables() -> None:
    settings = Settings.read({})
    assert settings.db_url is None and settings.db_auth_token is None
    assert settings.db_timeout == 15.0 and settings.demo_timeout == 15.0
    assert settings.cron_secret == "" and settings.debug is False
    default = Path(os.environ["XDG_DATA_HOME"]) / "pipetrace" / "traces.db"
    assert settings.store() == DatabaseTarget("sqlite", str(default), is_default=True)


def test_the_environment_fills_every_setting() -> None:
    settings = Settings.read(
        {
            "PIPETRACE_DB": "http://127.0.0.1:9",
            "PIPETRACE_DB_AUTH_TOKEN": "tok",
            "PIPETRACE_DB_TIMEOUT": " 2.5 ",
            "PIPETRACE_DEMO_TIMEOUT": "3",
            "CRON_SECRET": "s" * 40,
            "PIPETRACE_DEBUG": "1",
        }
    )
    assert settings.store() == DatabaseTarget("libsql", "http://127.0.0.1:9", "tok", 2.5)
    assert (settings.demo_timeout, settings.cron_secret, settings.debug) == (3.0, "s" * 40, True)
    assert "tok" not in repr(settings) and "s" * 40 not in repr(settings)
    assert "tok" not in repr(settings.store())


def test_a_flag_wins_over_its_variable_and_a_command_s_flag_over_the_group_s() -> None:
    environ = {"PIPETRACE_DB": "env.db"}
    assert Settings.read(environ).db_url == "env.db"
    group = Settings.read(environ, db_url="group.db")
    assert group.db_url == "group.db"
    assert group.with_db(None) is group
    assert group.with_db("sub.db").db_url == "sub.db"
    assert Settings.read({"PIPETRACE_DB": ""}).db_url == "", "an empty variable is refused later"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PIPETRACE_DB_TIMEOUT", "soon", "PIPETRACE_DB_TIMEOUT='soon': expected a number"),
        ("PIPETRACE_DB_TIMEOUT", "0", "PIPETRACE_DB_TIMEOUT='0': expected a number"),
        ("PIPETRACE_DEMO_TIMEOUT", "inf", "PIPETRACE_DEMO_TIMEOUT='inf': expected a number"),
        ("PIPETRACE_DEBUG", "maybe", "PIPETRACE_DEBUG='maybe': expected 1 (on) or 0 (off)"),
    ],
)
def test_an_unusable_variable_is_refused_naming_it(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError, match="^" + re.escape(expected)):
        Settings.read({name: value})


@pytest.mark.parametrize(("value", "on"), [("0", False), ("off", False), ("TRUE", True)])
def test_debug_reads_on_and_off(value: str, on: bool) -> None:
    assert Settings.read({"PIPETRACE_DEBUG": value}).debug is on


def test_a_bad_variable_is_one_line_from_every_command(tmp_path: Path) -> None:
    result = CliRunner(env={"PIPETRACE_DEBUG": "maybe"}).invoke(
        main, ["traces", "--db", str(tmp_path / "t.db")]
    )
    assert result.exit_code == 2
    assert result.stderr == "pipetrace: PIPETRACE_DEBUG='maybe': expected 1 (on) or 0 (off)\n"


def test_the_store_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Token and timeout reach the store only as arguments, never from its own reading."""
    monkeypatch.setenv("PIPETRACE_DB_AUTH_TOKEN", "from-env")
    monkeypatch.setenv("PIPETRACE_DB_TIMEOUT", "1")
    target = parse_database_url("http://127.0.0.1:9")
    assert (target.auth_token, target.timeout) == (None, 15.0)


def test_the_cli_picks_the_store_by_precedence(tmp_path: Path) -> None:
    env_db = _store_with(tmp_path / "env.db", 1)
    group_db = _store_with(tmp_path / "group.db", 2)
    sub_db = _store_with(tmp_path / "sub.db", 3)
    environ = {"PIPETRACE_DB": env_db}
    assert _listed(["traces"], environ) == 1
    assert _listed(["--db", group_db, "traces"], environ) == 2
    assert _listed(["--db", group_db, "traces", "--db", sub_db], environ) == 3
    assert _listed(["traces", "--db", sub_db], environ) == 3


def test_no_command_writes_the_environment(tmp_path: Path) -> None:
    """`--db` before the command once reached it through os.environ; now through the settings."""
    db = _store_with(tmp_path / "t.db", 1)
    before = dict(os.environ)
    assert _listed(["--db", db, "traces"]) == 1
    result = CliRunner().invoke(main, ["--db", db, "run", "before_signup", "--json"])
    assert result.exit_code == 0, result.stderr
    assert dict(os.environ) == before
