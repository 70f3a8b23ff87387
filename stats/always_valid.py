"""Always-valid inference: confidence sequences and mixture-SPRT p-values.

Both methods here are the same Gaussian-mixture martingale seen from two sides:

* the **asymptotic confidence sequence** of Waudby-Smith, Arbour, Sinha, Kennedy &
  Ramdas (2023), "Time-uniform central limit theory and asymptotic confidence
  sequences", eq. (9) for the half-width and eq. (161) for the mixing parameter ρ
  tuned so that the sequence is tightest at a chosen sample size N. GrowthBook's
  ``gbstats`` and Eppo use this form; GrowthBook's default tuning is N = 5,000;
* the **normal-mixture SPRT** of Johari, Koomen, Pekelis & Walsh (2017/2022),
  "Always valid inference: continuous monitoring of A/B tests", Operations Research
  70(3), §4.2: with estimate θ̂, its variance V and a mixing variance τ², the mixture
  likelihood ratio is Λ = √(V/(V+τ²)) · exp(τ²θ̂² / (2V(V+τ²))) and the always-valid
  p-value is min(1, 1/Λ), kept as a running minimum over looks.

With τ² = s²ρ², where s² = V·n is the per-observation variance, the mSPRT interval
{θ : Λ(θ̂-θ) < 1/α} has exactly the half-width of eq. (9); the tests pin that identity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = [
    "confidence_sequence_halfwidth",
    "mixing_rho",
    "msprt_halfwidth",
    "msprt_pvalue",
    "running_minimum",
]


def mixing_rho(alpha: float, tuning: float) -> float:
    """The mixing parameter ρ of the asymptotic confidence sequence.

    Waudby-Smith et al. (2023), eq. (161): ρ = √((−2 ln α + ln(−2 ln α + 1)) / N),
    which makes the sequence tightest at n = N (the "tuning" sample size).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}.")
    if not (math.isfinite(tuning) and tuning > 0):
        raise ValueError(f"the tuning sample size must be a positive number, got {tuning}.")
    log_alpha = math.log(alpha)
    return math.sqrt((-2.0 * log_alpha + math.log(-2.0 * log_alpha + 1.0)) / tuning)


def confidence_sequence_halfwidth(s2: float, n: float, alpha: float, tuning: float) -> float:
    """Half-width of the two-sided asymptotic confidence sequence at sample size n.

    Waudby-Smith et al. (2023), eq. (9):
    half-width = s · √( 2(nρ² + 1) / (n²ρ²) · ln(√(nρ² + 1) / α) ),
    with s² the per-observation variance (for a two-sample difference, the variance of
    the estimate times the combined sample size) and ρ from :func:`mixing_rho`.
    """
    if n <= 0:
        raise ValueError(f"the sample size must be positive, got {n}.")
    if s2 < 0 or not math.isfinite(s2):
        raise ValueError(f"the variance must be a finite non-negative number, got {s2}.")
    rho = mixing_rho(alpha, tuning)
    nr2 = n * rho * rho
    return math.sqrt(s2) * math.sqrt(
        2.0 * (nr2 + 1.0) / (nr2 * n) * math.log(math.sqrt(nr2 + 1.0) / alpha)
    )


def msprt_halfwidth(variance: float, mixing_variance: float, alpha: float) -> float:
    """Half-width of the always-valid interval of the normal-mixture SPRT.

    Johari et al. (2022), §4.2: the interval is θ̂ ± √( V(V+τ²)/τ² · (ln((V+τ²)/V) − 2 ln α) ),
    where V is the variance of the estimate and τ² the mixing variance.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}.")
    if variance <= 0 or mixing_variance <= 0:
        raise ValueError("the variance and the mixing variance must be positive.")
    v, tau2 = variance, mixing_variance
    return math.sqrt(v * (v + tau2) / tau2 * (math.log((v + tau2) / v) - 2.0 * math.log(alpha)))


def msprt_pvalue(estimate: float, variance: float, mixing_variance: float) -> float:
    """Always-valid p-value min(1, 1/Λ) of the normal-mixture SPRT at one look.

    Johari et al. (2022), eq. (11)-(12) with a N(0, τ²) mixing distribution:
    Λ = √(V/(V+τ²)) · exp(τ²θ̂² / (2V(V+τ²))). Computed on the log scale so that very
    strong evidence gives a tiny p-value instead of an overflow.
    """
    if variance <= 0 or mixing_variance <= 0:
        raise ValueError("the variance and the mixing variance must be positive.")
    v, tau2 = variance, mixing_variance
    log_lambda = 0.5 * math.log(v / (v + tau2)) + tau2 * estimate * estimate / (
        2.0 * v * (v + tau2)
    )
    return math.exp(-log_lambda) if log_lambda > 0 else 1.0


def running_minimum(pvalues: Iterable[float]) -> list[float]:
    """Running minimum of always-valid p-values across looks (Johari et al. 2022, §3).

    An always-valid p-value sequence may be made monotone by taking its running minimum
    without losing validity; NaN entries (looks with no usable data) carry the previous
    minimum forward.
    """
    out: list[float] = []
    current = 1.0
    for p in pvalues:
        if not math.isnan(p):
            current = min(current, p)
        out.append(current)
    return out
