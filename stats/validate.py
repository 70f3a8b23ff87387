"""Monte Carlo validation of the sequential designs: ``python -m stats.validate``.

Every study simulates randomised conversion data (two arms, Bernoulli outcomes, a
baseline rate of 10 % and a minimum detectable effect of +2 percentage points), adds it
look by look, and applies the design's rule to the Wald z statistic that
:func:`stats.compare` computes. Reported:

1. type I error under H0 with 10 looks for each design, and for a naive fixed-horizon
   test peeked at every look (to show why peeking without a design is wrong);
2. for the committee's default design (O'Brien-Fleming-type spending, 5 looks,
   non-binding O'Brien-Fleming-type β-spending futility): power at the MDE and the
   expected sample size relative to the fixed-horizon design, under the MDE and under H0,
   with the futility test reading exact ties as :func:`stats.sequential_test` does
   (:func:`stats.sequential.tie_floor`); the always-valid confidence sequence for
   comparison (the sample cap it needs for the same power);
3. coverage of confidence sequences over time (all looks at once);
4. an end-to-end run of the same default design through :func:`stats.sequential_test`
   itself, with its data-driven futility drift.

The default run uses 10,000 replications and finishes in under two minutes on two
cores; ``--full`` uses 100,000 (and 5,000 end-to-end replications).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stats.always_valid import confidence_sequence_halfwidth
from stats.boundaries import classic_boundaries, spending_boundaries
from stats.design import GroupSequentialDesign, describe_design
from stats.power import fixed_sample_size_proportion
from stats.sequential import Interim, sequential_test, tie_floor
from stats.summary import ProportionSummary

Array = npt.NDArray[np.float64]
BASELINE = 0.10
MDE = 0.02
ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the validation table."""

    design: str
    looks: int
    type_i: float
    type_i_se: float
    power: float | None
    en_h0: float | None
    en_h1: float | None
    note: str
    checked: bool = False


def _paths(
    rng: np.random.Generator, reps: int, per_look: Sequence[int], effect: float
) -> tuple[Array, Array, Array, Array]:
    """Cumulative conversions and sample sizes of both arms at each look."""
    sizes = np.asarray(per_look, dtype=np.int64)
    increments = np.diff(np.concatenate(([0], sizes)))
    c = rng.binomial(increments[None, :], BASELINE, size=(reps, sizes.size)).cumsum(axis=1)
    t = rng.binomial(increments[None, :], BASELINE + effect, size=(reps, sizes.size)).cumsum(axis=1)
    n = np.broadcast_to(sizes.astype(np.float64), c.shape)
    return c.astype(np.float64), t.astype(np.float64), n, n


def _wald(c: Array, t: Array, nc: Array, nt: Array) -> tuple[Array, Array]:
    """The z statistic and standard error of :func:`stats.compare` on proportions."""
    pc, pt = c / nc, t / nt
    var = pt * (1 - pt) / nt + pc * (1 - pc) / nc
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (pt - pc) / np.where(se > 0, se, 1.0), 0.0)
    return z, se


def _run_design(
    z: Array,
    upper: Sequence[float],
    futility: Sequence[float] | None,
    fractions: Sequence[float],
    floor: Array | None = None,
) -> tuple[Array, Array, Array]:
    """Per replication: rejected?, stopped-for-futility?, information fraction at stop.

    ``floor`` is :func:`stats.sequential.tie_floor` of the data, the |z| an exact tie
    stands for in the two-sided futility test, as :func:`stats.sequential_test` applies it.
    """
    reps, k = z.shape
    up = np.asarray(upper)[None, :]
    crossed = np.abs(z) >= up
    stop = crossed.copy()
    if futility is not None:
        folded = np.abs(z) if floor is None else np.maximum(np.abs(z), floor)
        stop |= folded < np.asarray(futility)[None, :]
    stop[:, -1] = True
    first = stop.argmax(axis=1)
    rejected = crossed[np.arange(reps), first]
    frac = np.asarray(fractions)[first]
    return rejected, ~rejected & (first < k - 1), frac


def _rate(x: npt.NDArray[np.bool_] | Array) -> tuple[float, float]:
    p = float(np.mean(x))
    return p, math.sqrt(p * (1 - p) / x.size)


def type_i_table(rng: np.random.Generator, reps: int, looks: int = 10) -> list[Row]:
    """Type I error of each design with ``looks`` equally spaced looks under H0."""
    fractions = [(k + 1) / looks for k in range(looks)]
    fixed = fixed_sample_size_proportion(BASELINE, MDE, alpha=ALPHA, power=POWER)
    designs: list[tuple[str, Sequence[float], Sequence[float] | None, str, bool]] = []
    for label, spec in (
        ("Lan-DeMets O'Brien-Fleming", "obrien-fleming"),
        ("Lan-DeMets Pocock", "pocock"),
        ("Hwang-Shih-DeCani γ=-4", ("hsd", -4.0)),
        ("Hwang-Shih-DeCani γ=1", ("hsd", 1.0)),
    ):
        b = spending_boundaries(fractions, ALPHA, 2, spec)
        designs.append((label, b.upper, None, "error spending", True))
    designs.append(
        (
            "Pocock (1977)",
            classic_boundaries(looks, ALPHA, 2, "pocock").upper,
            None,
            "constant boundary",
            True,
        )
    )
    designs.append(
        (
            "O'Brien-Fleming (1979)",
            classic_boundaries(looks, ALPHA, 2, "obrien-fleming").upper,
            None,
            "boundary ∝ 1/√t",
            True,
        )
    )
    default = describe_design(
        GroupSequentialDesign(looks=looks, futility="obrien-fleming", power=POWER)
    )
    designs.append(
        (
            "committee default, futility ignored",
            default.efficacy.upper,
            None,
            "non-binding: the level holds even if futility is overruled",
            True,
        )
    )
    designs.append(
        (
            "committee default, futility obeyed",
            default.efficacy.upper,
            default.futility,
            "stopping for futility only lowers the error",
            False,
        )
    )
    designs.append(
        (
            "naive z-test peeked at every look",
            [1.959964] * looks,
            None,
            "no design: inflated",
            False,
        )
    )

    per_arm = [math.ceil(fixed.control * f) for f in fractions]
    c, t, nc, nt = _paths(rng, reps, per_arm, 0.0)
    z, _ = _wald(c, t, nc, nt)
    rows: list[Row] = []
    floor = tie_floor(c, nc, t, nt)
    for label, upper, futility, note, checked in designs:
        rejected, _, _ = _run_design(z, upper, futility, fractions, floor)
        p, se = _rate(rejected)
        rows.append(Row(label, looks, p, se, None, None, None, note, checked))

    hw = np.vectorize(confidence_sequence_halfwidth)
    _, se_z = _wald(c, t, nc, nt)
    n_total = nc + nt
    half = hw(se_z**2 * n_total, n_total, ALPHA, float(2 * fixed.control))
    est = t / nt - c / nc
    p, se = _rate((np.abs(est) > half).any(axis=1))
    rows.append(
        Row(
            "always-valid confidence sequence",
            looks,
            p,
            se,
            None,
            None,
            None,
            "valid under any peeking; conservative with few looks",
        )
    )
    return rows


def default_design_table(rng: np.random.Generator, reps: int) -> tuple[list[Row], dict[str, float]]:
    """Power and expected sample size of the committee default (5 looks) and of the
    always-valid confidence sequence at the same power."""
    design = GroupSequentialDesign(looks=5, futility="obrien-fleming", power=POWER)
    summary = describe_design(design)
    fixed = fixed_sample_size_proportion(BASELINE, MDE, alpha=ALPHA, power=POWER)
    n_max = math.ceil(fixed.control * summary.inflation_factor)
    fractions = design.planned_fractions
    per_arm = [math.ceil(n_max * f) for f in fractions]
    rows: list[Row] = []
    results: dict[str, float] = {}
    for effect, key in ((0.0, "h0"), (MDE, "h1")):
        c, t, nc, nt = _paths(rng, reps, per_arm, effect)
        z, _ = _wald(c, t, nc, nt)
        floor = tie_floor(c, nc, t, nt)
        rejected, _, frac = _run_design(
            z, summary.efficacy.upper, summary.futility, fractions, floor
        )
        results[f"reject_{key}"] = float(np.mean(rejected))
        results[f"en_{key}"] = float(np.mean(frac)) * n_max / fixed.control
    rows.append(
        Row(
            "committee default (OBF + OBF futility)",
            5,
            results["reject_h0"],
            math.sqrt(results["reject_h0"] * (1 - results["reject_h0"]) / reps),
            results["reject_h1"],
            results["en_h0"],
            results["en_h1"],
            f"max sample {summary.inflation_factor:.3f}× fixed; exact E[N]/n: "
            f"{summary.expected_sample_h0:.3f} (H0), {summary.expected_sample_h1:.3f} (MDE)",
        )
    )
    cap, power_at_cap = always_valid_cap(rng, reps, fixed.control)
    results["cs_cap"] = cap
    results["cs_power"] = power_at_cap
    rows.append(
        Row(
            "always-valid CS (tuning = fixed n), 40 looks",
            40,
            math.nan,
            math.nan,
            power_at_cap,
            None,
            None,
            f"needs a cap of {cap:.2f}× the fixed sample for {POWER:.0%} power",
        )
    )
    return rows, results


def always_valid_cap(
    rng: np.random.Generator, reps: int, fixed_per_arm: int
) -> tuple[float, float]:
    """Smallest cap (multiple of the fixed sample) at which the confidence sequence,
    checked at 40 evenly spaced looks up to the cap, reaches the design power at the MDE."""
    hw = np.vectorize(confidence_sequence_halfwidth)
    tuning = float(2 * fixed_per_arm)
    top = 3.0
    looks = 40
    per_arm = [math.ceil(fixed_per_arm * top * (k + 1) / looks) for k in range(looks)]
    c, t, nc, nt = _paths(rng, reps, per_arm, MDE)
    _, se = _wald(c, t, nc, nt)
    n_total = nc + nt
    half = hw(se**2 * n_total, n_total, ALPHA, tuning)
    est = t / nt - c / nc
    crossed = np.abs(est) > half
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), looks)
    caps = np.asarray(per_arm) / fixed_per_arm
    powers = np.array([np.mean(first <= k) for k in range(looks)])
    index = int(np.searchsorted(powers, POWER))
    index = min(index, looks - 1)
    return float(caps[index]), float(powers[index])


def coverage_table(rng: np.random.Generator, reps: int) -> list[tuple[str, float, float]]:
    """Simultaneous coverage of the true effect over 20 looks."""
    fixed = fixed_sample_size_proportion(BASELINE, MDE, alpha=ALPHA, power=POWER)
    looks = 20
    per_arm = [math.ceil(fixed.control * (k + 1) / looks) for k in range(looks)]
    c, t, nc, nt = _paths(rng, reps, per_arm, MDE)
    _, se = _wald(c, t, nc, nt)
    est = t / nt - c / nc
    n_total = nc + nt
    out: list[tuple[str, float, float]] = []
    hw = np.vectorize(confidence_sequence_halfwidth)
    for tuning, label in (
        (5000.0, "CS, tuning 5,000 (GrowthBook default)"),
        (float(2 * fixed.control), "CS, tuning = fixed n"),
    ):
        half = hw(se**2 * n_total, n_total, ALPHA, tuning)
        covered = (np.abs(est - MDE) <= half).all(axis=1)
        p, s = _rate(covered)
        out.append((label, p, s))
    fixed_half = 1.959964 * se
    inside: npt.NDArray[np.bool_] = np.asarray((np.abs(est - MDE) <= fixed_half).all(axis=1))
    p, s = _rate(inside)
    out.append(("fixed-horizon 95% CI, every look", p, s))
    return out


def end_to_end(rng: np.random.Generator, reps: int) -> dict[str, float]:
    """The committee default through :func:`stats.sequential_test` itself."""
    design0 = GroupSequentialDesign(looks=5, futility="obrien-fleming", power=POWER)
    summary = describe_design(design0)
    fixed = fixed_sample_size_proportion(BASELINE, MDE, alpha=ALPHA, power=POWER)
    n_max = math.ceil(fixed.control * summary.inflation_factor)
    design = GroupSequentialDesign(
        looks=5, futility="obrien-fleming", power=POWER, max_sample=2 * n_max
    )
    per_arm = [math.ceil(n_max * f) for f in design.planned_fractions]
    out: dict[str, float] = {}
    for effect, key in ((0.0, "h0"), (MDE, "h1")):
        c, t, _, _ = _paths(rng, reps, per_arm, effect)
        wins = 0
        used = 0.0
        for i in range(reps):
            history: list[Interim] = []
            for k, n in enumerate(per_arm):
                history.append(
                    Interim(ProportionSummary(int(c[i, k]), n), ProportionSummary(int(t[i, k]), n))
                )
                result = sequential_test(design, history, mde=MDE)
                if result.decision != "continue":
                    break
            wins += result.decision == "efficacy"
            used += per_arm[len(history) - 1]
        out[f"reject_{key}"] = wins / reps
        out[f"en_{key}"] = used / reps / fixed.control
    return out


def render(
    type_i: list[Row],
    default: list[Row],
    coverage: list[tuple[str, float, float]],
    e2e: dict[str, float],
    reps: int,
    e2e_reps: int,
    seconds: float,
) -> str:
    """The markdown tables printed by the command (and pasted into docs/statistics.md)."""

    def fmt(x: float | None, digits: int = 4) -> str:
        return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"

    lines = [
        f"Monte Carlo validation: {reps:,} replications per scenario, conversion {BASELINE:.0%}, "
        f"MDE +{MDE * 100:.0f} pp, α = {ALPHA}, power {POWER:.0%}.",
        "",
        "Type I error under H0 (target 0.05 ± 0.006 for the sequential designs):",
        "",
        "| design | looks | type I error | ± MC s.e. | note |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in type_i:
        lines.append(
            f"| {r.design} | {r.looks} | {fmt(r.type_i)} | {fmt(r.type_i_se)} | {r.note} |"
        )
    lines += [
        "",
        "Committee default design: power and expected sample size relative to fixed horizon "
        "(targets: E[N|MDE] ≤ 0.85, E[N|H0] ≤ 0.75, power ≥ 0.80):",
        "",
        "| design | looks | type I | power at MDE | E[N\\|H0] / n_fixed "
        "| E[N\\|MDE] / n_fixed | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in default:
        lines.append(
            f"| {r.design} | {r.looks} | {fmt(r.type_i)} | {fmt(r.power)} | {fmt(r.en_h0, 3)} | "
            f"{fmt(r.en_h1, 3)} | {r.note} |"
        )
    lines += [
        "",
        "Coverage of the true effect at all 20 looks simultaneously (target ≥ 0.95):",
        "",
        "| interval | simultaneous coverage | ± MC s.e. |",
        "| --- | ---: | ---: |",
    ]
    for label, p, s in coverage:
        lines.append(f"| {label} | {fmt(p)} | {fmt(s)} |")
    lines += [
        "",
        f"End to end through `stats.sequential_test` (committee default, {e2e_reps:,} "
        "replications, data-driven futility drift):",
        "",
        "| scenario | rejects H0 | E[N] / n_fixed |",
        "| --- | ---: | ---: |",
        f"| H0 | {fmt(e2e['reject_h0'], 3)} | {fmt(e2e['en_h0'], 3)} |",
        f"| MDE | {fmt(e2e['reject_h1'], 3)} | {fmt(e2e['en_h1'], 3)} |",
        "",
        f"Run time: {seconds:.0f} s.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    """Run the studies and print the table; exit status 1 if a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m stats.validate", description=__doc__)
    parser.add_argument("--full", action="store_true", help="100,000 replications")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args(argv)
    reps = 100_000 if args.full else 10_000
    e2e_reps = 5_000 if args.full else 1_000
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    type_i = type_i_table(rng, reps)
    default, results = default_design_table(rng, reps)
    coverage = coverage_table(rng, reps)
    e2e = end_to_end(rng, e2e_reps)
    out(render(type_i, default, coverage, e2e, reps, e2e_reps, time.perf_counter() - start))

    misses = []
    naive = next(r for r in type_i if r.design.startswith("naive"))
    if naive.type_i < ALPHA + 0.03:
        misses.append("the naive peeked test is not visibly inflated")
    for r in type_i:
        if r.checked and abs(r.type_i - ALPHA) > 0.006:
            misses.append(f"{r.design}: type I {r.type_i:.4f}")
    power_se = math.sqrt(POWER * (1 - POWER) / reps)
    if results["en_h1"] > 0.85 or results["en_h0"] > 0.75:
        misses.append("committee default misses its sample-size target")
    if results["reject_h1"] + 2 * power_se < POWER:
        misses.append(f"committee default's power {results['reject_h1']:.4f} is below {POWER}")
    if misses:
        out("\nTARGETS MISSED:\n" + "\n".join(misses))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
