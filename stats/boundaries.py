"""Efficacy boundaries of group sequential tests.

* :func:`spending_boundaries` — the Lan & DeMets (1983) error-spending method: at
  each look the boundary is chosen so that the probability of first crossing there
  under H0 equals the error the spending function allots to the increment of
  information. Looks may be unequally spaced and unplanned; probabilities come from
  the recursive numerical integration of :mod:`stats.recursion`.
* :func:`classic_boundaries` — the constant-shape designs for K equally spaced looks:
  Pocock (1977, Biometrika 64, 191-199), c_k = C_P(K, α), and O'Brien & Fleming (1979,
  Biometrics 35, 549-556), c_k = C_B(K, α)·√(K/k), with the constant found by
  root-finding so that the overall type I error is α (Jennison & Turnbull 2000,
  Tables 2.1 and 2.3 list C_P and C_B).
* :func:`exit_probabilities` — the probabilities of stopping at each look for given
  boundaries and drift, used for power, expected sample size and Monte Carlo checks.

Two-sided designs are symmetric: reject when |Z_k| ≥ c_k.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scipy.optimize import brentq

from stats.recursion import GRID_R, Interval, State, advance, mass_above, mass_below
from stats.spending import SpendingFunction, SpendingSpec, spending_function

__all__ = [
    "BoundaryResult",
    "ExitProbabilities",
    "classic_boundaries",
    "continuation",
    "exit_probabilities",
    "grid_size",
    "solve_upper",
    "spending_boundaries",
    "validate_fractions",
]

Sides = Literal[1, 2]
_TINY = 1e-300


@dataclass(frozen=True, slots=True)
class BoundaryResult:
    """Efficacy z-boundaries, one per look, with the cumulative type I error spent."""

    information_fractions: tuple[float, ...]
    upper: tuple[float, ...]
    cumulative_alpha: tuple[float, ...]
    alpha: float
    sides: Sides
    method: str

    @property
    def lower(self) -> tuple[float, ...]:
        """Lower efficacy boundaries: −upper for two-sided designs, −∞ for one-sided."""
        if self.sides == 2:
            return tuple(-c for c in self.upper)
        return tuple(-math.inf for _ in self.upper)

    @property
    def nominal_pvalues(self) -> tuple[float, ...]:
        """The fixed-sample p-value each boundary corresponds to."""
        from scipy.special import ndtr

        return tuple(float(self.sides * ndtr(-c)) for c in self.upper)


@dataclass(frozen=True, slots=True)
class ExitProbabilities:
    """Per-look probabilities of stopping: above the upper boundary, below the lower
    efficacy boundary (two-sided), and inside the futility region."""

    upper: tuple[float, ...]
    lower: tuple[float, ...]
    futility: tuple[float, ...]

    @property
    def stop(self) -> tuple[float, ...]:
        """Probability of stopping at each look for any reason."""
        return tuple(
            a + b + c for a, b, c in zip(self.upper, self.lower, self.futility, strict=True)
        )


def validate_fractions(information_fractions: Sequence[float]) -> tuple[float, ...]:
    """Check that fractions are finite, positive, strictly increasing and at most 1."""
    fractions = tuple(float(t) for t in information_fractions)
    if not fractions:
        raise ValueError("at least one information fraction is needed.")
    previous = 0.0
    for t in fractions:
        if not math.isfinite(t) or t <= 0.0:
            raise ValueError(f"information fractions must be positive numbers, got {t!r}.")
        if t > 1.0 + 1e-12:
            raise ValueError(f"information fractions cannot exceed 1, got {t!r}.")
        if t <= previous:
            raise ValueError("information fractions must increase strictly from look to look.")
        previous = t
    return fractions


def grid_size(fractions: Sequence[float]) -> int:
    """Grid parameter r, finer when looks are close together.

    The integration kernel between looks has standard deviation √(Δ_k/t_{k−1}) on the z
    scale; the grid spacing (2/r at the centre with Simpson mid-points) is kept below a
    third of it, with J&T's r = 16 as the floor and 96 as the ceiling.
    """
    smallest = math.inf
    for previous, t in itertools.pairwise(fractions):
        smallest = min(smallest, math.sqrt((t - previous) / previous))
    if math.isinf(smallest):
        return GRID_R
    return int(min(96, max(GRID_R, math.ceil(6.0 / smallest))))


def continuation(upper: float, futility: float | None, sides: Sides) -> list[Interval]:
    """The continuation region at one look as a list of intervals."""
    if sides == 2:
        inner = 0.0 if futility is None else max(futility, 0.0)
        if inner <= 0.0:
            return [(-upper, upper)]
        if inner >= upper:
            return []
        return [(-upper, -inner), (inner, upper)]
    lower = -math.inf if futility is None else futility
    return [(lower, upper)] if upper > lower else []


def solve_upper(state: State | None, t: float, target: float, sides: Sides) -> float:
    """The boundary c with P_0(continued and Z ≥ c, or Z ≤ −c if two-sided) = target."""
    if target <= _TINY:
        return math.inf

    def crossing(c: float) -> float:
        up = mass_above(state, t, 0.0, c)
        return up + (mass_below(state, t, 0.0, -c) if sides == 2 else 0.0)

    low = 0.0 if sides == 2 else -12.0
    if crossing(low) <= target:
        return low
    return float(brentq(lambda c: crossing(c) / target - 1.0, low, 40.0, xtol=1e-12, rtol=1e-12))


def spending_boundaries(
    information_fractions: Sequence[float],
    alpha: float = 0.05,
    sides: Sides = 2,
    spending: SpendingSpec | SpendingFunction = "obrien-fleming",
    *,
    final: bool = False,
) -> BoundaryResult:
    """Lan-DeMets error-spending efficacy boundaries at the given information fractions.

    At look k the boundary c_k solves P_0(first crossing at look k) = f(t_k) − f(t_{k−1})
    (Lan & DeMets 1983, eq. 2; two-sided: each side spends f(·; α/2), Jennison &
    Turnbull 2000, §7.2), computed by recursive numerical integration (Armitage,
    McPherson & Rowe 1969). Fractions may be unequally spaced; the last one need not be 1.
    With ``final=True`` the last look spends all the remaining α even when its
    information fraction is below 1 (the trial ends short of its maximum information;
    Jennison & Turnbull 2000, §7.2.2).
    """
    fractions = validate_fractions(information_fractions)
    _check_alpha(alpha, sides)
    return _spending_boundaries(fractions, alpha, sides, spending, final)


def _spending_boundaries(
    fractions: tuple[float, ...],
    alpha: float,
    sides: Sides,
    spending: SpendingSpec | SpendingFunction,
    final: bool,
) -> BoundaryResult:
    f = spending_function(spending)
    per_side = alpha / sides
    r = grid_size(fractions)
    state: State | None = None
    uppers: list[float] = []
    cumulative: list[float] = []
    spent_before = 0.0
    last = len(fractions) - 1
    for k, t in enumerate(fractions):
        spent = sides * f(1.0 if final and k == last else min(t, 1.0), per_side)
        c = solve_upper(state, t, spent - spent_before, sides)
        uppers.append(c)
        cumulative.append(spent)
        spent_before = spent
        state = advance(state, t, 0.0, continuation(c, None, sides), r)
    return BoundaryResult(fractions, tuple(uppers), tuple(cumulative), alpha, sides, f.label)


def exit_probabilities(
    information_fractions: Sequence[float],
    upper: Sequence[float],
    *,
    sides: Sides = 2,
    drift: float = 0.0,
    futility: Sequence[float] | None = None,
) -> ExitProbabilities:
    """Probabilities of stopping at each look for given boundaries under drift η.

    Z_k has mean η√t_k (Jennison & Turnbull 2000, §3.1); ``futility`` holds the inner
    (two-sided: |Z| < b) or lower (one-sided: Z ≤ b) futility boundaries, if any.
    """
    fractions = validate_fractions(information_fractions)
    if len(upper) != len(fractions) or (futility is not None and len(futility) != len(fractions)):
        raise ValueError("one boundary per information fraction is needed.")
    r = grid_size(fractions)
    state: State | None = None
    ups: list[float] = []
    lows: list[float] = []
    futs: list[float] = []
    for k, t in enumerate(fractions):
        c = float(upper[k])
        b = None if futility is None else float(futility[k])
        up = mass_above(state, t, drift, c)
        low = mass_below(state, t, drift, -c) if sides == 2 else 0.0
        if b is None:
            fut = 0.0
        elif sides == 2:
            inner = min(max(b, 0.0), c)
            fut = mass_below(state, t, drift, inner) - mass_below(state, t, drift, -inner)
        else:
            fut = mass_below(state, t, drift, min(b, c))
        ups.append(up)
        lows.append(low)
        futs.append(max(fut, 0.0))
        state = advance(state, t, drift, continuation(c, b, sides), r)
    return ExitProbabilities(tuple(ups), tuple(lows), tuple(futs))


def classic_boundaries(
    k: int,
    alpha: float = 0.05,
    sides: Sides = 2,
    kind: Literal["pocock", "obrien-fleming"] = "pocock",
) -> BoundaryResult:
    """Pocock (1977) or O'Brien & Fleming (1979) boundaries for k equally spaced looks.

    Pocock: c_k = C_P(K, α) for every look; O'Brien-Fleming: c_k = C_B(K, α)·√(K/k).
    The constant is found so that P_0(cross at some look) = α (Jennison & Turnbull 2000,
    §2.4-2.5, whose Tables 2.1 and 2.3 tabulate C_P and C_B).
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"the number of looks must be a positive integer, got {k!r}.")
    if kind not in ("pocock", "obrien-fleming"):
        raise ValueError(f"kind must be 'pocock' or 'obrien-fleming', got {kind!r}.")
    _check_alpha(alpha, sides)
    fractions = tuple((i + 1) / k for i in range(k))

    def shape(constant: float) -> list[float]:
        if kind == "pocock":
            return [constant] * k
        return [constant * math.sqrt(k / (i + 1)) for i in range(k)]

    def total_error(constant: float) -> float:
        probs = exit_probabilities(fractions, shape(constant), sides=sides)
        return sum(probs.upper) + sum(probs.lower)

    constant = float(brentq(lambda c: total_error(c) - alpha, 0.5, 10.0, xtol=1e-12))
    uppers = shape(constant)
    probs = exit_probabilities(fractions, uppers, sides=sides)
    cumulative: list[float] = []
    running = 0.0
    for up, low in zip(probs.upper, probs.lower, strict=True):
        running += up + low
        cumulative.append(running)
    return BoundaryResult(fractions, tuple(uppers), tuple(cumulative), alpha, sides, kind)


def _check_alpha(alpha: float, sides: int) -> None:
    if sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides!r}.")
    if not (isinstance(alpha, float | int) and 0.0 < alpha < 0.5):
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha!r}.")
