"""``arbiter demo``: the main job end to end on a fresh embedded SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from arbiter.commands.common import handled, table


def _look_rows(looks: list[dict[str, Any]], unit: str) -> list[tuple[Any, ...]]:
    rows = []
    empty = [look for look in looks if look["rule"] == "no_mature_data"]
    if empty:
        rows.append(
            (
                f"{empty[0]['look']}–{empty[-1]['look']}",
                f"{empty[0]['day']}–{empty[-1]['day']}",
                "0%",
                "",
                "",
                "continue",
                "no lead mature yet",
            )
        )
    for look in looks:
        if look["rule"] == "no_mature_data":
            continue
        z, c, f = look["statistic"], look["boundary"], look["futility"]
        rows.append(
            (
                look["look"],
                look["day"],
                f"{100 * min(look['information_fraction'], 1):.0f}%",
                "" if z is None else f"{abs(z):.2f}",
                ""
                if c is None
                else (f"{c:.2f}" if c < 10 else "∞") + (f" / {f:.2f}" if f is not None else ""),
                look["outcome"],
                look["rule"].replace("_", " "),
            )
        )
    return rows


@handled
def demo(
    out: Path = typer.Option(
        Path("demo-output"), "--out", help="Folder for the database, record and report."
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed (the run is reproducible)."),
    effect: float = typer.Option(
        0.30,
        "--effect",
        help="True relative lift of cold-call in revenue per lead (0 = no difference).",
    ),
    lang: str = typer.Option("en", "--lang", help="Language of the rationale: en | pl | ru."),
    dataset: Path | None = typer.Option(
        None,
        "--dataset",
        help="Replay the Hillstrom e-mail experiment from this folder or CSV instead.",
    ),
) -> None:
    """Simulate a whole dispute (or replay a real experiment) and print the verdict."""
    from arbiter.demo import DEMO_PROTOCOL, replay_hillstrom, run_demo
    from experiments.errors import InvalidInput, Problem

    if lang not in ("en", "pl", "ru"):
        raise InvalidInput("unknown language", [Problem("--lang", "en, pl or ru")])
    if dataset is not None and not dataset.exists():
        raise InvalidInput(f"no such dataset: {dataset}")

    with typer.progressbar(length=1000, label="simulating", show_eta=False) as bar:
        done = 0

        def progress(step: int, total: int, summary: dict[str, Any] | None) -> None:
            nonlocal done
            target = int(1000 * step / total)
            bar.update(target - done)
            done = target

        if dataset is not None:
            typer.echo(f"Replaying the Hillstrom e-mail experiment from {dataset} (seed {seed}).")
            result = replay_hillstrom(dataset, out, seed=seed, language=lang, progress=progress)
        else:
            arms = DEMO_PROTOCOL["arms"]
            typer.echo(
                f"Dispute: {arms[0]['name']} ({arms[0]['party']}) vs {arms[1]['name']} "
                f"({arms[1]['party']}) on revenue per lead within 60 days; seed {seed}, "
                f"true lift {effect:+.0%} for {arms[1]['name']}."
            )
            result = run_demo(out, seed=seed, effect=effect, language=lang, progress=progress)
        bar.update(1000 - done)

    typer.echo("")
    typer.echo(
        table(
            [
                "look",
                "day" if dataset is None else "customers",
                "information",
                "|z|",
                "boundary / futility",
                "outcome",
                "rule",
            ],
            _look_rows(result.looks, ""),
        )
    )
    typer.echo("")
    if dataset is not None:
        needed, total = result.extra["customers_needed"], result.extra["customers_total"]
        typer.echo(
            f"The sequential design needed {needed:,} of {total:,} customers "
            f"({needed / total:.0%})."
        )
    typer.echo(
        f"Verdict: {result.verdict or 'none yet'}"
        + (f" — {result.winner}" if result.winner else "")
    )
    if result.rationale:
        typer.echo(result.rationale)
    typer.echo("")
    if result.record_path:
        typer.echo(f"decision record: {result.record_path} (sha256 {result.record_sha256})")
        typer.echo(f"  check it yourself: arbiter decisions verify {result.record_path}")
    typer.echo(f"report:          {result.report_path}")
    typer.echo(f"database:        {result.database}")
