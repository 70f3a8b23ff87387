"""``arbiter decisions show|export|verify``: decision records for analysts."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer

from arbiter.commands.common import JSON_OPTION, emit_json, engine, handled, read_text

app = typer.Typer(help="Decision records: show, export, verify.", no_args_is_help=True)


@app.command("show")
@handled
def show(
    experiment_id: str, lang: str | None = typer.Option(None, "--lang"), as_json: bool = JSON_OPTION
) -> None:
    """The verdict of a decided dispute and its rationale."""
    from sqlmodel import col, select

    from arbiter.db import read_session
    from arbiter.records import export_document
    from arbiter.tables import DecisionRecord
    from experiments.errors import NotFound

    with read_session(engine()) as session:
        row = session.scalars(
            select(DecisionRecord).where(col(DecisionRecord.experiment_id) == experiment_id)
        ).first()
    if row is None:
        raise NotFound("decision for experiment", experiment_id)
    if as_json:
        emit_json(export_document(row))
        return
    texts = json.loads(row.rationale)
    record = json.loads(row.record)
    language = lang or record["protocol"]["versions"][-1]["document"]["language"]
    typer.echo(
        f"{experiment_id}: {row.verdict}"
        + (f" — {row.winner_arm} ({row.winner_party})" if row.winner_arm else "")
    )
    typer.echo(texts[language])
    typer.echo(f"record sha256 {row.record_sha256}")


@app.command("export")
@handled
def export(
    fmt: str = typer.Option("json", "--format", help="json | csv"),
    out: Path | None = typer.Option(None, "--out", help="A file (json) or folder (csv)."),
    experiment: str | None = typer.Option(None, "--experiment", help="Only this dispute."),
) -> None:
    """Decision records (JSON) or look histories and verdicts (CSV)."""
    from sqlmodel import col, select

    from arbiter.db import read_session
    from arbiter.exports import decisions_csv, looks_csv
    from arbiter.records import export_document
    from arbiter.tables import DecisionRecord
    from experiments.errors import InvalidInput, Problem

    if fmt not in ("json", "csv"):
        raise InvalidInput("unknown export format", [Problem("--format", "json or csv")])
    with read_session(engine()) as session:
        query = select(DecisionRecord).order_by(col(DecisionRecord.id))
        if experiment:
            query = query.where(col(DecisionRecord.experiment_id) == experiment)
        rows = list(session.scalars(query))
        if fmt == "json":
            documents = [export_document(r) for r in rows]
            text = json.dumps(
                documents[0] if experiment and documents else documents,
                indent=2,
                ensure_ascii=False,
            )
            if out:
                out.write_text(text + "\n", encoding="utf-8")
                typer.echo(f"wrote {len(documents)} decision record(s) to {out}", err=True)
            else:
                sys.stdout.write(text + "\n")
            return
        folder = out or Path(".")
        folder.mkdir(parents=True, exist_ok=True)
        for name, render in (("decisions.csv", decisions_csv), ("looks.csv", looks_csv)):
            header, lines = render(session, [r.experiment_id for r in rows])
            with (folder / name).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(lines)
        typer.echo(f"wrote decisions.csv and looks.csv to {folder}", err=True)


@app.command("verify")
@handled
def verify(file: Path, as_json: bool = JSON_OPTION) -> None:
    """Recompute a decision record from the file alone and report any mismatch."""
    from arbiter.records import verify_record
    from experiments.errors import InvalidInput

    try:
        document = json.loads(read_text(file))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{file} is not JSON: {exc}") from None
    documents = document if isinstance(document, list) else [document]
    for doc in documents:
        record = doc.get("record", doc) if isinstance(doc, dict) else None
        if not isinstance(record, dict) or "schema" not in record:
            raise InvalidInput(
                f"{file} is not a decision record: expected the JSON that "
                "'arbiter decisions export' or GET /v1/experiments/ID/decision returns"
            )
    failed = False
    results = []
    for doc in documents:
        report = verify_record(doc)
        record = doc.get("record", doc)
        results.append(
            {
                "experiment": record.get("experiment", {}).get("id"),
                "ok": report.ok,
                "verdict": report.verdict,
                "winner": report.winner,
                "looks_checked": report.looks_checked,
                "problems": report.problems,
            }
        )
        failed = failed or not report.ok
    if as_json:
        emit_json(results)
    else:
        for r in results:
            state = "recomputed: matches" if r["ok"] else "MISMATCH"
            typer.echo(
                f"{r['experiment']}: {state} — verdict {r['verdict']}"
                + (f", winner {r['winner']}" if r["winner"] else "")
                + f" ({r['looks_checked']} looks recomputed)"
            )
            for problem in r["problems"]:
                typer.echo(f"  - {problem}", err=True)
    if failed:
        raise typer.Exit(1)
