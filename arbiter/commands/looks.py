"""``arbiter looks run ID``, ``arbiter looks run-due`` and ``arbiter looks list ID``."""

from __future__ import annotations

import typer

from arbiter.commands.common import JSON_OPTION, actor, emit_json, engine, handled, table

app = typer.Typer(help="Interim analyses of running disputes.", no_args_is_help=True)
AS_OF = typer.Option(None, "--as-of", help="Run as if at this ISO time (default: now).")
LANG = typer.Option(None, "--lang", help="en | pl | ru (default: the protocol's language).")


def _moment(as_of: str | None):  # type: ignore[no-untyped-def]
    from arbiter.settings import get_settings
    from experiments.parsing import parse_datetime

    return parse_datetime(as_of, get_settings().zone) if as_of else None


def _print(outcome, lang: str | None) -> None:  # type: ignore[no-untyped-def]
    data = outcome.as_dict()
    texts = data["rationale"]
    language = lang or next(iter(texts))
    typer.echo(
        f"{data['experiment_id']} look {data['look']} "
        f"({100 * min(data['information_fraction'], 1):.0f}% information): "
        f"{data['outcome']} [{data['rule']}]"
    )
    typer.echo(texts.get(language) or next(iter(texts.values())))
    if data["verdict"]:
        typer.echo(
            f"verdict recorded: {data['verdict']['kind']}; record sha256 "
            f"{data['verdict']['record_sha256']}"
        )


@app.command("run")
@handled
def run(
    experiment_id: str,
    as_of: str | None = AS_OF,
    lang: str | None = LANG,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a look now: the decision at this look, stored append-only."""
    from arbiter.looks import run_look

    outcome = run_look(engine(), experiment_id, actor=actor(), now=_moment(as_of))
    if as_json:
        emit_json(outcome.as_dict(lang))
    else:
        _print(outcome, lang)


@app.command("run-due")
@handled
def run_due(as_of: str | None = AS_OF, as_json: bool = JSON_OPTION) -> None:
    """Run every look whose time has come by its dispute's cadence (for cron)."""
    from arbiter.looks import run_due_looks

    outcomes = run_due_looks(engine(), actor=actor(), now=_moment(as_of))
    if as_json:
        emit_json([o.as_dict() for o in outcomes])
        return
    if not outcomes:
        typer.echo("no look is due")
    for outcome in outcomes:
        _print(outcome, None)


@app.command("list")
@handled
def list_command(experiment_id: str, as_json: bool = JSON_OPTION) -> None:
    """Every look of a dispute."""
    from arbiter.db import read_session
    from arbiter.looks import list_looks

    with read_session(engine()) as session:
        looks = list_looks(session, experiment_id)
    if as_json:
        emit_json(looks)
        return
    rows = []
    for look in looks:
        first = (look["decision"].get("comparisons") or [{}])[0]
        rows.append(
            (
                look["look"],
                look["at"][:16],
                f"{100 * min(look['information_fraction'], 1):.0f}%",
                "" if first.get("statistic") is None else f"{abs(first['statistic']):.2f}",
                "" if first.get("boundary") is None else f"{first['boundary']:.2f}",
                look["outcome"],
                look["rule"],
            )
        )
    typer.echo(table(["look", "at", "info", "|z|", "boundary", "outcome", "rule"], rows))
