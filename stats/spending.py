"""Error-spending functions for group sequential designs.

A spending function f(t; a) gives the cumulative one-sided error spent by information
fraction t ∈ [0, 1], with f(0) = 0 and f(1) = a (Lan & DeMets 1983, Biometrika 70,
659-663). The families offered here:

* ``"obrien-fleming"`` — Lan & DeMets (1983): f(t) = 2(1 − Φ(Φ⁻¹(1 − a/2)/√t)),
  which approximates O'Brien & Fleming (1979) boundaries;
* ``"pocock"`` — Lan & DeMets (1983): f(t) = a·ln(1 + (e − 1)t), approximating Pocock (1977);
* ``("hsd", γ)`` — Hwang, Shih & DeCani (1990, Statistics in Medicine 9, 1439-1445):
  f(t) = a(1 − e^(−γt))/(1 − e^(−γ)) for γ ≠ 0 and a·t for γ = 0;
* ``("power", ρ)`` — Kim & DeMets (1987, Biometrika 74, 149-154): f(t) = a·t^ρ.

For a two-sided symmetric test at level α each side spends f(t; α/2); this is the
convention of gsDesign (``sfLDOF``), rpact and ldbounds, under which the O'Brien-Fleming
type boundaries for five equally spaced looks at α = 0.05 are 4.877, 3.357, 2.680,
2.290, 2.031.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy.special import ndtr, ndtri

__all__ = ["SpendingFunction", "SpendingSpec", "spending_function"]

SpendingSpec = str | tuple[str, float]
Family = Literal["obrien-fleming", "pocock", "hsd", "power"]

_ALIASES: dict[str, Family] = {
    "obrien-fleming": "obrien-fleming",
    "of": "obrien-fleming",
    "obf": "obrien-fleming",
    "pocock": "pocock",
    "hsd": "hsd",
    "power": "power",
}


@dataclass(frozen=True, slots=True)
class SpendingFunction:
    """One spending family with its parameter (γ for ``hsd``, ρ for ``power``)."""

    family: Family
    parameter: float | None = None

    def __post_init__(self) -> None:
        if self.family in ("hsd", "power"):
            if self.parameter is None or not math.isfinite(self.parameter):
                raise ValueError(f"the {self.family} spending function needs a finite parameter.")
            if self.family == "power" and self.parameter <= 0:
                raise ValueError(
                    f"the power spending exponent ρ must be positive, got {self.parameter}."
                )
        elif self.parameter is not None:
            raise ValueError(f"the {self.family} spending function takes no parameter.")

    def __call__(self, t: float, total: float) -> float:
        """Cumulative one-sided error spent by information fraction ``t`` out of ``total``."""
        if t <= 0.0:
            return 0.0
        if t >= 1.0:
            return total
        if self.family == "obrien-fleming":
            return float(2.0 * ndtr(-float(ndtri(1.0 - total / 2.0)) / math.sqrt(t)))
        if self.family == "pocock":
            return total * math.log1p((math.e - 1.0) * t)
        assert self.parameter is not None
        if self.family == "hsd":
            gamma = self.parameter
            if gamma == 0.0:
                return total * t
            return total * math.expm1(-gamma * t) / math.expm1(-gamma)
        return total * float(t**self.parameter)

    @property
    def label(self) -> str:
        """A short human-readable name, e.g. ``hsd(γ=-4)``."""
        if self.family == "hsd":
            return f"hsd(γ={self.parameter:g})"
        if self.family == "power":
            return f"power(ρ={self.parameter:g})"
        return self.family


def spending_function(spec: SpendingSpec | SpendingFunction) -> SpendingFunction:
    """Parse ``"obrien-fleming"``, ``"pocock"``, ``("hsd", γ)`` or ``("power", ρ)``."""
    if isinstance(spec, SpendingFunction):
        return spec
    if isinstance(spec, str):
        family = _ALIASES.get(spec.lower())
        if family is None or family in ("hsd", "power"):
            raise ValueError(
                f"unknown spending function {spec!r}: use 'obrien-fleming', 'pocock', "
                "('hsd', gamma) or ('power', rho)."
            )
        return SpendingFunction(family)
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        family = _ALIASES.get(spec[0].lower())
        if family not in ("hsd", "power"):
            raise ValueError(f"only 'hsd' and 'power' spending take a parameter, got {spec[0]!r}.")
        return SpendingFunction(family, float(spec[1]))
    raise ValueError(f"cannot read a spending function from {spec!r}.")
