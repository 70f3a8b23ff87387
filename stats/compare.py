"""Two-arm comparison of sufficient statistics: ``compare(control, treatment, ...)``.

Fixed-horizon inference is the large-sample z-test with unpooled (Welch) variances,
which is what ``statsmodels.stats.weightstats.CompareMeans.ztest_ind(usevar="unequal")``
computes for means and ``statsmodels.stats.proportion.test_proportions_2indep(
method="wald")`` for proportions; the tests check both.

* Relative differences (treatment/control − 1) use the delta method
  (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric Analytics", §3.2).
* Ratio metrics use the delta-method variance of :class:`stats.RatioSummary`.
* CUPED (Deng, Xu, Kohavi & Walker 2013, eq. 3-4) adjusts each arm's mean by
  θ(X̄_arm − X̄_pooled), with θ = Cov(X, Y)/Var(X) estimated from the pooled data.
* ``sequential=AlwaysValid(tuning=N)`` swaps the fixed-horizon interval and p-value for
  the always-valid ones of :mod:`stats.always_valid`.

Degenerate-but-legal data (an empty arm, a single observation, zero variance, a zero
baseline for a relative difference) return a result whose ``status`` says so; the
numbers that cannot be computed are NaN, never silently.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from scipy.special import ndtr, ndtri

from stats.always_valid import (
    confidence_sequence_halfwidth,
    mixing_rho,
    msprt_halfwidth,
    msprt_pvalue,
)
from stats.summary import CovariateSummary, MeanSummary, ProportionSummary, RatioSummary

__all__ = [
    "Alternative",
    "AlwaysValid",
    "CompareResult",
    "Difference",
    "Summary",
    "compare",
]

Difference = Literal["absolute", "relative"]
Alternative = Literal["two-sided", "greater", "less"]
Summary = MeanSummary | ProportionSummary | RatioSummary
Status = Literal[
    "ok", "empty_arm", "insufficient_data", "zero_variance", "zero_baseline", "zero_denominator"
]

NAN = math.nan


@dataclass(frozen=True, slots=True)
class AlwaysValid:
    """Always-valid (anytime) inference for open-ended monitoring.

    ``tuning`` is the sample size N at which the confidence sequence is tightest
    (Waudby-Smith et al. 2023, eq. 161); 5,000 is GrowthBook's default.
    ``method="msprt"`` uses Johari et al.'s normal-mixture SPRT with a fixed mixing
    variance τ² (``mixing_variance``); without one it is derived from ``tuning`` and is
    then identical to the confidence sequence.
    """

    tuning: float = 5000.0
    method: Literal["confidence-sequence", "msprt"] = "confidence-sequence"
    mixing_variance: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tuning) and self.tuning > 0):
            raise ValueError(f"tuning must be a positive sample size, got {self.tuning}.")
        if self.method not in ("confidence-sequence", "msprt"):
            raise ValueError(f"unknown always-valid method {self.method!r}.")
        if self.mixing_variance is not None and not (
            math.isfinite(self.mixing_variance) and self.mixing_variance > 0
        ):
            raise ValueError("mixing_variance must be a positive number.")


@dataclass(frozen=True, slots=True)
class CompareResult:
    """The outcome of :func:`compare`; unpacks as ``(statistic, pvalue)`` like scipy."""

    estimate: float
    standard_error: float
    ci: tuple[float, float]
    pvalue: float
    statistic: float
    status: Status
    message: str
    difference: Difference
    alternative: Alternative
    alpha: float
    control_mean: float
    treatment_mean: float
    control_n: int
    treatment_n: int
    theta: float = NAN
    sequential: Literal["fixed", "always-valid"] = "fixed"

    def __iter__(self) -> Iterator[float]:
        yield self.statistic
        yield self.pvalue

    @property
    def ok(self) -> bool:
        """True when every number could be computed."""
        return self.status == "ok"

    def confidence_interval(self, confidence_level: float | None = None) -> tuple[float, float]:
        """The interval at ``confidence_level`` (default 1 − alpha).

        Fixed-horizon results recompute it from the estimate and standard error; an
        always-valid result only has its own level.
        """
        if confidence_level is None or math.isclose(confidence_level, 1.0 - self.alpha):
            return self.ci
        if self.sequential != "fixed":
            raise ValueError("an always-valid interval exists only at its own level 1 − alpha.")
        return _interval(
            self.estimate, self.standard_error, 1.0 - confidence_level, self.alternative
        )


@dataclass(frozen=True, slots=True)
class _Arm:
    mean: float
    variance: float  # per-unit variance; variance / n is the variance of the mean
    n: int


def _interval(
    estimate: float, se: float, alpha: float, alternative: Alternative
) -> tuple[float, float]:
    if alternative == "two-sided":
        half = float(ndtri(1.0 - alpha / 2.0)) * se
        return (estimate - half, estimate + half)
    one = float(ndtri(1.0 - alpha)) * se
    if alternative == "greater":
        return (estimate - one, math.inf)
    return (-math.inf, estimate + one)


def _z_pvalue(z: float, alternative: Alternative) -> float:
    if alternative == "two-sided":
        return float(2.0 * ndtr(-abs(z)))
    if alternative == "greater":
        return float(ndtr(-z))
    return float(ndtr(z))


def _arm(summary: Summary) -> _Arm:
    return _Arm(summary.mean, summary.variance, summary.n)


def _cuped_arms(
    control: MeanSummary | ProportionSummary,
    treatment: MeanSummary | ProportionSummary,
    covariate: tuple[CovariateSummary, CovariateSummary],
) -> tuple[_Arm, _Arm, float]:
    """Adjusted means and variances with θ from pooled data (Deng et al. 2013, eq. 3-4)."""
    cov_c, cov_t = covariate
    ys = [s.as_mean() if isinstance(s, ProportionSummary) else s for s in (control, treatment)]
    for y, x in zip(ys, (cov_c, cov_t), strict=True):
        if y.n != x.n:
            raise ValueError(
                f"the covariate summary covers {x.n} units but the outcome covers {y.n}; "
                "they must describe the same leads."
            )
    pooled_y = ys[0] + ys[1]
    pooled_x = cov_c + cov_t
    n = pooled_y.n
    var_x = pooled_x.sum_squares - pooled_x.sum * pooled_x.sum / n
    cov_xy = pooled_x.cross_sum - pooled_x.sum * pooled_y.sum / n
    theta = cov_xy / var_x if var_x > 1e-12 * max(pooled_x.sum_squares, 1.0) else 0.0
    x_bar = pooled_x.sum / n
    arms = []
    for y, x in zip(ys, (cov_c, cov_t), strict=True):
        m = y.n
        vy = max(y.sum_squares - y.sum * y.sum / m, 0.0) / (m - 1)
        vx = max(x.sum_squares - x.sum * x.sum / m, 0.0) / (m - 1)
        cxy = (x.cross_sum - x.sum * y.sum / m) / (m - 1)
        adjusted = y.sum / m - theta * (x.sum / m - x_bar)
        variance = max(vy - 2.0 * theta * cxy + theta * theta * vx, 0.0)
        arms.append(_Arm(adjusted, variance, m))
    return arms[0], arms[1], theta


def compare(
    control: Summary,
    treatment: Summary,
    *,
    difference: Difference = "absolute",
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    sequential: AlwaysValid | None = None,
    covariate: tuple[CovariateSummary, CovariateSummary] | None = None,
) -> CompareResult:
    """Compare treatment with control on one metric.

    ``estimate`` is treatment − control (``difference="absolute"``) or
    treatment/control − 1 (``"relative"``, delta method: Deng et al. 2018, §3.2),
    ``statistic`` is the z statistic estimate/standard_error, ``pvalue`` and ``ci``
    follow ``alternative`` ("greater" means treatment is better). With
    ``sequential=AlwaysValid(...)`` the interval is the asymptotic confidence sequence
    (Waudby-Smith et al. 2023, eq. 9) and the p-value the mixture-SPRT p-value
    (Johari et al. 2022, §4.2), both valid under continuous monitoring. ``covariate``
    (one :class:`CovariateSummary` per arm, control first) applies CUPED with θ from the
    pooled data (Deng et al. 2013).
    """
    if type(control) is not type(treatment):
        raise ValueError(
            "control and treatment must be the same kind of summary, got "
            f"{type(control).__name__} and {type(treatment).__name__}."
        )
    if not isinstance(control, MeanSummary | ProportionSummary | RatioSummary):
        raise ValueError(f"compare() does not know the summary type {type(control).__name__}.")
    if difference not in ("absolute", "relative"):
        raise ValueError(f"difference must be 'absolute' or 'relative', got {difference!r}.")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(
            f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}."
        )
    if not (isinstance(alpha, float | int) and 0.0 < alpha < 1.0):
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}.")
    if covariate is not None and isinstance(control, RatioSummary):
        raise ValueError("CUPED adjustment is defined here for means and proportions, not ratios.")
    mode: Literal["fixed", "always-valid"] = "fixed" if sequential is None else "always-valid"

    c, t = _arm(control), _arm(treatment)
    theta = NAN

    def degenerate(
        status: Status, message: str, estimate: float = NAN, se: float = NAN
    ) -> CompareResult:
        return CompareResult(
            estimate=estimate,
            standard_error=se,
            ci=(NAN, NAN),
            pvalue=NAN,
            statistic=NAN,
            status=status,
            message=message,
            difference=difference,
            alternative=alternative,
            alpha=alpha,
            control_mean=c.mean,
            treatment_mean=t.mean,
            control_n=c.n,
            treatment_n=t.n,
            theta=theta,
            sequential=mode,
        )

    if c.n == 0 or t.n == 0:
        return degenerate("empty_arm", "an arm has no observations yet")
    if (
        isinstance(control, RatioSummary)
        and isinstance(treatment, RatioSummary)
        and (control.denominator_sum == 0 or treatment.denominator_sum == 0)
    ):
        return degenerate("zero_denominator", "an arm's ratio denominator sums to zero")
    needs_two = not isinstance(control, ProportionSummary) or covariate is not None
    if needs_two and (c.n < 2 or t.n < 2):
        return degenerate("insufficient_data", "a variance needs at least two observations per arm")

    if covariate is not None:
        assert not isinstance(control, RatioSummary)
        assert not isinstance(treatment, RatioSummary)
        c, t, theta = _cuped_arms(control, treatment, covariate)

    if difference == "absolute":
        estimate = t.mean - c.mean
        variance = t.variance / t.n + c.variance / c.n
    else:
        baseline2 = c.mean * c.mean
        estimate = t.mean / c.mean - 1.0 if baseline2 > 0.0 else NAN
        if not math.isfinite(estimate):  # zero, or so near zero that its square underflows
            return degenerate(
                "zero_baseline", "the control mean is zero, so a relative change is undefined"
            )
        # Delta method, written with the ratio t/c so that no power of the mean underflows.
        ratio = t.mean / c.mean
        variance = (t.variance / t.n + c.variance * ratio * ratio / c.n) / baseline2

    se = math.sqrt(variance)
    if se == 0.0:
        return degenerate(
            "zero_variance",
            "both arms have zero variance, so no test statistic exists",
            estimate=estimate,
            se=0.0,
        )
    z = estimate / se

    if sequential is None:
        ci = _interval(estimate, se, alpha, alternative)
        pvalue = _z_pvalue(z, alternative)
    else:
        n_total = c.n + t.n
        s2 = variance * n_total
        if sequential.method == "msprt" and sequential.mixing_variance is not None:
            tau2 = sequential.mixing_variance
            half = msprt_halfwidth(variance, tau2, alpha)
        else:
            tau2 = s2 * mixing_rho(alpha, sequential.tuning) ** 2
            half = confidence_sequence_halfwidth(s2, n_total, alpha, sequential.tuning)
        p_two = msprt_pvalue(estimate, variance, tau2)
        if alternative == "two-sided":
            ci = (estimate - half, estimate + half)
            pvalue = p_two
        elif alternative == "greater":
            ci = (estimate - half, math.inf)
            pvalue = p_two if estimate > 0 else 1.0
        else:
            ci = (-math.inf, estimate + half)
            pvalue = p_two if estimate < 0 else 1.0

    return CompareResult(
        estimate=estimate,
        standard_error=se,
        ci=ci,
        pvalue=pvalue,
        statistic=z,
        status="ok",
        message="",
        difference=difference,
        alternative=alternative,
        alpha=alpha,
        control_mean=c.mean,
        treatment_mean=t.mean,
        control_n=c.n,
        treatment_n=t.n,
        theta=theta,
        sequential=mode,
    )
