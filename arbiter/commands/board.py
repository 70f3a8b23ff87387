"""``arbiter scoreboard`` and ``arbiter report ID --out FILE``."""

from __future__ import annotations

from pathlib import Path

import typer

from arbiter.commands.common import JSON_OPTION, emit_json, engine, handled, table


@handled
def scoreboard(lang: str = typer.Option("en", "--lang"), as_json: bool = JSON_OPTION) -> None:
    """Decided disputes per party: wins, losses, no-difference outcomes, adopted effects."""
    from arbiter.db import read_session
    from arbiter.scoreboard import scoreboard as board

    with read_session(engine()) as session:
        rows = board(session, lang)
    if as_json:
        emit_json(rows)
        return
    typer.echo(
        table(
            [
                "party",
                "disputes",
                "wins",
                "losses",
                "no difference",
                "inconclusive",
                "escalated",
                "halted",
            ],
            [
                (
                    r["party"],
                    r["disputes"],
                    r["wins"],
                    r["losses"],
                    r["no_meaningful_difference"],
                    r["inconclusive"],
                    r["escalated"],
                    r["halted"],
                )
                for r in rows
            ],
        )
    )
    for r in rows:
        for adopted in r["adopted"]:
            typer.echo(
                f"  {r['party']}: {adopted['proposal']} ({adopted['experiment']}): "
                f"{adopted['text']}"
            )


@handled
def report(
    experiment_id: str,
    out: Path = typer.Option(..., "--out"),
    lang: str | None = typer.Option(None, "--lang"),
) -> None:
    """Write a single-file HTML report of a dispute (opens offline)."""
    from arbiter.db import read_session
    from arbiter.report import render_report

    with read_session(engine()) as session:
        document = render_report(session, experiment_id, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    typer.echo(f"wrote {out}")
