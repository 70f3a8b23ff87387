"""``arbiter deals import FILE --format …``: import a CRM export of deals (or leads)."""

from __future__ import annotations

from pathlib import Path

import typer

from arbiter.commands.common import JSON_OPTION, actor, emit_json, engine, handled
from arbiter.commands.imports import print_report, read_bytes

app = typer.Typer(help="Import CRM deals.", no_args_is_help=True)


@app.command("import")
@handled
def import_command(
    file: Path,
    fmt: str = typer.Option(..., "--format", help="hubspot | salesforce | pipedrive | generic"),
    leads: bool = typer.Option(False, "--leads", help="The file holds leads/contacts, not deals."),
    experiment: str | None = typer.Option(
        None, "--experiment", help="Check currencies against (or, with --leads, assign to) it."
    ),
    currency: str | None = typer.Option(
        None, "--currency", help="Currency of amounts without one."
    ),
    decimal: str | None = typer.Option(None, "--decimal", help="comma | point (default: detect)."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding if not UTF-8."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import FILE in one transaction: re-importing changes nothing, updates keep history,
    rejected rows are kept with their line and reason (``arbiter imports show BATCH``)."""
    from arbiter.db import retry_locked, write_session
    from arbiter.ingest import import_deal_file, import_lead_file
    from experiments.errors import InvalidInput, Problem
    from experiments.parsing import Separator

    separator: Separator | None
    if decimal is None:
        separator = None
    elif decimal == "comma":
        separator = "comma"
    elif decimal == "point":
        separator = "point"
    else:
        raise InvalidInput("unknown decimal separator", [Problem("--decimal", "comma or point")])
    data = read_bytes(file)

    def work():  # type: ignore[no-untyped-def]
        with write_session(engine()) as session:
            if leads:
                return import_lead_file(
                    session,
                    data=data,
                    filename=file.name,
                    fmt=fmt,
                    actor=actor(),
                    experiment_id=experiment,
                    encoding=encoding,
                ).report
            return import_deal_file(
                session,
                data=data,
                filename=file.name,
                fmt=fmt,
                actor=actor(),
                experiment_id=experiment,
                currency=currency,
                decimal=separator,
                encoding=encoding,
            )

    report = retry_locked(work)
    if as_json:
        emit_json(report.as_dict())
    else:
        print_report(report)
