"""``arbiter protocol validate FILE``: check a protocol before anyone signs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from arbiter.commands.common import JSON_OPTION, emit_json, handled, read_text, table

app = typer.Typer(help="Write and check dispute protocols.", no_args_is_help=True)


def design_summary(protocol: Any) -> dict[str, Any]:
    """Boundaries at the planned looks and the design's operating characteristics."""
    from arbiter.policy import statistical_design
    from stats import AlwaysValid, describe_design

    design = statistical_design(protocol)
    if isinstance(design, AlwaysValid):
        return {"kind": "always_valid", "tuning": design.tuning, "alpha": protocol.alpha}
    summary = describe_design(design)
    return {
        "kind": "group_sequential",
        "looks": design.looks,
        "information_fractions": list(design.planned_fractions),
        "efficacy_boundaries": list(summary.efficacy.upper),
        "futility_boundaries": list(summary.futility) if summary.futility else None,
        "inflation_factor": summary.inflation_factor,
        "expected_sample_h0": summary.expected_sample_h0,
        "expected_sample_mde": summary.expected_sample_h1,
        "power": summary.power,
    }


@app.command("validate")
@handled
def validate(
    file: Path,
    as_json: bool = JSON_OPTION,
    canonical: bool = typer.Option(
        False, "--canonical", help="Print only the canonical JSON protocol (the API's body)."
    ),
) -> None:
    """Validate a protocol file (TOML or JSON); list every problem at once."""
    from experiments.protocol import canonical_json, load_protocol_text, protocol_hash

    protocol = load_protocol_text(read_text(file), fmt="json" if file.suffix == ".json" else None)
    if canonical:
        typer.echo(canonical_json(protocol))
        return
    summary = design_summary(protocol)
    if as_json:
        emit_json(
            {"valid": True, "id": protocol.id, "sha256": protocol_hash(protocol), "design": summary}
        )
        return
    typer.echo(f"{file}: valid protocol {protocol.id!r} (sha256 {protocol_hash(protocol)})")
    if summary["kind"] == "group_sequential":
        rows = [
            (
                i + 1,
                f"{t:.2f}",
                f"{c:.3f}",
                "—"
                if summary["futility_boundaries"] is None
                else f"{summary['futility_boundaries'][i]:.3f}",
            )
            for i, (t, c) in enumerate(
                zip(summary["information_fractions"], summary["efficacy_boundaries"], strict=True)
            )
        ]
        typer.echo(table(["look", "information", "efficacy |z| ≥", "futility |z| <"], rows))
        typer.echo(
            f"maximum sample = {summary['inflation_factor']:.3f} × fixed-horizon sample; "
            f"expected {summary['expected_sample_mde']:.2f}× at the MDE and "
            f"{summary['expected_sample_h0']:.2f}× with no effect"
        )
