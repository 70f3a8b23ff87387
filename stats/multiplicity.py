"""Multiplicity control for several comparisons.

* :func:`holm` — Holm (1979), "A simple sequentially rejective multiple test
  procedure", Scand. J. Statist. 6, 65-70: controls the family-wise error rate.
* :func:`benjamini_hochberg` — Benjamini & Hochberg (1995), J. R. Statist. Soc. B 57,
  289-300: controls the false discovery rate under independence or positive dependence.

Both return adjusted p-values in the input order, equal to statsmodels'
``multipletests(method="holm" | "fdr_bh")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["benjamini_hochberg", "holm"]


def _check(pvalues: Sequence[float]) -> list[float]:
    values = [float(p) for p in pvalues]
    for p in values:
        if math.isnan(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must lie in [0, 1], got {p!r}.")
    return values


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values: p̃_(i) = max_{j≤i} min(1, (m − j + 1)·p_(j))."""
    values = _check(pvalues)
    m = len(values)
    order = sorted(range(m), key=lambda i: values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values: p̃_(i) = min_{j≥i} min(1, m·p_(j)/j)."""
    values = _check(pvalues)
    m = len(values)
    order = sorted(range(m), key=lambda i: values[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for position, i in enumerate(order):
        rank = m - position
        running = min(running, m * values[i] / rank)
        adjusted[i] = min(running, 1.0)
    return adjusted
