"""``arbiter db backup`` and ``arbiter db restore``: a restored backup is the database as
it was, its audit chain verifies, a damaged or altered backup is refused before anything
is touched, and the database being replaced is kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from arbiter.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _lifecycle_events(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT COUNT(*) FROM audit_event").fetchone()[0])
    finally:
        con.close()


def test_backup_then_restore_brings_back_the_database_and_its_verified_audit_chain(
    cli_env, tmp_path
):
    database = Path(cli_env.removeprefix("sqlite:///"))
    protocol = EXAMPLES / "webinar-vs-cold-call.toml"
    assert run("experiments", "register", protocol, "--sign", "marketing", "--sign", "sales")
    assert run("experiments", "start", "webinar-vs-cold-call").exit_code == 0
    events = _lifecycle_events(database)

    made = run("db", "backup", tmp_path / "backup.db", "--json")
    assert made.exit_code == 0, made.output
    report = json.loads(made.stdout)
    assert report["audit_verified"] and report["audit_events"] == events
    assert not list(tmp_path.glob(".*.partial"))  # written under a temporary name, renamed

    stopped = run("experiments", "stop", "webinar-vs-cold-call", "--reason", "test")  # after
    assert stopped.exit_code == 0, stopped.output
    assert _lifecycle_events(database) > events

    restored = run("db", "restore", tmp_path / "backup.db", "--json")
    assert restored.exit_code == 0, restored.output
    kept = Path(json.loads(restored.stdout)["previous_database_kept_as"])
    assert kept.exists() and _lifecycle_events(kept) > events  # nothing lost
    assert _lifecycle_events(database) == events
    status = run("experiments", "show", "webinar-vs-cold-call", "--json")
    assert json.loads(status.stdout)["status"] == "running"
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_an_altered_backup_is_refused_and_nothing_is_touched(cli_env, tmp_path):
    database = Path(cli_env.removeprefix("sqlite:///"))
    protocol = EXAMPLES / "webinar-vs-cold-call.toml"
    run("experiments", "register", protocol, "--sign", "marketing", "--sign", "sales")
    assert run("db", "backup", tmp_path / "backup.db").exit_code == 0
    con = sqlite3.connect(tmp_path / "backup.db")
    con.execute("UPDATE audit_event SET actor = 'someone else' WHERE seq = 1")
    con.commit()
    con.close()
    before = database.read_bytes()
    refused = run("db", "restore", tmp_path / "backup.db")
    assert refused.exit_code != 0 and "audit chain does not verify" in refused.output
    assert database.read_bytes() == before
    assert not list(database.parent.glob("*.before-restore-*"))


def test_a_file_that_is_not_a_backup_is_refused(cli_env, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all")
    refused = run("db", "restore", junk)
    assert refused.exit_code != 0 and "not a SQLite file" in refused.output
    missing = run("db", "restore", tmp_path / "absent.db")
    assert missing.exit_code != 0 and "does not exist" in missing.output


def test_postgresql_is_pointed_at_pg_dump(monkeypatch, tmp_path):
    from arbiter.settings import get_settings

    monkeypatch.setenv("ARBITER_DATABASE_URL", "postgresql+psycopg://u:p@localhost/x")
    get_settings.cache_clear()
    refused = run("db", "backup", tmp_path / "b.db")
    assert refused.exit_code != 0 and "pg_dump" in refused.output
