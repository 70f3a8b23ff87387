"""``arbiter experiments …``: register, sign, start, stop, amend, list and show disputes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from arbiter.commands.common import (
    JSON_OPTION,
    actor,
    emit_json,
    engine,
    handled,
    read_text,
    table,
)

app = typer.Typer(help="Register and run disputes.", no_args_is_help=True)


def _load(path: Path) -> Any:
    from experiments.protocol import load_protocol_text

    return load_protocol_text(read_text(path), fmt="json" if path.suffix == ".json" else None)


@app.command("register")
@handled
def register(
    target: str = typer.Argument(..., help="A protocol file, or the id of a signed draft."),
    sign: list[str] = typer.Option(
        [], "--sign", help="Record this party's sign-off (the committee attests to it)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Save the draft, record sign-offs, and lock the protocol once every party signed."""
    from arbiter import disputes
    from arbiter.db import write_session

    path = Path(target)
    with write_session(engine()) as session:
        if path.suffix in (".toml", ".json") or path.exists():
            outcome = disputes.register_protocol(
                session, protocol=_load(path), actor=actor(), sign_as=sign
            )
            experiment_id, missing = outcome.experiment.id, outcome.missing
        else:
            experiment_id = target
            for party in sign:
                disputes.sign_dispute(session, experiment_id=target, party=party, actor=actor())
            disputes.register_dispute(session, experiment_id=target, actor=actor())
            missing = []
        document = disputes.dispute_document(session, experiment_id)
    if missing:
        hints = "\n".join(
            f"  arbiter experiments sign {experiment_id} --party {p}" for p in missing
        )
        typer.echo(
            f"draft {experiment_id!r} saved; registration waits for sign-offs from "
            f"{', '.join(missing)}:\n{hints}\nthen: arbiter experiments register {experiment_id}",
            err=True,
        )
        raise typer.Exit(1)
    if as_json:
        emit_json(document)
    else:
        typer.echo(
            f"registered {experiment_id!r} version {document['protocol_version']}: "
            f"sha256 {document['protocol_sha256']}"
        )


@app.command("sign")
@handled
def sign_command(
    experiment_id: str,
    party: str = typer.Option(..., "--party", help="The party signing the current draft."),
) -> None:
    """Record a party's sign-off on the current draft."""
    from arbiter import disputes
    from arbiter.db import write_session

    with write_session(engine()) as session:
        missing = disputes.sign_dispute(
            session, experiment_id=experiment_id, party=party, actor=actor()
        )
    typer.echo(
        f"{party} signed {experiment_id!r}; "
        + (
            f"still waiting for {', '.join(missing)}"
            if missing
            else f"every party has signed: arbiter experiments register {experiment_id}"
        )
    )


@app.command("start")
@handled
def start(experiment_id: str) -> None:
    """Open a registered dispute to assignments."""
    from arbiter import disputes
    from arbiter.db import write_session

    with write_session(engine()) as session:
        disputes.start_dispute(session, experiment_id=experiment_id, actor=actor())
    typer.echo(f"{experiment_id!r} is running")


@app.command("stop")
@handled
def stop(experiment_id: str, reason: str = typer.Option(..., "--reason")) -> None:
    """Stop a running dispute early, with the reason on record."""
    from arbiter import disputes
    from arbiter.db import write_session

    with write_session(engine()) as session:
        disputes.stop_dispute(session, experiment_id=experiment_id, reason=reason, actor=actor())
    typer.echo(f"{experiment_id!r} stopped")


@app.command("archive")
@handled
def archive(experiment_id: str) -> None:
    """Archive a decided or stopped dispute."""
    from arbiter import disputes
    from arbiter.db import write_session

    with write_session(engine()) as session:
        disputes.archive_dispute(session, experiment_id=experiment_id, actor=actor())
    typer.echo(f"{experiment_id!r} archived")


@app.command("amend")
@handled
def amend(
    experiment_id: str,
    file: Path,
    reason: str = typer.Option(..., "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Lock a new version of a registered or running protocol, with its reason."""
    from arbiter import disputes
    from arbiter.db import write_session

    with write_session(engine()) as session:
        version = disputes.amend_dispute(
            session,
            experiment_id=experiment_id,
            protocol=_load(file),
            reason=reason,
            actor=actor(),
        )
        document = disputes.dispute_document(session, experiment_id)
    if as_json:
        emit_json(document)
    else:
        typer.echo(
            f"{experiment_id!r} amended to version {version.version}: sha256 {version.sha256}"
        )


@app.command("list")
@handled
def list_command(
    status: str | None = typer.Option(None, "--status"), as_json: bool = JSON_OPTION
) -> None:
    """List disputes with their status."""
    from arbiter.db import read_session
    from experiments import lifecycle

    with read_session(engine()) as session:
        rows = lifecycle.list_experiments(session, status=status, limit=10_000)
    if as_json:
        emit_json(
            [
                {
                    "id": e.id,
                    "title": e.title,
                    "status": e.status,
                    "protocol_version": e.current_version,
                }
                for e in rows
            ]
        )
        return
    typer.echo(
        table(
            ["id", "status", "version", "title"],
            [(e.id, e.status, e.current_version, e.title) for e in rows],
        )
    )


@app.command("show")
@handled
def show(experiment_id: str, as_json: bool = JSON_OPTION) -> None:
    """Show a dispute: state, locked protocol and hash, version history, sign-offs."""
    from arbiter.db import read_session
    from arbiter.disputes import dispute_document

    with read_session(engine()) as session:
        document = dispute_document(session, experiment_id)
    if as_json:
        emit_json(document)
        return
    p = document["protocol"]
    typer.echo(f"{document['title']} [{document['id']}] — {document['status']}")
    typer.echo(f"question: {p['question']}")
    lock = f"locked, version {document['protocol_version']}" if document["locked"] else "draft"
    typer.echo(f"protocol: {lock}, sha256 {document['protocol_sha256']}")
    typer.echo(
        table(
            ["arm", "name", "party", "weight", "control"],
            [
                (
                    a["key"],
                    a["name"],
                    a["party"],
                    a["weight"],
                    "yes" if a["control"] or p["control"] == a["key"] else "",
                )
                for a in p["arms"]
            ],
        )
    )
    m = p["primary"]
    typer.echo(
        f"primary metric: {m['name']} ({m['kind']}, {m['window_days']}-day window); "
        f"MDE {p['mde']['value']} {p['mde']['kind']}; α={p['alpha']}, power {p['power']}"
    )
    if document["versions"]:
        typer.echo(
            table(
                ["version", "sha256", "author", "reason"],
                [
                    (v["version"], v["sha256"][:16] + "…", v["author"], v["reason"])
                    for v in document["versions"]
                ],
            )
        )
    if document["missing_sign_offs"]:
        typer.echo(f"waiting for sign-offs from: {', '.join(document['missing_sign_offs'])}")
    typer.echo(f"next: {', '.join(document['allowed_actions']) or 'nothing'}")


@app.command("status")
@handled
def status(
    experiment_id: str,
    as_of: str | None = typer.Option(None, "--as-of", help="ISO time to evaluate maturity at."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Per arm, the funnel from the ad to the deal: assigned, mature, pending, with a deal,
    won, revenue; what the attribution rule left out; and the sample-ratio check."""
    from arbiter.db import read_session
    from arbiter.settings import get_settings
    from arbiter.status import experiment_status
    from experiments.parsing import parse_datetime

    now = parse_datetime(as_of, get_settings().zone) if as_of else None
    with read_session(engine()) as session:
        document = experiment_status(session, experiment_id, now=now)
    if as_json:
        emit_json(document)
        return
    progress = document["progress"]
    typer.echo(f"{document['title']} [{document['id']}] — {document['status']}")
    fraction = progress["information_fraction"]
    typer.echo(
        f"assigned {progress['assigned']}, mature {progress['mature']}, pending "
        f"{progress['pending']}"
        + (f"; information fraction {fraction:.2f}" if fraction is not None else "")
    )
    currency = document["attribution"]["currency"]
    typer.echo(
        table(
            [
                "arm",
                "party",
                "assigned",
                "mature",
                "pending",
                "with deal",
                "won",
                "won deals",
                f"revenue {currency}",
            ],
            [
                (
                    key,
                    arm["party"],
                    arm["assigned"],
                    arm["mature"],
                    arm["pending"],
                    arm["leads_with_deal"],
                    arm["leads_won"],
                    arm["won_deals"],
                    arm["revenue"],
                )
                for key, arm in document["arms"].items()
            ],
        )
    )
    left_out = {
        reason: sum(arm["excluded"].get(reason, 0) for arm in document["arms"].values())
        for reason in next(iter(document["arms"].values()))["excluded"]
    }
    typer.echo(
        "deals left out by the attribution rule: "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in left_out.items())
    )
    srm = document["health"]["sample_ratio"]
    typer.echo(
        f"sample ratio: p = {srm['pvalue']:.4g}" + (" — MISMATCH" if srm["mismatch"] else " — ok")
    )
