"""`db upgrade` never migrates an auther database: it says so and leaves the file as it was."""

from __future__ import annotations

import hashlib

from auther_samples import AutherStore
from click.testing import CliRunner

from pipetrace.app.cli import main


def test_db_upgrade_refuses_an_auther_database(auther_file: AutherStore) -> None:
    assert auther_file.path is not None
    before = hashlib.sha256(auther_file.path.read_bytes()).hexdigest()
    for args in (["db", "upgrade"], ["db", "upgrade", "--dry-run"]):
        result = CliRunner().invoke(main, [*args, "--db", auther_file.url])
        assert result.exit_code == 2, result.output
        assert "pipetrace reads an auther database in place and never migrates it" in result.stderr
    assert hashlib.sha256(auther_file.path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in auther_file.path.parent.iterdir()) == ["auther.db"]
