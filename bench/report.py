"""Writing docs/performance.md from the results of one run."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Result

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"


def _figure(value: float, unit: str) -> str:
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:,.1f} µs"
        return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"
    if unit == "ms":
        return f"{value:,.2f} ms"
    return f"{value:,.0f} {unit}"


def table(results: Sequence[Result], quick: bool) -> str:
    """The results as a markdown table with the run's context."""
    lines = [
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {'quick' if quick else 'full'} mode, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{__import__('os').cpu_count()} CPUs.",
        "",
        "| figure | engine | Arbiter | baseline | baseline value | ratio | target | met |",
        "| --- | --- | ---: | --- | ---: | ---: | --- | :---: |",
    ]
    for r in results:
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.name} | {r.engine} | {_figure(r.figure, r.unit)} | {r.baseline_name} | "
            f"{_figure(r.baseline, r.unit)} | {r.ratio:.2f}× | {r.target or '—'} | {met} |"
        )
    notes = [f"- {r.name} ({r.engine}): {r.note}" for r in results if r.note]
    if notes:
        lines += ["", *notes]
    lines.append("")
    lines.append(
        "Ratio: Arbiter's speed over the baseline's (above 1 means faster than the "
        "baseline; for times, baseline time ÷ Arbiter's time)."
    )
    return "\n".join(lines)


def write(path: Path, results: Sequence[Result], quick: bool) -> None:
    """Replace the generated block of ``path`` (or create the file around it)."""
    block = f"{START}\n{table(results, quick)}\n{END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + block + tail, encoding="utf-8")
            return
    path.write_text(f"# Performance\n\n{block}\n", encoding="utf-8")
