"""``arbiter leads assign ID --file leads.csv``: assign leads (or record assignments made
elsewhere) and print or write each lead's arm."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import typer

from arbiter.commands.common import JSON_OPTION, actor, emit_json, engine, handled
from arbiter.commands.imports import print_report, read_bytes
from arbiter.exports import safe_cell

app = typer.Typer(help="Assign leads to arms.", no_args_is_help=True)


@app.command("assign")
@handled
def assign(
    experiment_id: str,
    file: Path = typer.Option(..., "--file", help="CSV of leads (with optional arm, assigned_at)."),
    fmt: str = typer.Option(
        "generic", "--format", help="hubspot | salesforce | pipedrive | generic"
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the assignments here (CSV)."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding if not UTF-8."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import the leads of FILE into a running experiment and assign each one."""
    from arbiter.db import retry_locked, write_session
    from arbiter.ingest import import_lead_file

    data = read_bytes(file)

    def work():  # type: ignore[no-untyped-def]
        with write_session(engine()) as session:
            return import_lead_file(
                session,
                data=data,
                filename=file.name,
                fmt=fmt,
                actor=actor(),
                experiment_id=experiment_id,
                encoding=encoding,
            )

    result = retry_locked(work)
    rows = [
        (
            a.lead_external_id,
            a.arm,
            a.assigned_at.isoformat().replace("+00:00", "Z"),
            a.method,
            "new" if a.created else "existing",
        )
        for a in result.assignments
    ]
    if as_json:
        emit_json(
            {
                "report": result.report.as_dict(),
                "assignments": [
                    dict(zip(("lead_id", "arm", "assigned_at", "method", "state"), r, strict=True))
                    for r in rows
                ],
            }
        )
        return
    target = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    try:
        writer = csv.writer(target)
        writer.writerow(["lead_id", "arm", "assigned_at", "method", "state"])
        writer.writerows([[safe_cell(cell) for cell in row] for row in rows])
    finally:
        if out:
            target.close()
    print_report(result.report, err=True)
