"""``arbiter keys create|revoke|list``: API keys for the committee, teams, analysts and
ingestion."""

from __future__ import annotations

import typer

from arbiter.commands.common import JSON_OPTION, actor, emit_json, engine, handled, table

app = typer.Typer(help="API keys: create (shown once), revoke, list.", no_args_is_help=True)


@app.command("create")
@handled
def create(
    role: str = typer.Option(..., "--role", help="committee | team | analyst | ingest"),
    party: str | None = typer.Option(None, "--party", help="The party a team key speaks for."),
    name: str | None = typer.Option(None, "--name", help="A label (default: role and party)."),
    as_json: bool = JSON_OPTION,
    bare: bool = typer.Option(
        False, "--bare", help="Print the key alone (for KEY=$(arbiter keys create ...))."
    ),
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    from arbiter.db import write_session
    from arbiter.keys import create_key

    with write_session(engine()) as session:
        row, key = create_key(
            session,
            name=name or f"{role}{f'-{party}' if party else ''}",
            role=role,
            party=party,
            actor=actor(),
        )
    if as_json:
        emit_json(
            {
                "id": row.id,
                "name": row.name,
                "role": row.role,
                "party": row.party,
                "prefix": row.prefix,
                "key": key,
            }
        )
        return
    if bare:
        typer.echo(key)
        return
    typer.echo(f"key {row.id} ({row.role}{f', {row.party}' if row.party else ''}): {key}")
    typer.echo("Store it now: it is shown once and only its hash is kept.", err=True)


@app.command("revoke")
@handled
def revoke(key: str = typer.Argument(..., help="The key's id or prefix.")) -> None:
    """Revoke a key (it stops working within 10 seconds on running servers)."""
    from arbiter.db import write_session
    from arbiter.keys import revoke_key

    with write_session(engine()) as session:
        row = revoke_key(session, key=key, actor=actor())
    typer.echo(f"key {row.id} ({row.name}) revoked")


@app.command("list")
@handled
def list_command(as_json: bool = JSON_OPTION) -> None:
    """Every key, never the secrets."""
    from arbiter.db import read_session
    from arbiter.keys import list_keys

    with read_session(engine()) as session:
        rows = list_keys(session)
    data = [
        {
            "id": r.id,
            "name": r.name,
            "role": r.role,
            "party": r.party,
            "prefix": r.prefix,
            "created": r.created_at,
            "revoked": r.revoked_at,
        }
        for r in rows
    ]
    if as_json:
        emit_json(data)
        return
    typer.echo(
        table(
            ["id", "name", "role", "party", "prefix", "revoked"],
            [
                (
                    d["id"],
                    d["name"],
                    d["role"],
                    d["party"] or "",
                    d["prefix"],
                    "yes" if d["revoked"] else "",
                )
                for d in data
            ],
        )
    )
