"""Group sequential designs: efficacy and non-binding futility boundaries, the
maximum-information inflation factor for a target power, and expected sample sizes.

Non-binding futility follows the β-spending approach (Pampallona, Tsiatis & Kim 2001,
"Interim monitoring of group sequential trials using spending functions for the type I
and type II error probabilities", Drug Information Journal 35, 1113-1121; gsDesign's
``test.type = 4``): efficacy boundaries are computed under H0 as if there were no
futility boundary, so ignoring a futility stop never inflates the type I error; futility
boundaries are computed under the alternative (drift η) so that the probability of
stopping for futility by information t equals the β-spending function g(t; β). The drift
η = θ√I_max is chosen so that the last futility boundary meets the last efficacy boundary,
which gives power exactly 1 − β; the inflation factor is R = (η / (z_{α/s} + z_β))²
(Jennison & Turnbull 2000, §2.6, §7.2), i.e. the maximum sample is R times the
fixed-horizon sample.

Two-sided designs stop for futility when |Z_k| < b_k (an inner wedge, Jennison &
Turnbull 2000, ch. 5): "no meaningful difference in either direction".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.optimize import brentq
from scipy.special import ndtri

from stats.boundaries import (
    BoundaryResult,
    Sides,
    continuation,
    exit_probabilities,
    grid_size,
    spending_boundaries,
    validate_fractions,
)
from stats.recursion import State, advance, mass_below
from stats.spending import SpendingSpec, spending_function

__all__ = [
    "DesignSummary",
    "GroupSequentialDesign",
    "describe_design",
    "futility_boundaries",
    "inflation_factor",
]


@dataclass(frozen=True, slots=True)
class GroupSequentialDesign:
    """A pre-registered group sequential design.

    ``looks`` planned equally spaced analyses; efficacy by ``spending`` at level
    ``alpha`` (``sides=2``: symmetric two-sided; ``sides=1``: treatment better);
    optional non-binding futility by the β-spending function ``futility``;
    ``max_sample`` is the total sample (all arms) at information fraction 1, used by
    :func:`stats.sequential_test` to turn sample sizes into information fractions.
    """

    looks: int = 5
    alpha: float = 0.05
    power: float = 0.8
    sides: Sides = 2
    spending: SpendingSpec = "obrien-fleming"
    futility: SpendingSpec | None = None
    max_sample: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.looks, bool) or not isinstance(self.looks, int) or self.looks < 1:
            raise ValueError(f"looks must be a positive integer, got {self.looks!r}.")
        if self.sides not in (1, 2):
            raise ValueError(f"sides must be 1 or 2, got {self.sides!r}.")
        if not 0.0 < self.alpha < 0.5:
            raise ValueError(f"alpha must lie in (0, 0.5), got {self.alpha!r}.")
        if not 0.5 <= self.power < 1.0:
            raise ValueError(f"power must lie in [0.5, 1), got {self.power!r}.")
        spending_function(self.spending)
        if self.futility is not None:
            spending_function(self.futility)
        if self.max_sample is not None and (
            isinstance(self.max_sample, bool)
            or not isinstance(self.max_sample, int)
            or self.max_sample < 2
        ):
            raise ValueError(
                f"max_sample must be an integer of at least 2, got {self.max_sample!r}."
            )

    @property
    def beta(self) -> float:
        """Type II error 1 − power."""
        return 1.0 - self.power

    @property
    def fixed_drift(self) -> float:
        """z_{1−α/s} + z_{1−β}: the drift a single fixed-horizon test needs for the power."""
        return float(ndtri(1.0 - self.alpha / self.sides) + ndtri(self.power))

    @property
    def planned_fractions(self) -> tuple[float, ...]:
        """Equally spaced information fractions k/K."""
        return tuple((k + 1) / self.looks for k in range(self.looks))


@dataclass(frozen=True, slots=True)
class DesignSummary:
    """Operating characteristics of a design at its planned looks."""

    efficacy: BoundaryResult
    futility: tuple[float, ...] | None
    drift: float
    inflation_factor: float
    power: float
    expected_fraction_h0: float
    expected_fraction_h1: float
    stop_probabilities_h0: tuple[float, ...]
    stop_probabilities_h1: tuple[float, ...]

    @property
    def expected_sample_h0(self) -> float:
        """E[N | θ = 0] as a multiple of the fixed-horizon sample size."""
        return self.expected_fraction_h0 * self.inflation_factor

    @property
    def expected_sample_h1(self) -> float:
        """E[N | θ = MDE] as a multiple of the fixed-horizon sample size."""
        return self.expected_fraction_h1 * self.inflation_factor


def futility_boundaries(
    information_fractions: Sequence[float],
    efficacy: Sequence[float],
    *,
    drift: float,
    beta: float,
    spending: SpendingSpec,
    sides: Sides = 2,
    final: bool = True,
) -> tuple[float, ...]:
    """Non-binding β-spending futility boundaries (Pampallona, Tsiatis & Kim 2001).

    At look k, b_k solves P_η(continued and Z_k in the futility region) = g(t_k) − g(t_{k−1})
    where the region is Z ≤ b (one-sided) or |Z| < b (two-sided) and the continuation
    regions of earlier looks use both boundaries. A futility boundary never exceeds the
    efficacy boundary; with ``final=True`` the last one equals it (at the end of a trial
    every non-rejection is a futility stop).
    """
    fractions = validate_fractions(information_fractions)
    g = spending_function(spending)
    r = grid_size(fractions)
    state: State | None = None
    out: list[float] = []
    spent_before = 0.0
    for k, t in enumerate(fractions):
        c = float(efficacy[k])
        spent = g(1.0 if final and k == len(fractions) - 1 else min(t, 1.0), beta)
        b = _solve_futility(state, t, drift, spent - spent_before, c, sides)
        if final and k == len(fractions) - 1:
            b = c
        out.append(b)
        spent_before = spent
        state = advance(state, t, drift, continuation(c, b, sides), r)
    return tuple(out)


def _futility_mass(state: State | None, t: float, drift: float, b: float, sides: Sides) -> float:
    if sides == 2:
        return mass_below(state, t, drift, b) - mass_below(state, t, drift, -b)
    return mass_below(state, t, drift, b)


def _solve_futility(
    state: State | None,
    t: float,
    drift: float,
    target: float,
    cap: float,
    sides: Sides,
    clip: bool = True,
) -> float:
    low = 0.0 if sides == 2 else -12.0
    if target <= 1e-300:
        return low if sides == 2 else -math.inf
    high = cap if clip and math.isfinite(cap) else 40.0
    if _futility_mass(state, t, drift, high, sides) <= target:
        return high
    return float(
        brentq(lambda b: _futility_mass(state, t, drift, b, sides) - target, low, high, xtol=1e-12)
    )


def _last_futility_unclipped(
    design: GroupSequentialDesign, efficacy: Sequence[float], drift: float
) -> float:
    fractions = design.planned_fractions
    assert design.futility is not None
    head = (
        futility_boundaries(
            fractions[:-1],
            efficacy[:-1],
            drift=drift,
            beta=design.beta,
            spending=design.futility,
            sides=design.sides,
            final=False,
        )
        if len(fractions) > 1
        else ()
    )
    state: State | None = None
    r = grid_size(fractions)
    for k, t in enumerate(fractions[:-1]):
        state = advance(state, t, drift, continuation(efficacy[k], head[k], design.sides), r)
    g = spending_function(design.futility)
    prior = g(fractions[-2], design.beta) if len(fractions) > 1 else 0.0
    return _solve_futility(
        state, 1.0, drift, design.beta - prior, math.inf, design.sides, clip=False
    )


def describe_design(design: GroupSequentialDesign) -> DesignSummary:
    """Boundaries, drift, inflation factor, power and expected sample sizes at the
    planned looks (Jennison & Turnbull 2000, §2.6 and Tables 2.2/2.4 for designs without
    futility; Pampallona et al. 2001 with β-spending futility)."""
    fractions = design.planned_fractions
    efficacy = spending_boundaries(fractions, design.alpha, design.sides, design.spending)
    uppers = efficacy.upper

    def power_at(drift: float, futility: Sequence[float] | None) -> float:
        return sum(
            exit_probabilities(
                fractions, uppers, sides=design.sides, drift=drift, futility=futility
            ).upper
        )

    futility: tuple[float, ...] | None = None
    fixed = design.fixed_drift
    if design.futility is None:
        drift = float(
            brentq(lambda d: power_at(d, None) - design.power, 0.5 * fixed, 3.0 * fixed, xtol=1e-10)
        )
    else:
        drift = float(
            brentq(
                lambda d: _last_futility_unclipped(design, uppers, d) - uppers[-1],
                0.5 * fixed,
                3.0 * fixed,
                xtol=1e-10,
            )
        )
        futility = futility_boundaries(
            fractions,
            uppers,
            drift=drift,
            beta=design.beta,
            spending=design.futility,
            sides=design.sides,
        )

    h0 = exit_probabilities(fractions, uppers, sides=design.sides, drift=0.0, futility=futility)
    h1 = exit_probabilities(fractions, uppers, sides=design.sides, drift=drift, futility=futility)
    return DesignSummary(
        efficacy=efficacy,
        futility=futility,
        drift=drift,
        inflation_factor=(drift / fixed) ** 2,
        power=sum(h1.upper),
        expected_fraction_h0=_expected_fraction(fractions, h0.stop),
        expected_fraction_h1=_expected_fraction(fractions, h1.stop),
        stop_probabilities_h0=h0.stop,
        stop_probabilities_h1=h1.stop,
    )


def _expected_fraction(fractions: Sequence[float], stop: Sequence[float]) -> float:
    """E[information at stopping] / I_max; whatever has not stopped runs to the last look."""
    expected = 0.0
    remaining = 1.0
    for t, p in zip(fractions[:-1], stop[:-1], strict=True):
        expected += t * p
        remaining -= p
    return expected + fractions[-1] * remaining


def inflation_factor(boundaries: BoundaryResult, power: float = 0.8) -> float:
    """Maximum information over fixed-horizon information for ``power`` with these
    efficacy boundaries and no futility stop: R = (η/(z_{α/s} + z_β))², where η solves
    P_η(reject) = power (Jennison & Turnbull 2000, §2.6; their Tables 2.2 and 2.4 list R
    for the Pocock and O'Brien-Fleming designs)."""
    if not 0.5 <= power < 1.0:
        raise ValueError(f"power must lie in [0.5, 1), got {power!r}.")
    fractions = boundaries.information_fractions
    fixed = float(ndtri(1.0 - boundaries.alpha / boundaries.sides) + ndtri(power))

    def reject(drift: float) -> float:
        return sum(
            exit_probabilities(
                fractions, boundaries.upper, sides=boundaries.sides, drift=drift
            ).upper
        )

    drift = float(brentq(lambda d: reject(d) - power, 0.5 * fixed, 3.0 * fixed, xtol=1e-10))
    return (drift / fixed) ** 2
