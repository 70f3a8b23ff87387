"""``arbiter audit verify``: prove the hash chain of the audit log."""

from __future__ import annotations

import typer

from arbiter.commands.common import JSON_OPTION, emit_json, engine, handled

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
@handled
def verify(as_json: bool = JSON_OPTION) -> None:
    """Recompute the chain; name every edited, deleted, inserted or reordered event."""
    from sqlmodel import select

    from arbiter import audit
    from arbiter.db import read_session
    from arbiter.tables import DecisionRecord

    with read_session(engine()) as session:
        anchors = list(session.scalars(select(DecisionRecord.audit_head)))
        report = audit.verify(session, anchors=anchors)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "events": report.events,
                "head": report.head_hash,
                "problems": report.problems,
            }
        )
    else:
        typer.echo(
            f"{report.events} events, head {report.head_hash}: "
            + ("the chain is intact" if report.ok else "THE CHAIN IS BROKEN")
        )
        for problem in report.problems:
            typer.echo(f"  - {problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)
