"""Data-health checks: sample-ratio mismatch.

A sample-ratio mismatch (SRM) — arms whose sizes disagree with the planned allocation
more than chance allows — means randomisation or data collection is broken, and no
verdict should be drawn from such data (Fabijan et al. 2019, "Diagnosing Sample Ratio
Mismatch in Online Controlled Experiments", KDD '19). The test is Pearson's chi-square
goodness of fit of the observed counts against the planned weights.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from scipy.special import chdtrc

__all__ = ["SRMResult", "srm_test"]


@dataclass(frozen=True, slots=True)
class SRMResult:
    """Chi-square goodness of fit of arm sizes; unpacks as ``(statistic, pvalue)``."""

    statistic: float
    pvalue: float
    df: int
    expected: tuple[float, ...]
    status: str

    def __iter__(self) -> Iterator[float]:
        yield self.statistic
        yield self.pvalue


def srm_test(counts: Sequence[int], weights: Sequence[float]) -> SRMResult:
    """Pearson chi-square test of ``counts`` against the allocation ``weights``.

    Expected counts are N·w_i/Σw; arms with zero weight are dropped (they must then
    have zero units, otherwise the mismatch is certain and the p-value is 0). The
    statistic Σ(O − E)²/E has k − 1 degrees of freedom (Pearson 1900), the same as
    ``scipy.stats.chisquare``. With fewer than two weighted arms or no units at all the
    result has status ``"not_applicable"`` and p-value 1.
    """
    if len(counts) != len(weights):
        raise ValueError("one weight per arm count is needed.")
    for c in counts:
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ValueError(f"arm counts must be non-negative integers, got {c!r}.")
    for w in weights:
        if not (isinstance(w, int | float) and math.isfinite(w) and w >= 0):
            raise ValueError(f"weights must be finite and non-negative, got {w!r}.")
    if any(w == 0 and c > 0 for c, w in zip(counts, weights, strict=True)):
        return SRMResult(math.inf, 0.0, 0, (), "unplanned_arm")
    kept = [(c, w) for c, w in zip(counts, weights, strict=True) if w > 0]
    total = sum(c for c, _ in kept)
    if len(kept) < 2 or total == 0:
        return SRMResult(0.0, 1.0, 0, (), "not_applicable")
    weight_sum = sum(w for _, w in kept)
    expected = tuple(total * w / weight_sum for _, w in kept)
    statistic = sum((c - e) ** 2 / e for (c, _), e in zip(kept, expected, strict=True))
    df = len(kept) - 1
    return SRMResult(statistic, float(chdtrc(df, statistic)), df, expected, "ok")
