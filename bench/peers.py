"""Arbiter's statistics side by side with two peers, on the same inputs.

* **GrowthBook's** ``gbstats`` sequential test (``SequentialTwoSidedTTest``, the
  asymptotic confidence sequence of Waudby-Smith et al. 2023 with a tuning sample size)
  against ``stats.compare(..., sequential=AlwaysValid(tuning=N))``: the same sufficient
  statistics (proportions and means, absolute and relative differences), the intervals
  must agree to 4 decimals; time per analysis compared.
* **Spotify's** ``spotify-confidence`` group sequential bounds (a port of R's
  ``ldbounds``: Lan-DeMets with the power family α·t^ρ) against
  ``stats.spending_boundaries(..., spending=("power", ρ))``: the same spending, the
  boundaries must agree to 3 decimals; time per computation compared for 5, 20 and 50
  looks.

Both peers are installed only in the bench environment (``pip install -e '.[bench]'``),
never as runtime dependencies. A disagreement beyond the tolerance raises: it would be a
wrong verdict somewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench.harness import Result
from stats import AlwaysValid, MeanSummary, ProportionSummary, compare, spending_boundaries

CI_DECIMALS = 4
BOUNDARY_DECIMALS = 3


def _per_call(work: Callable[[], object], budget: float = 0.5) -> float:
    """Seconds per call: repeat ``work`` for about ``budget`` seconds, best of 3."""
    work()
    calls = 1
    start = time.perf_counter()
    while time.perf_counter() - start < budget / 10:
        work()
        calls += 1
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def _cases(rng: np.random.Generator) -> list[tuple[str, object, object, object, object]]:
    """(label, ours control, ours treatment, theirs control, theirs treatment)."""
    from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic

    cases = []
    for n in (500, 5_000, 50_000):
        a = int(rng.binomial(n, 0.10))
        b = int(rng.binomial(n, 0.12))
        cases.append(
            (
                f"proportion, n = {n:,}",
                ProportionSummary(a, n),
                ProportionSummary(b, n),
                ProportionStatistic(n=n, sum=a),
                ProportionStatistic(n=n, sum=b),
            )
        )
        x = rng.lognormal(5, 1.2, n) * (rng.random(n) < 0.1)
        y = rng.lognormal(5.1, 1.2, n) * (rng.random(n) < 0.1)
        cases.append(
            (
                f"revenue per lead, n = {n:,}",
                MeanSummary.from_array(x),
                MeanSummary.from_array(y),
                SampleMeanStatistic(n=n, sum=float(x.sum()), sum_squares=float((x * x).sum())),
                SampleMeanStatistic(n=n, sum=float(y.sum()), sum_squares=float((y * y).sum())),
            )
        )
    return cases


def growthbook(tuning: float = 5_000.0, seed: int = 2026) -> list[Result]:
    """Always-valid intervals against gbstats' sequential test."""
    from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest

    rng = np.random.default_rng(seed)
    worst = 0.0
    ours_times, theirs_times = [], []
    for _label, oc, ot, tc, tt in _cases(rng):
        for relative in (False, True):
            config = SequentialConfig(
                difference_type="relative" if relative else "absolute",
                sequential_tuning_parameter=tuning,
            )
            difference = "relative" if relative else "absolute"

            def ours(oc=oc, ot=ot, difference=difference) -> tuple[float, float]:
                result = compare(
                    oc, ot, difference=difference, sequential=AlwaysValid(tuning=tuning)
                )
                return result.ci

            def theirs(tc=tc, tt=tt, config=config) -> list[float]:
                return SequentialTwoSidedTTest(tc, tt, config).compute_result().ci

            mine, peer = ours(), theirs()
            gap = max(abs(mine[0] - peer[0]), abs(mine[1] - peer[1]))
            worst = max(worst, gap)
            if round(gap, CI_DECIMALS) != 0:
                raise AssertionError(
                    f"always-valid interval differs from gbstats by {gap:.2e} "
                    f"({difference}): ours {mine}, gbstats {peer}"
                )
            ours_times.append(_per_call(ours, 0.2))
            theirs_times.append(_per_call(theirs, 0.2))
    mine_t, peer_t = float(np.median(ours_times)), float(np.median(theirs_times))
    return [
        Result(
            "always-valid interval, one analysis (median of 12 cases)",
            "—",
            mine_t,
            "s",
            "GrowthBook gbstats SequentialTwoSidedTTest, same statistics and tuning",
            peer_t,
            False,
            f"intervals agree to {CI_DECIMALS} decimals",
            True,
            f"largest difference between the intervals: {worst:.1e}",
        )
    ]


def _exact_one_sided(t: np.ndarray, alpha: float, rho: float, looks: int) -> list[float]:
    """Boundaries z_1..z_looks (looks ≤ 3) of one-sided power-family spending, computed
    independently of both implementations by adaptive quadrature of the Brownian motion
    B(t): P(B_1 < b_1, …, B_{k−1} < b_{k−1}, B_k > b_k) = f(t_k) − f(t_{k−1}), with
    f(t) = α·t^ρ and z_k = b_k/√t_k (Lan & DeMets 1983)."""
    from scipy import integrate, optimize, stats

    def f(x: float) -> float:
        return alpha * x**rho

    sd = np.sqrt(np.diff(np.concatenate([[0.0], t])))
    b = [float(stats.norm.isf(f(t[0])) * sd[0])]
    for k in range(1, looks):
        target = f(t[k]) - f(t[k - 1])

        def exit_mass(bk: float, k: int = k) -> float:
            tail = lambda y: stats.norm.sf((bk - y) / sd[k])  # noqa: E731
            if k == 1:
                return integrate.quad(
                    lambda x: stats.norm.pdf(x, 0, sd[0]) * tail(x),
                    -12 * sd[0],
                    b[0],
                    epsabs=1e-13,
                    epsrel=1e-11,
                )[0]
            return integrate.dblquad(
                lambda y, x: (
                    stats.norm.pdf(x, 0, sd[0]) * stats.norm.pdf(y - x, 0, sd[1]) * tail(y)
                ),
                -12 * sd[0],
                b[0],
                -12 * np.sqrt(t[1]),
                b[1],
                epsabs=1e-13,
                epsrel=1e-10,
            )[0]

        b.append(optimize.brentq(lambda v, m=target: exit_mass(v) - m, 0.0, 12.0, xtol=1e-12))
    return [v / np.sqrt(x) for v, x in zip(b, t, strict=False)]


def spotify(alpha: float = 0.05, looks_counts: tuple[int, ...] = (5, 20, 50)) -> list[Result]:
    """Group sequential boundaries against spotify-confidence: 5, 20 and 50 looks.

    spotify-confidence computes two-sided bounds as one-sided bounds at α/2 (its
    continuation region is bounded below only by its truncation at −8), so Arbiter is
    run the same way (``sides=1`` at α/2); the two formulations differ by less than 10⁻⁸
    here. With linear spending (ρ = 1) the boundaries must agree to 3 decimals. With
    steep spending (ρ = 3, close to O'Brien-Fleming) spotify-confidence's fixed
    integration grid (step 0.05) loses accuracy at the early looks, where the α spent is
    tiny; there both are checked against an independent quadrature (looks 2 and 3).
    """
    from spotify_confidence.analysis.frequentist.sequential_bound_solver import bounds

    out = []
    for rho in (1.0, 3.0):
        for looks in looks_counts:
            t = np.linspace(1 / looks, 1.0, looks)

            def ours(t=t, rho=rho) -> tuple[float, ...]:
                return spending_boundaries(list(t), alpha / 2, 1, ("power", rho)).upper

            def theirs(t=t, rho=rho) -> np.ndarray:
                return bounds(t, alpha, rho, 8.0, 2).bounds

            mine, peer = np.asarray(ours()), np.asarray(theirs())
            gaps = np.abs(mine - peer)
            apart = [int(i) + 1 for i in np.where(gaps >= 0.5 * 10**-BOUNDARY_DECIMALS)[0]]
            note = f"largest difference {gaps.max():.1e} (look {int(gaps.argmax()) + 1})"
            if apart and rho == 1.0:
                raise AssertionError(f"linear-spending boundaries differ at looks {apart}")
            if apart:
                checkable = [k for k in apart if k <= 3]
                exact = _exact_one_sided(t, alpha / 2, rho, max(checkable)) if checkable else []
                for k in checkable:
                    if abs(mine[k - 1] - exact[k - 1]) > 1e-5:
                        raise AssertionError(f"look {k}: ours {mine[k - 1]}, exact {exact[k - 1]}")
                note += (
                    f"; apart beyond 3 decimals at looks {apart}: at looks "
                    f"{', '.join(map(str, checkable))} an independent quadrature gives "
                    + ", ".join(f"{exact[k - 1]:.5f}" for k in checkable)
                    + " = Arbiter's "
                    + ", ".join(f"{mine[k - 1]:.5f}" for k in checkable)
                    + " (spotify-confidence: "
                    + ", ".join(f"{peer[k - 1]:.5f}" for k in checkable)
                    + ")"
                )
            budget = 2.0 if looks == 50 else 0.5
            out.append(
                Result(
                    f"boundaries, {looks} looks (α·t^{rho:g} spending)",
                    "—",
                    _per_call(ours, budget),
                    "s",
                    "spotify-confidence sequential_bound_solver.bounds, same spending",
                    _per_call(theirs, budget),
                    False,
                    f"agree to {BOUNDARY_DECIMALS} decimals" if rho == 1.0 else "",
                    (not apart) if rho == 1.0 else None,
                    note,
                )
            )
    return out


def run(quick: bool = False) -> list[Result]:
    """Both comparisons (skipped with a message where a peer is not installed); quick
    mode leaves out the 50-look boundaries, which take the peer seconds each."""
    results: list[Result] = []
    try:
        results += growthbook()
    except ImportError:
        print("gbstats is not installed: pip install -e '.[bench]'")
    try:
        results += spotify(looks_counts=(5, 20) if quick else (5, 20, 50))
    except ImportError:
        print("spotify-confidence is not installed: pip install -e '.[bench]'")
    return results
