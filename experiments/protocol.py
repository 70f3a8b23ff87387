"""The pre-registered protocol of one dispute, and its canonical, hashed form.

A protocol is written in TOML (JSON is accepted too) and read by :func:`parse_protocol`,
which reports *every* problem at once with the field it concerns: types and ranges from
the model below, relations between fields (a control that is not an arm, an arm of an
unknown party, ...) from :mod:`experiments.protocol_rules`. Unknown fields are refused,
so a misspelt setting can never silently fall back to its default.

The canonical form is the validated protocol with every default filled in, serialised
as JSON with sorted keys and no whitespace; its SHA-256 is what registration locks.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from experiments.errors import Problem, ProtocolInvalid

__all__ = [
    "Arm",
    "Design",
    "Guardrail",
    "Limits",
    "Metric",
    "MinimumEffect",
    "Protocol",
    "canonical_json",
    "load_protocol_text",
    "parse_protocol",
    "protocol_hash",
]

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
MetricKind = Literal["conversion", "revenue_per_lead", "ratio", "count"]
Quantity = Literal["revenue", "won_deals", "deals"]
Spending = Literal["obrien-fleming", "pocock", "hsd"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Arm(_Model):
    """One proposal (or the status quo), owned by a party."""

    key: Slug
    name: str = Field(min_length=1, max_length=200)
    party: Slug
    weight: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    control: bool = False
    description: str = Field(default="", max_length=2000)


class Metric(_Model):
    """A metric computed per lead from its attributed deals.

    ``conversion``: 1 if the lead has a won deal in the window; ``revenue_per_lead``: the
    won amount in the window; ``count``: the number of won deals in the window;
    ``ratio``: Σnumerator/Σdenominator over leads (e.g. revenue / won_deals is the
    average deal size), analysed by the delta method.
    """

    name: str = Field(min_length=1, max_length=200)
    kind: MetricKind
    window_days: int = Field(ge=1, le=3650)
    cap_percentile: float | None = Field(default=None, gt=50, lt=100, allow_inf_nan=False)
    covariate: str | None = Field(default=None, min_length=1, max_length=100)
    numerator: Quantity | None = None
    denominator: Quantity | None = None


class Guardrail(Metric):
    """A metric neither side may sacrifice beyond ``margin`` (non-inferiority)."""

    margin: float = Field(gt=0, allow_inf_nan=False)
    margin_kind: Literal["absolute", "relative"] = "absolute"
    direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better"


class MinimumEffect(_Model):
    """The smallest effect worth acting on, absolute (metric units) or relative."""

    value: float = Field(gt=0, allow_inf_nan=False)
    kind: Literal["absolute", "relative"] = "absolute"


class Design(_Model):
    """The sequential design: group sequential (default) or always valid."""

    kind: Literal["group_sequential", "always_valid"] = "group_sequential"
    spending: Spending = "obrien-fleming"
    gamma: float | None = Field(default=None, ge=-40, le=40, allow_inf_nan=False)
    looks: int = Field(default=5, ge=1, le=200)
    cadence: Literal["daily", "weekly"] = "weekly"
    futility: Spending | Literal["none"] = "obrien-fleming"
    futility_gamma: float | None = Field(default=None, ge=-40, le=40, allow_inf_nan=False)
    tuning: float = Field(default=5000.0, gt=0, le=1e9, allow_inf_nan=False)


class Limits(_Model):
    """How long and how large the dispute may run, and the minimum before any verdict."""

    max_sample: int | None = Field(default=None, ge=2, le=10**9)
    max_duration_days: int | None = Field(default=None, ge=1, le=3650)
    min_duration_days: int = Field(default=14, ge=0, le=3650)
    min_sample: int = Field(default=0, ge=0, le=10**9)
    max_data_age_days: int = Field(default=7, ge=1, le=365)


class Protocol(_Model):
    """The pre-registered plan of one experiment."""

    id: Slug
    title: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=1000)
    parties: list[Slug] = Field(min_length=2, max_length=20)
    arms: list[Arm] = Field(min_length=2, max_length=20)
    control: Slug | None = None
    unit: Literal["lead"] = "lead"
    primary: Metric
    guardrails: list[Guardrail] = Field(default_factory=list, max_length=20)
    alternative: Literal["two-sided", "one-sided"] = "two-sided"
    alpha: float = Field(default=0.05, gt=0, lt=0.5, allow_inf_nan=False)
    power: float = Field(default=0.8, ge=0.5, lt=1, allow_inf_nan=False)
    mde: MinimumEffect
    design: Design = Field(default_factory=Design)
    limits: Limits = Field(default_factory=Limits)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    language: Literal["en", "pl", "ru"] = "en"
    unblinded: bool = False
    sign_offs: list[Slug] | None = None

    @property
    def control_arm(self) -> Arm | None:
        """The control arm, if the protocol names one."""
        key = self.control or next((a.key for a in self.arms if a.control), None)
        return next((a for a in self.arms if a.key == key), None)

    @property
    def required_sign_offs(self) -> list[str]:
        """Parties whose sign-off registration needs (all parties unless listed)."""
        return list(self.sign_offs) if self.sign_offs is not None else list(self.parties)

    def arm(self, key: str) -> Arm:
        """The arm with this key (KeyError if none)."""
        for a in self.arms:
            if a.key == key:
                return a
        raise KeyError(key)


_FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a protocol field (check the spelling)",
    "finite_number": "must be a finite number",
}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind in _FRIENDLY:
        return str(_FRIENDLY[kind])
    ctx = error.get("ctx") or {}
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "string_pattern_mismatch":
        return (
            "must be lower-case letters, digits, '-' or '_' (a slug)"
            if "a-z0-9" in str(ctx.get("pattern", ""))
            else "must be a three-letter upper-case ISO 4217 code"
        )
    return str(error.get("msg", "is not valid")).rstrip(".").lower()


def parse_protocol(data: object) -> Protocol:
    """Validate a protocol document, reporting every problem at once.

    Raises :class:`~experiments.errors.ProtocolInvalid` with one
    :class:`~experiments.errors.Problem` per field.
    """
    from experiments.protocol_rules import relational_problems

    if not isinstance(data, Mapping):
        raise ProtocolInvalid([Problem("", "a protocol must be a TOML table or a JSON object")])
    problems: list[Problem] = []
    protocol: Protocol | None = None
    try:
        protocol = Protocol.model_validate(dict(data))
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(Problem(_path(tuple(error["loc"])), _message(error)))
    problems.extend(relational_problems(data))
    if problems or protocol is None:
        unique = list(dict.fromkeys(problems))
        raise ProtocolInvalid(sorted(unique, key=lambda p: p.field))
    return protocol


def load_protocol_text(text: str, *, fmt: Literal["toml", "json"] | None = None) -> Protocol:
    """Parse TOML (default) or JSON text into a validated protocol."""
    kind = fmt or ("json" if text.lstrip().startswith("{") else "toml")
    try:
        data: object = json.loads(text) if kind == "json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProtocolInvalid([Problem("", f"not valid {kind.upper()}: {exc}")]) from exc
    return parse_protocol(data)


def canonical_json(protocol: Protocol) -> str:
    """The protocol with every default filled in, as JSON with sorted keys and no spaces.

    Key order and whitespace of the source therefore never change it (nor its hash).
    """
    return json.dumps(
        protocol.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def protocol_hash(protocol: Protocol) -> str:
    """SHA-256 (hex) of the canonical JSON, UTF-8 encoded."""
    return hashlib.sha256(canonical_json(protocol).encode("utf-8")).hexdigest()
