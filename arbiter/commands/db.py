"""``arbiter db …``: create or upgrade the schema, show where it stands, and back the
embedded SQLite database up or restore it (:mod:`arbiter.backup`)."""

from __future__ import annotations

from pathlib import Path

import typer

from arbiter.commands.common import JSON_OPTION, emit_json, handled

app = typer.Typer(help="Database schema and maintenance.", no_args_is_help=True)


@app.command("upgrade")
@handled
def upgrade() -> None:
    """Create the schema, or upgrade it to the revision this Arbiter needs."""
    from arbiter.db import create_db_engine, upgrade_schema

    before, after = upgrade_schema(create_db_engine())
    if before == after:
        typer.echo(f"schema already at revision {after}")
    else:
        typer.echo(f"schema upgraded from {before or 'empty'} to revision {after}")


@app.command("status")
@handled
def status(as_json: bool = JSON_OPTION) -> None:
    """Show the schema revision of the database and the one the code needs."""
    from arbiter.db import create_db_engine, schema_revisions

    current, head = schema_revisions(create_db_engine())
    if as_json:
        emit_json({"current": current, "required": head, "up_to_date": current == head})
    else:
        typer.echo(f"database at {current or 'no schema'}; code needs {head}")


@app.command("backup")
@handled
def backup_command(file: Path, as_json: bool = JSON_OPTION) -> None:
    """Write a consistent, checked copy of the SQLite database to FILE (safe while the
    server runs). For PostgreSQL use pg_dump (docs/reliability.md)."""
    from arbiter.backup import backup
    from arbiter.settings import get_settings

    checked = backup(get_settings().database_url, file)
    _report("backup written", checked, as_json)


@app.command("restore")
@handled
def restore_command(file: Path, as_json: bool = JSON_OPTION) -> None:
    """Replace the SQLite database by the backup FILE, after checking its integrity,
    schema and audit chain; the current database is kept beside it. Stop the server
    first."""
    from arbiter.backup import restore
    from arbiter.settings import get_settings

    checked, kept = restore(get_settings().database_url, file)
    _report("database restored", checked, as_json, kept)


def _report(what: str, checked, as_json: bool, kept: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    document = {
        "file": str(checked.path),
        "bytes": checked.bytes,
        "schema_revision": checked.revision,
        "audit_events": checked.audit_events,
        "audit_head": checked.audit_head,
        "audit_verified": True,
    }
    if kept is not None:
        document["previous_database_kept_as"] = str(kept)
    if as_json:
        emit_json(document)
        return
    typer.echo(
        f"{what}: {checked.path} ({checked.bytes:,} bytes, schema {checked.revision}, "
        f"{checked.audit_events:,} audit events verified, head {checked.audit_head})"
    )
    if kept is not None:
        typer.echo(f"the previous database is kept as {kept}")
