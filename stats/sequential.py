"""``sequential_test``: the decision at the latest look of a monitored comparison.

The look history is an input, never hidden state: given the design and the cumulative
summaries at every look so far, the function recomputes the boundaries at the *actual*
information fractions and decides at the latest look.

Group sequential designs (:class:`stats.GroupSequentialDesign`):

* efficacy when |Z_k| ≥ c_k (two-sided) or Z_k ≥ c_k (one-sided), with c_k from the
  spending function at the observed fractions (Lan & DeMets 1983);
* non-binding futility when Z_k falls in the β-spending futility region (Pampallona,
  Tsiatis & Kim 2001); the drift used for it is estimated from the registered minimum
  detectable effect and the current standard error, η̂ = MDE / (SE_k √t_k), when an MDE
  is given, otherwise the design's planned drift. Conversions are counts, so an exact
  tie between the arms is an atom of probability at Z = 0; a two-sided futility region
  |Z| < b narrower than that atom would swallow all of it (see :func:`tie_floor`);
* the repeated confidence interval θ̂_k ± c_k·SE_k (Jennison & Turnbull 2000, §9.1),
  valid whatever the stopping rule;
* the repeated p-value, the smallest α at which look k's boundary would be crossed
  (Jennison & Turnbull 2000, §9.3): p ≤ α exactly when the boundary is crossed.

Always-valid designs (:class:`stats.AlwaysValid`): the confidence sequence and
mixture-SPRT p-value at every look, with the running intersection of intervals and the
running minimum of p-values (Johari et al. 2022, §3; Howard et al. 2021, §3).

With several comparisons, :func:`sequential_holm` runs each at level α/m and applies
Holm's step-down to the repeated p-values (each is a valid p-value, so Holm's procedure
keeps the family-wise error at α; Maurer & Bretz 2013, "Multiple testing in group
sequential trials using graphical approaches", Stat. Biopharm. Res. 5, 311-320).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from stats.boundaries import _spending_boundaries, validate_fractions
from stats.compare import AlwaysValid, CompareResult, Difference, Summary, compare
from stats.design import GroupSequentialDesign, describe_design, futility_boundaries
from stats.multiplicity import holm
from stats.summary import CovariateSummary, ProportionSummary

__all__ = [
    "Decision",
    "Interim",
    "SequentialResult",
    "sequential_holm",
    "sequential_test",
    "tie_floor",
]

Decision = Literal["continue", "efficacy", "futility"]
Winner = Literal["control", "treatment"]
_P_FLOOR = 1e-12


@dataclass(frozen=True, slots=True)
class Interim:
    """Cumulative summaries of both arms at one look.

    ``information_fraction`` may be given directly; otherwise it is the combined sample
    over the design's ``max_sample``.
    """

    control: Summary
    treatment: Summary
    information_fraction: float | None = None
    covariate: tuple[CovariateSummary, CovariateSummary] | None = None


@dataclass(frozen=True, slots=True)
class SequentialResult:
    """The decision at the latest look; unpacks as ``(statistic, pvalue)``."""

    decision: Decision
    winner: Winner | None
    look: int
    final: bool
    information_fraction: float
    statistic: float
    estimate: float
    standard_error: float
    boundary: float
    futility_boundary: float | None
    ci: tuple[float, float]
    pvalue: float
    adjusted_pvalue: float
    alpha: float
    method: Literal["group_sequential", "always_valid"]
    status: str
    message: str
    information_fractions: tuple[float, ...]
    statistics: tuple[float, ...]
    estimates: tuple[float, ...]
    efficacy_boundaries: tuple[float, ...]
    futility_boundaries: tuple[float, ...] | None
    cumulative_alpha: float
    comparison: CompareResult

    def __iter__(self) -> Iterator[float]:
        yield self.statistic
        yield self.pvalue


def _alternative(design: GroupSequentialDesign) -> Literal["two-sided", "greater"]:
    return "two-sided" if design.sides == 2 else "greater"


def _fractions(design: GroupSequentialDesign, looks: Sequence[Interim]) -> tuple[float, ...]:
    raw: list[float] = []
    for look in looks:
        if look.information_fraction is not None:
            raw.append(float(look.information_fraction))
        else:
            if design.max_sample is None:
                raise ValueError(
                    "either give each look its information_fraction or the design a max_sample."
                )
            raw.append((look.control.n + look.treatment.n) / design.max_sample)
    capped = [min(t, 1.0) for t in raw]
    return validate_fractions(capped)


def tie_floor(
    control_count: npt.ArrayLike,
    control_n: npt.ArrayLike,
    treatment_count: npt.ArrayLike,
    treatment_n: npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """The |Z| an exact tie of two conversion rates stands for in a futility test
    (0 where the rates differ); element-wise over arrays.

    Counts put the difference of two rates on a lattice: with n_c and n_t trials the
    difference moves in steps of h = gcd(n_c, n_t)/(n_c·n_t), so Z near a tie moves in
    steps of h/SE, SE the Wald standard error at the pooled rate. Read as a continuous
    statistic (the continuity correction of Yates 1934), the atom at Z = 0 stands for
    |Z| ∈ [0, h/2) after folding the two signs together, and its centre is h/4 in Z
    units. A two-sided futility test compares max(|Z|, floor) with the boundary b_k:
    where b_k < h/4 (the committee design's first look, b_1 = 0.013) the atom stays out
    of the futility region, as the normal theory the boundary comes from would keep
    most of it out; wherever b_k exceeds h/4 nothing changes. Without this the exact
    ties — about 1 % of looks at 900 leads per arm and a 10 % rate — stop for futility
    and cost about 0.005 of power (docs/statistics.md, "Ties in conversion data").
    """
    cc = np.asarray(control_count, dtype=np.int64)
    nc = np.asarray(control_n, dtype=np.int64)
    ct = np.asarray(treatment_count, dtype=np.int64)
    nt = np.asarray(treatment_n, dtype=np.int64)
    safe_nc, safe_nt = np.maximum(nc, 1), np.maximum(nt, 1)
    pooled = (cc + ct) / (safe_nc + safe_nt)
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / safe_nc + 1.0 / safe_nt))
    tie = (ct * nc == cc * nt) & (nc > 0) & (nt > 0) & (se > 0)
    step = np.gcd(safe_nc, safe_nt) / (safe_nc.astype(np.float64) * safe_nt)
    floor: npt.NDArray[np.float64] = np.where(tie, step / np.where(se > 0, se, 1.0) / 4.0, 0.0)
    return floor


def _futility_floor(look: Interim) -> float:
    c, t = look.control, look.treatment
    if look.covariate is not None or not (
        isinstance(c, ProportionSummary) and isinstance(t, ProportionSummary)
    ):
        return 0.0
    return float(tie_floor(c.count, c.nobs, t.count, t.nobs))


@lru_cache(maxsize=64)
def _planned_drift(design: GroupSequentialDesign) -> float:
    return describe_design(design).drift


def _repeated_pvalue(
    fractions: tuple[float, ...], z: float, design: GroupSequentialDesign, final: bool
) -> float:
    """Smallest α' whose boundary at the last look is crossed by z (J&T 2000, §9.3)."""
    if not math.isfinite(z):
        return math.nan
    x = abs(z) if design.sides == 2 else z
    top = 0.999 if design.sides == 2 else 0.499

    def gap(log_alpha: float) -> float:
        level = math.exp(log_alpha)
        upper = _spending_boundaries(fractions, level, design.sides, design.spending, final).upper
        return x - upper[-1]

    lo, hi = math.log(_P_FLOOR), math.log(top)
    if gap(lo) >= 0:
        return _P_FLOOR
    if gap(hi) < 0:
        return 1.0
    return math.exp(float(brentq(gap, lo, hi, xtol=1e-6)))


def _group_sequential(
    design: GroupSequentialDesign,
    looks: Sequence[Interim],
    comparisons: list[CompareResult],
    difference: Difference,
    alpha: float,
    mde: float | None,
    final: bool | None,
) -> SequentialResult:
    fractions = _fractions(design, looks)
    latest = comparisons[-1]
    is_final = fractions[-1] >= 1.0 if final is None else final
    level = replace(design, alpha=alpha) if alpha != design.alpha else design
    efficacy = _spending_boundaries(fractions, alpha, design.sides, design.spending, is_final)
    c = efficacy.upper[-1]

    futility: tuple[float, ...] | None = None
    if design.futility is not None:
        if mde is not None and latest.ok and latest.standard_error > 0:
            drift = abs(mde) / (latest.standard_error * math.sqrt(fractions[-1]))
        else:
            drift = _planned_drift(level)
        futility = futility_boundaries(
            fractions,
            efficacy.upper,
            drift=drift,
            beta=design.beta,
            spending=design.futility,
            sides=design.sides,
            final=is_final,
        )
    b = None if futility is None else futility[-1]

    z = latest.statistic
    decision: Decision = "continue"
    winner: Winner | None = None
    if latest.ok:
        if (abs(z) if design.sides == 2 else z) >= c:
            decision = "efficacy"
            winner = "treatment" if z > 0 else "control"
        elif is_final:
            decision = "futility"
        elif b is not None and design.sides == 2:
            if max(abs(z), _futility_floor(looks[-1])) < b:
                decision = "futility"
        elif b is not None and z <= b:
            decision = "futility"

    se, est = latest.standard_error, latest.estimate
    if latest.ok:
        ci = (est - c * se, est + c * se) if design.sides == 2 else (est - c * se, math.inf)
    else:
        ci = (math.nan, math.nan)
    pvalue = _repeated_pvalue(fractions, z, design, is_final) if latest.ok else math.nan
    return SequentialResult(
        decision=decision,
        winner=winner,
        look=len(looks),
        final=is_final,
        information_fraction=fractions[-1],
        statistic=z,
        estimate=est,
        standard_error=se,
        boundary=c,
        futility_boundary=b,
        ci=ci,
        pvalue=pvalue,
        adjusted_pvalue=pvalue,
        alpha=alpha,
        method="group_sequential",
        status=latest.status,
        message=latest.message,
        information_fractions=fractions,
        statistics=tuple(r.statistic for r in comparisons),
        estimates=tuple(r.estimate for r in comparisons),
        efficacy_boundaries=efficacy.upper,
        futility_boundaries=futility,
        cumulative_alpha=efficacy.cumulative_alpha[-1],
        comparison=latest,
    )


def _always_valid(
    design: AlwaysValid,
    looks: Sequence[Interim],
    comparisons: list[CompareResult],
    alpha: float,
    mde: float | None,
    final: bool | None,
    max_sample: int | None,
) -> SequentialResult:
    low, high, p_run = -math.inf, math.inf, 1.0
    boundaries: list[float] = []
    for r in comparisons:
        if r.ok:
            low, high = max(low, r.ci[0]), min(high, r.ci[1])
            p_run = min(p_run, r.pvalue)
            boundaries.append((r.ci[1] - r.estimate) / r.standard_error)
        else:
            boundaries.append(math.nan)
    latest = comparisons[-1]
    n = latest.control_n + latest.treatment_n
    fraction = min(n / max_sample, 1.0) if max_sample else math.nan
    is_final = (fraction >= 1.0) if final is None else final
    decision: Decision = "continue"
    winner: Winner | None = None
    any_ok = any(r.ok for r in comparisons)
    if any_ok and p_run <= alpha:
        decision = "efficacy"
        winner = "treatment" if low > 0 else "control"
    elif any_ok and is_final:
        decision = "futility"
    elif any_ok and mde is not None and -abs(mde) < low and high < abs(mde):
        decision = "futility"
    return SequentialResult(
        decision=decision,
        winner=winner,
        look=len(looks),
        final=is_final,
        information_fraction=fraction,
        statistic=latest.statistic,
        estimate=latest.estimate,
        standard_error=latest.standard_error,
        boundary=boundaries[-1],
        futility_boundary=None,
        ci=(low, high) if any_ok else (math.nan, math.nan),
        pvalue=p_run if any_ok else math.nan,
        adjusted_pvalue=p_run if any_ok else math.nan,
        alpha=alpha,
        method="always_valid",
        status=latest.status,
        message=latest.message,
        information_fractions=tuple(
            min((r.control_n + r.treatment_n) / max_sample, 1.0) if max_sample else math.nan
            for r in comparisons
        ),
        statistics=tuple(r.statistic for r in comparisons),
        estimates=tuple(r.estimate for r in comparisons),
        efficacy_boundaries=tuple(boundaries),
        futility_boundaries=None,
        cumulative_alpha=alpha,
        comparison=latest,
    )


def sequential_test(
    design: GroupSequentialDesign | AlwaysValid,
    looks: Sequence[Interim],
    *,
    difference: Difference = "absolute",
    mde: float | None = None,
    alpha: float | None = None,
    final: bool | None = None,
    max_sample: int | None = None,
) -> SequentialResult:
    """Decide at the latest of ``looks``: ``continue``, ``efficacy`` (with the winning
    arm) or ``futility``.

    ``mde`` is the minimum detectable effect on the scale of ``difference``; it sets the
    futility drift of group sequential designs and the equivalence margin of always-valid
    ones. ``alpha`` overrides the design's level (always-valid designs default to 0.05).
    ``final`` marks the last analysis (by default: information fraction 1 reached); a
    final look that does not cross the efficacy boundary is a futility decision.
    """
    if not looks:
        raise ValueError("at least one look is needed.")
    if mde is not None and not (math.isfinite(mde) and mde != 0):
        raise ValueError(f"the minimum detectable effect must be a non-zero number, got {mde!r}.")
    if isinstance(design, GroupSequentialDesign):
        level = design.alpha if alpha is None else alpha
        alternative: Literal["two-sided", "greater"] = _alternative(design)
    elif isinstance(design, AlwaysValid):
        level = 0.05 if alpha is None else alpha
        alternative = "two-sided"
    else:
        raise ValueError(f"unknown design {design!r}.")
    if not 0.0 < level < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {level!r}.")
    sequential = design if isinstance(design, AlwaysValid) else None
    comparisons = [
        compare(
            look.control,
            look.treatment,
            difference=difference,
            alpha=level,
            alternative=alternative,
            sequential=sequential,
            covariate=look.covariate,
        )
        for look in looks
    ]
    if isinstance(design, GroupSequentialDesign):
        return _group_sequential(design, looks, comparisons, difference, level, mde, final)
    return _always_valid(design, looks, comparisons, level, mde, final, max_sample)


def sequential_holm(
    design: GroupSequentialDesign | AlwaysValid,
    comparisons: Mapping[str, Sequence[Interim]],
    *,
    difference: Difference = "absolute",
    mde: float | None = None,
    alpha: float | None = None,
    final: bool | None = None,
    max_sample: int | None = None,
) -> dict[str, SequentialResult]:
    """Several monitored comparisons with Holm control of the family-wise error.

    Each comparison is tested at level α/m (so its boundaries and repeated intervals are
    Bonferroni-simultaneous); the repeated p-values are Holm-adjusted (Holm 1979) and a
    comparison is declared efficacious when its adjusted p-value is at most α.
    """
    if not comparisons:
        raise ValueError("at least one comparison is needed.")
    base = (
        design.alpha
        if isinstance(design, GroupSequentialDesign) and alpha is None
        else (0.05 if alpha is None else alpha)
    )
    m = len(comparisons)
    results = {
        name: sequential_test(
            design,
            looks,
            difference=difference,
            mde=mde,
            alpha=base / m,
            final=final,
            max_sample=max_sample,
        )
        for name, looks in comparisons.items()
    }
    if m == 1:
        return results
    names = list(results)
    raw = [results[n].pvalue for n in names]
    usable = [i for i, p in enumerate(raw) if not math.isnan(p)]
    adjusted = dict(zip(usable, holm([raw[i] for i in usable]), strict=True))
    out: dict[str, SequentialResult] = {}
    for i, name in enumerate(names):
        r = results[name]
        adj = adjusted.get(i, math.nan)
        decision = r.decision
        winner = r.winner
        if not math.isnan(adj) and adj <= base:
            decision = "efficacy"
            winner = "treatment" if r.statistic > 0 else "control"
        elif decision == "efficacy":
            decision = "futility" if r.final else "continue"
            winner = None
        out[name] = replace(r, decision=decision, winner=winner, adjusted_pvalue=adj)
    return out
