"""Sample size and power for the committee's design.

Fixed horizon, for the unpooled (Wald) z-test that :func:`stats.compare` runs: with
allocation ratio k = n_t/n_c, the variance of the difference is σ_c²/n_c + σ_t²/n_t and

    n_c = (z_{1−α/s} + z_{1−β})² · (σ_c² + σ_t²/k) / δ²

(Chow, Shao & Wang 2008, "Sample Size Calculations in Clinical Research", §3.2 for means
and §4.2 for proportions with σ² = p(1 − p)). For equal variances this is exactly
``statsmodels.stats.power.NormalIndPower().solve_power``.

Sequential: the maximum sample is the fixed sample times the design's inflation factor,
and the expected sample under H0 and under the MDE follow from the stopping
probabilities (Jennison & Turnbull 2000, §2.6; :func:`stats.describe_design`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri

from stats.design import GroupSequentialDesign, describe_design

__all__ = [
    "SampleSize",
    "SequentialSampleSize",
    "fixed_sample_size_mean",
    "fixed_sample_size_proportion",
    "sequential_sample_size",
]


@dataclass(frozen=True, slots=True)
class SampleSize:
    """Units needed per arm (control, treatment) and in total."""

    control: int
    treatment: int
    effect: float
    alpha: float
    power: float
    sides: int

    @property
    def total(self) -> int:
        """Both arms together."""
        return self.control + self.treatment


@dataclass(frozen=True, slots=True)
class SequentialSampleSize:
    """Maximum and expected total sample of a sequential design."""

    fixed: int
    maximum: int
    expected_h0: float
    expected_h1: float
    inflation_factor: float


def _check(alpha: float, power: float, sides: int, ratio: float) -> None:
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha!r}.")
    if not 0.5 <= power < 1.0:
        raise ValueError(f"power must lie in [0.5, 1), got {power!r}.")
    if sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides!r}.")
    if not (math.isfinite(ratio) and ratio > 0):
        raise ValueError(f"the allocation ratio must be positive, got {ratio!r}.")


def _solve(
    var_c: float, var_t: float, delta: float, alpha: float, power: float, sides: int, ratio: float
) -> tuple[int, int]:
    z = float(ndtri(1.0 - alpha / sides) + ndtri(power))
    n_c = z * z * (var_c + var_t / ratio) / (delta * delta)
    return math.ceil(n_c - 1e-9), math.ceil(ratio * n_c - 1e-9)


def fixed_sample_size_proportion(
    baseline: float,
    mde: float,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    ratio: float = 1.0,
) -> SampleSize:
    """Sample size to detect a change of ``mde`` in a conversion rate of ``baseline``.

    ``relative=True`` reads ``mde`` as a fraction of the baseline (0.1 = +10 %).
    Unpooled Wald variance p(1 − p) in each arm (Chow, Shao & Wang 2008, §4.2).
    """
    _check(alpha, power, sides, ratio)
    if not 0.0 < baseline < 1.0:
        raise ValueError(f"the baseline rate must lie in (0, 1), got {baseline!r}.")
    delta = baseline * mde if relative else mde
    treated = baseline + delta
    if delta == 0 or not 0.0 < treated < 1.0:
        raise ValueError(
            f"the effect must be non-zero and keep the rate in (0, 1); got {treated!r}."
        )
    n_c, n_t = _solve(
        baseline * (1 - baseline), treated * (1 - treated), delta, alpha, power, sides, ratio
    )
    return SampleSize(n_c, n_t, delta, alpha, power, sides)


def fixed_sample_size_mean(
    sd: float,
    mde: float,
    *,
    baseline: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    sides: int = 2,
    ratio: float = 1.0,
) -> SampleSize:
    """Sample size to detect a change of ``mde`` in a mean with standard deviation ``sd``.

    ``relative=True`` needs the ``baseline`` mean and reads ``mde`` as a fraction of it.
    Equal standard deviations in both arms (Chow, Shao & Wang 2008, §3.2).
    """
    _check(alpha, power, sides, ratio)
    if not (math.isfinite(sd) and sd > 0):
        raise ValueError(f"the standard deviation must be positive, got {sd!r}.")
    if relative:
        if baseline is None or baseline == 0:
            raise ValueError("a relative MDE needs a non-zero baseline mean.")
        delta = baseline * mde
    else:
        delta = mde
    if delta == 0 or not math.isfinite(delta):
        raise ValueError("the effect must be a non-zero number.")
    n_c, n_t = _solve(sd * sd, sd * sd, delta, alpha, power, sides, ratio)
    return SampleSize(n_c, n_t, delta, alpha, power, sides)


def sequential_sample_size(
    design: GroupSequentialDesign, fixed: SampleSize | int
) -> SequentialSampleSize:
    """Maximum and expected total sample of ``design`` given the fixed-horizon sample.

    maximum = R × fixed; E[N | θ] = R × fixed × E[t_stop | θ] (Jennison & Turnbull 2000,
    §2.6), with R and E[t_stop] from :func:`stats.describe_design`.
    """
    total = fixed.total if isinstance(fixed, SampleSize) else int(fixed)
    if total < 2:
        raise ValueError("the fixed-horizon sample must be at least 2.")
    summary = describe_design(design)
    return SequentialSampleSize(
        fixed=total,
        maximum=math.ceil(total * summary.inflation_factor - 1e-9),
        expected_h0=total * summary.expected_sample_h0,
        expected_h1=total * summary.expected_sample_h1,
        inflation_factor=summary.inflation_factor,
    )
