"""Protocol validation: good protocols pass, each rule refuses with a field-level
message, every problem is reported at once, and the canonical hash is stable."""

import json
import tomllib
from pathlib import Path

import pytest

from experiments.errors import ProtocolInvalid
from experiments.protocol import canonical_json, load_protocol_text, parse_protocol, protocol_hash
from tests.conftest import EXAMPLES
from tests.factories import BASE, protocol_data


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_protocols_validate(path: Path):
    protocol = load_protocol_text(path.read_text())
    assert protocol.id == path.stem


def test_defaults_are_filled_in():
    protocol = parse_protocol(protocol_data())
    assert protocol.alpha == 0.05
    assert protocol.power == 0.8
    assert protocol.design.kind == "group_sequential"
    assert protocol.design.looks == 5
    assert protocol.design.futility == "obrien-fleming"
    assert protocol.required_sign_offs == ["marketing", "sales"]
    assert protocol.control_arm is None


def arm(i, **changes):
    arms = [dict(a) for a in BASE["arms"]]
    arms[i].update(changes)
    return arms


BAD = {
    "weight not positive": (
        protocol_data(arms=arm(0, weight=0)),
        "arms[0].weight",
        "greater than 0",
    ),
    "negative weight": (protocol_data(arms=arm(1, weight=-2)), "arms[1].weight", "greater than 0"),
    "alpha too large": (protocol_data(alpha=0.5), "alpha", "less than 0.5"),
    "alpha zero": (protocol_data(alpha=0), "alpha", "greater than 0"),
    "ratio without denominator": (
        protocol_data(
            primary={
                "name": "deal size",
                "kind": "ratio",
                "window_days": 30,
                "numerator": "revenue",
            }
        ),
        "primary.denominator",
        "needs its denominator",
    ),
    "guardrail without margin": (
        protocol_data(guardrails=[{"name": "conv", "kind": "conversion", "window_days": 30}]),
        "guardrails[0].margin",
        "is required",
    ),
    "control not an arm": (protocol_data(control="email"), "control", "not one of the arms"),
    "unknown party": (
        protocol_data(arms=arm(1, party="finance")),
        "arms[1].party",
        "not one of the parties",
    ),
    "unknown sign-off party": (
        protocol_data(sign_offs=["marketing", "legal"]),
        "sign_offs[1]",
        "not one of the parties",
    ),
    "duplicate arm key": (protocol_data(arms=arm(1, key="webinar")), "arms", "more than once"),
    "duplicate party": (
        protocol_data(parties=["marketing", "marketing", "sales"]),
        "parties",
        "more than once",
    ),
    "two controls": (
        protocol_data(arms=[dict(a, control=True) for a in BASE["arms"]]),
        "arms",
        "only one arm",
    ),
    "unknown field": (protocol_data(alpah=0.01), "alpah", "not a protocol field"),
    "unknown currency": (protocol_data(currency="XYZ"), "currency", "ISO 4217"),
    "lower-case currency": (protocol_data(currency="pln"), "currency", "ISO 4217"),
    "bad slug": (protocol_data(id="Webinar Test"), "id", "slug"),
    "capped conversion": (
        protocol_data(
            primary={"name": "c", "kind": "conversion", "window_days": 30, "cap_percentile": 99}
        ),
        "primary.cap_percentile",
        "cannot be capped",
    ),
    "ratio covariate": (
        protocol_data(
            primary={
                "name": "r",
                "kind": "ratio",
                "window_days": 30,
                "numerator": "revenue",
                "denominator": "won_deals",
                "covariate": "score",
            }
        ),
        "primary.covariate",
        "not ratios",
    ),
    "numerator on a non-ratio": (
        protocol_data(
            primary={"name": "c", "kind": "count", "window_days": 30, "numerator": "revenue"}
        ),
        "primary.numerator",
        "only ratio",
    ),
    "one-sided without control": (
        protocol_data(alternative="one-sided"),
        "alternative",
        "needs a control",
    ),
    "hsd without gamma": (protocol_data(design={"spending": "hsd"}), "design.gamma", "needs gamma"),
    "gamma without hsd": (protocol_data(design={"gamma": -4}), "design.gamma", "only the hsd"),
    "group sequential without max sample": (
        protocol_data(limits={"max_duration_days": 90}),
        "limits.max_sample",
        "maximum sample",
    ),
    "no limits at all": (
        protocol_data(design={"kind": "always_valid"}, limits={}),
        "limits",
        "max_sample",
    ),
    "min duration beyond max": (
        protocol_data(
            limits={"max_sample": 1000, "max_duration_days": 10, "min_duration_days": 14}
        ),
        "limits.min_duration_days",
        "cannot exceed",
    ),
    "too few arms": (protocol_data(arms=arm(0)[:1]), "arms", "at least 2"),
    "nan alpha": (protocol_data(alpha=float("nan")), "alpha", "finite"),
    "infinite weight": (
        protocol_data(arms=arm(0, weight=float("inf"))),
        "arms[0].weight",
        "finite",
    ),
    "wrong type": (protocol_data(power="high"), "power", "valid number"),
    "missing primary": (
        {k: v for k, v in BASE.items() if k != "primary"},
        "primary",
        "is required",
    ),
}


@pytest.mark.parametrize(("data", "field", "fragment"), BAD.values(), ids=BAD.keys())
def test_each_rule_refuses_with_a_field_level_message(data, field, fragment):
    with pytest.raises(ProtocolInvalid) as info:
        parse_protocol(data)
    messages = [(p.field, p.message) for p in info.value.problems]
    assert any(f == field and fragment in m for f, m in messages), messages


def test_every_problem_is_reported_at_once():
    data = protocol_data(alpha=2, currency="XYZ", control="email", arms=arm(0, weight=-1))
    with pytest.raises(ProtocolInvalid) as info:
        parse_protocol(data)
    fields = {p.field for p in info.value.problems}
    assert {"alpha", "currency", "control", "arms[0].weight"} <= fields
    assert "4 problems" in info.value.detail


def test_not_a_table_is_refused():
    with pytest.raises(ProtocolInvalid, match="1 problem"):
        parse_protocol(["not", "a", "table"])
    with pytest.raises(ProtocolInvalid) as info:
        load_protocol_text("id = [unclosed")
    assert "not valid TOML" in str(info.value.problems[0])


def test_hash_ignores_key_order_whitespace_and_number_spelling():
    text = (EXAMPLES / "webinar-vs-cold-call.toml").read_text()
    from_toml = load_protocol_text(text)
    data = tomllib.loads(text)
    reordered = json.dumps(dict(reversed(list(data.items()))), indent=7)
    from_json = load_protocol_text(reordered)
    assert protocol_hash(from_toml) == protocol_hash(from_json)
    data["alpha"] = 5e-2
    assert protocol_hash(parse_protocol(data)) == protocol_hash(from_toml)


def test_hash_changes_with_any_setting():
    base = parse_protocol(protocol_data())
    for change in (
        {"alpha": 0.04},
        {"mde": {"value": 0.11, "kind": "relative"}},
        {"arms": arm(1, weight=2)},
    ):
        assert protocol_hash(parse_protocol(protocol_data(**change))) != protocol_hash(base)


def test_canonical_json_is_sorted_and_compact():
    text = canonical_json(parse_protocol(protocol_data()))
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
