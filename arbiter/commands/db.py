"""``arbiter db …``: create or upgrade the schema, and show where it stands."""

from __future__ import annotations

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
