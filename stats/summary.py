"""Sufficient statistics per arm.

Everything in :mod:`stats` works on these frozen summaries rather than on raw rows,
so that the heavy lifting is a SQL ``GROUP BY`` and the statistics are O(arms).
Each summary pools with ``+`` (daily aggregates combine), validates impossible input
with a ``ValueError`` that says what is wrong, and can be built from numpy arrays.

Variances are sample variances (``ddof=1``) for means, and the Wald form ``p(1-p)``
for proportions, the same conventions as ``statsmodels.stats.weightstats`` and
``statsmodels.stats.proportion``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Self

import numpy as np
import numpy.typing as npt

__all__ = [
    "CovariateSummary",
    "MeanSummary",
    "ProportionSummary",
    "RatioSummary",
]

_REL_TOL = 1e-9


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}.")


def _check_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")


def _check_second_moment(name: str, n: int, total: float, squares: float) -> None:
    """Refuse a sum of squares below sum²/n (a negative variance) beyond rounding."""
    if n == 0:
        if total != 0 or squares != 0:
            raise ValueError(f"an empty summary must have zero sums, got {name} sums.")
        return
    floor = total * total / n
    if squares < floor - _REL_TOL * max(abs(squares), abs(floor), 1.0):
        raise ValueError(
            f"{name}: the sum of squares ({squares!r}) is below sum²/n ({floor!r}), "
            "which would make the variance negative; the sums do not come from real data."
        )


def _centred(n: int, total: float, squares: float) -> float:
    """Σ(x - x̄)², clipped at zero to absorb rounding."""
    return max(squares - total * total / n, 0.0)


def _as_float_array(name: str, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return array


@dataclass(frozen=True, slots=True)
class MeanSummary:
    """Sufficient statistics of a continuous metric: n, Σx and Σx²."""

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _check_count("n", self.n)
        _check_finite("sum", self.sum)
        _check_finite("sum_squares", self.sum_squares)
        if self.sum_squares < 0:
            raise ValueError(f"sum_squares must not be negative, got {self.sum_squares}.")
        _check_second_moment("the metric", self.n, self.sum, self.sum_squares)

    @classmethod
    def from_array(cls, values: npt.ArrayLike) -> Self:
        """Summarise a one-dimensional array of observations."""
        x = _as_float_array("values", values)
        return cls(int(x.size), float(x.sum()), float(np.dot(x, x)))

    def __add__(self, other: MeanSummary) -> MeanSummary:
        if not isinstance(other, MeanSummary):
            return NotImplemented
        return MeanSummary(
            self.n + other.n, self.sum + other.sum, self.sum_squares + other.sum_squares
        )

    @property
    def mean(self) -> float:
        """x̄ (NaN for an empty summary)."""
        return self.sum / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        """Sample variance with ddof=1 (NaN below two observations)."""
        if self.n < 2:
            return math.nan
        return _centred(self.n, self.sum, self.sum_squares) / (self.n - 1)


@dataclass(frozen=True, slots=True)
class ProportionSummary:
    """Sufficient statistics of a binary metric: successes and trials."""

    count: int
    nobs: int

    def __post_init__(self) -> None:
        _check_count("count", self.count)
        _check_count("nobs", self.nobs)
        if self.count > self.nobs:
            raise ValueError(
                f"count ({self.count}) cannot exceed nobs ({self.nobs}): "
                "there cannot be more successes than trials."
            )

    @classmethod
    def from_array(cls, values: npt.ArrayLike) -> Self:
        """Summarise an array of 0/1 (or boolean) outcomes."""
        x = _as_float_array("values", values)
        if not np.all((x == 0) | (x == 1)):
            raise ValueError("a proportion needs outcomes that are 0 or 1.")
        return cls(int(x.sum()), int(x.size))

    def __add__(self, other: ProportionSummary) -> ProportionSummary:
        if not isinstance(other, ProportionSummary):
            return NotImplemented
        return ProportionSummary(self.count + other.count, self.nobs + other.nobs)

    @property
    def n(self) -> int:
        """Number of trials (alias of ``nobs`` so every summary has ``n``)."""
        return self.nobs

    @property
    def mean(self) -> float:
        """The proportion p = count / nobs (NaN for an empty summary)."""
        return self.count / self.nobs if self.nobs else math.nan

    @property
    def variance(self) -> float:
        """Per-trial Wald variance p(1-p), as statsmodels' ``method="wald"``."""
        p = self.mean
        return p * (1.0 - p) if self.nobs else math.nan

    def as_mean(self) -> MeanSummary:
        """The same data as a :class:`MeanSummary` (Σx = Σx² = count)."""
        return MeanSummary(self.nobs, float(self.count), float(self.count))


@dataclass(frozen=True, slots=True)
class RatioSummary:
    """Sufficient statistics of a ratio metric Σnumerator / Σdenominator.

    Per unit (lead) i we observe a numerator y_i (e.g. revenue) and a denominator
    x_i (e.g. won deals); the metric is Σy/Σx, analysed by the delta method
    (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric Analytics", §3).
    """

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    cross_sum: float

    def __post_init__(self) -> None:
        _check_count("n", self.n)
        for name in (
            "numerator_sum",
            "numerator_sum_squares",
            "denominator_sum",
            "denominator_sum_squares",
            "cross_sum",
        ):
            _check_finite(name, getattr(self, name))
        _check_second_moment(
            "the numerator", self.n, self.numerator_sum, self.numerator_sum_squares
        )
        _check_second_moment(
            "the denominator", self.n, self.denominator_sum, self.denominator_sum_squares
        )
        if self.n >= 2:
            vy = _centred(self.n, self.numerator_sum, self.numerator_sum_squares)
            vx = _centred(self.n, self.denominator_sum, self.denominator_sum_squares)
            cov = self.cross_sum - self.numerator_sum * self.denominator_sum / self.n
            bound = math.sqrt(vy * vx)
            if abs(cov) > bound + _REL_TOL * max(bound, abs(cov), 1.0):
                raise ValueError(
                    "cross_sum is inconsistent with the numerator and denominator sums "
                    "(|covariance| exceeds the product of standard deviations)."
                )

    @classmethod
    def from_arrays(cls, numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> Self:
        """Summarise paired per-unit numerator and denominator arrays."""
        y = _as_float_array("numerator", numerator)
        x = _as_float_array("denominator", denominator)
        if y.shape != x.shape:
            raise ValueError("numerator and denominator must have the same length.")
        return cls(
            int(y.size),
            float(y.sum()),
            float(np.dot(y, y)),
            float(x.sum()),
            float(np.dot(x, x)),
            float(np.dot(x, y)),
        )

    def __add__(self, other: RatioSummary) -> RatioSummary:
        if not isinstance(other, RatioSummary):
            return NotImplemented
        return RatioSummary(
            self.n + other.n,
            self.numerator_sum + other.numerator_sum,
            self.numerator_sum_squares + other.numerator_sum_squares,
            self.denominator_sum + other.denominator_sum,
            self.denominator_sum_squares + other.denominator_sum_squares,
            self.cross_sum + other.cross_sum,
        )

    @property
    def mean(self) -> float:
        """The ratio Σnumerator / Σdenominator (NaN when the denominator sums to 0)."""
        return self.numerator_sum / self.denominator_sum if self.denominator_sum else math.nan

    @property
    def variance(self) -> float:
        """n × Var(ratio) by the delta method (Deng et al. 2018, eq. 4), NaN if undefined.

        Var(Ȳ/X̄) ≈ (σ²_y - 2R σ_xy + R² σ²_x) / (n μ_x²); this property returns the
        per-unit quantity so that ``variance / n`` is the variance of the estimate.
        """
        if self.n < 2 or self.denominator_sum == 0:
            return math.nan
        n = self.n
        mu_x = self.denominator_sum / n
        r = self.numerator_sum / self.denominator_sum
        var_y = _centred(n, self.numerator_sum, self.numerator_sum_squares) / (n - 1)
        var_x = _centred(n, self.denominator_sum, self.denominator_sum_squares) / (n - 1)
        cov = (self.cross_sum - self.numerator_sum * self.denominator_sum / n) / (n - 1)
        return max(var_y - 2.0 * r * cov + r * r * var_x, 0.0) / (mu_x * mu_x)


@dataclass(frozen=True, slots=True)
class CovariateSummary:
    """Sums of a pre-assignment covariate X for CUPED: n, ΣX, ΣX² and ΣX·Y.

    Y is the outcome of the matching :class:`MeanSummary` / :class:`ProportionSummary`
    of the same arm (Deng, Xu, Kohavi & Walker 2013, "Improving the Sensitivity of
    Online Controlled Experiments by Utilizing Pre-Experiment Data").
    """

    n: int
    sum: float
    sum_squares: float
    cross_sum: float

    def __post_init__(self) -> None:
        _check_count("n", self.n)
        for name in ("sum", "sum_squares", "cross_sum"):
            _check_finite(name, getattr(self, name))
        _check_second_moment("the covariate", self.n, self.sum, self.sum_squares)

    @classmethod
    def from_arrays(cls, covariate: npt.ArrayLike, outcome: npt.ArrayLike) -> Self:
        """Summarise a covariate array against the outcome array of the same units."""
        x = _as_float_array("covariate", covariate)
        y = _as_float_array("outcome", outcome)
        if x.shape != y.shape:
            raise ValueError("covariate and outcome must have the same length.")
        return cls(int(x.size), float(x.sum()), float(np.dot(x, x)), float(np.dot(x, y)))

    def __add__(self, other: CovariateSummary) -> CovariateSummary:
        if not isinstance(other, CovariateSummary):
            return NotImplemented
        return CovariateSummary(
            self.n + other.n,
            self.sum + other.sum,
            self.sum_squares + other.sum_squares,
            self.cross_sum + other.cross_sum,
        )

    @property
    def mean(self) -> float:
        """X̄ (NaN for an empty summary)."""
        return self.sum / self.n if self.n else math.nan
