"""``arbiter imports list`` and ``arbiter imports show BATCH``."""

from __future__ import annotations

from pathlib import Path

import typer

from arbiter.commands.common import JSON_OPTION, emit_json, engine, handled, table
from experiments.errors import InvalidInput

app = typer.Typer(help="Review import batches and their rejected rows.", no_args_is_help=True)


def read_bytes(path: Path) -> bytes:
    """A file's bytes, with a clear error when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None


def print_report(report: object, err: bool = False) -> None:
    """A batch report for people."""
    from experiments.batches import ImportReport

    assert isinstance(report, ImportReport)
    typer.echo(
        f"batch {report.batch_id} ({report.kind}, {report.format}, "
        f"sha256 {report.file_sha256[:12]}…): "
        f"{report.rows_total} rows — {report.inserted} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected} rejected"
        + (" (a retry of an earlier batch: nothing applied again)" if report.replayed else ""),
        err=err,
    )
    for code, count in sorted(report.rejection_codes.items()):
        typer.echo(f"  {count} × {code}", err=err)
    for r in report.rejections[:10]:
        typer.echo(f"  line {r.line}{f' [{r.column}]' if r.column else ''}: {r.reason}", err=err)
    if report.rejected > 10:
        typer.echo(f"  … see all with: arbiter imports show {report.batch_id}", err=err)
    for warning in report.warnings[:10]:
        typer.echo(f"  warning: {warning}", err=err)


@app.command("list")
@handled
def list_command(as_json: bool = JSON_OPTION) -> None:
    """Import batches, newest first."""
    from arbiter.db import read_session
    from experiments.batches import list_batches

    with read_session(engine()) as session:
        batches = list_batches(session, limit=1000)
    rows = [
        {
            "batch_id": b.id,
            "kind": b.kind,
            "format": b.format,
            "filename": b.filename,
            "file_sha256": b.file_sha256,
            "started": b.started_at,
            "rows": b.rows_total,
            "inserted": b.rows_inserted,
            "updated": b.rows_updated,
            "unchanged": b.rows_unchanged,
            "rejected": b.rows_rejected,
        }
        for b in batches
    ]
    if as_json:
        emit_json(rows)
        return
    typer.echo(
        table(
            ["batch", "kind", "format", "file", "rows", "new", "updated", "unchanged", "rejected"],
            [
                (
                    r["batch_id"],
                    r["kind"],
                    r["format"],
                    r["filename"],
                    r["rows"],
                    r["inserted"],
                    r["updated"],
                    r["unchanged"],
                    r["rejected"],
                )
                for r in rows
            ],
        )
    )


@app.command("show")
@handled
def show(batch_id: int, as_json: bool = JSON_OPTION) -> None:
    """One batch with every rejected row: line, column, reason and the raw row."""
    from arbiter.db import read_session
    from experiments.batches import batch_report

    with read_session(engine()) as session:
        report = batch_report(session, batch_id)
    if as_json:
        emit_json(report.as_dict())
        return
    print_report(report)
    if report.rejections:
        typer.echo(
            table(
                ["line", "column", "code", "reason", "raw"],
                [(r.line, r.column or "", r.code, r.reason, r.raw[:80]) for r in report.rejections],
            )
        )
