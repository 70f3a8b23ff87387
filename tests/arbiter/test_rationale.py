"""The rationale in English, Polish and Russian: generated from the numbers, with each
language's number format, for every kind of outcome."""

import pytest

from arbiter.rationale import format_number, rationale
from arbiter.serial import decision_to_json, look_to_json
from arbiter.verdict import decide
from tests.arbiter.test_verdict import STRONG, look, protocol


def texts(p, looks):
    decision = decision_to_json(decide(p, looks))
    return {
        lang: rationale(p, decision, look_to_json(looks[-1]), lang) for lang in ("en", "pl", "ru")
    }


def test_numbers_follow_the_language():
    assert format_number(12345.678, "en", 1) == "12,345.7"
    assert format_number(12345.678, "pl", 1) == "12\u00a0345,7"
    assert format_number(0.5, "ru", 2) == "0,50"


def test_a_winner_in_three_languages_with_units_and_interval():
    t = texts(protocol(), [look(STRONG, 4000, 0.4)])
    assert "sales' cold-call follow-up brought +4.0 pp deal conversion" in t["en"]
    assert "95% CI [" in t["en"] and "Next: adopt cold-call follow-up" in t["en"]
    assert "dała +4,0 p.p. deal conversion" in t["pl"] and "95% CI [" in t["pl"]
    assert "дало +4,0 п.п. deal conversion" in t["ru"] and "ДИ [" in t["ru"]
    assert "," in t["pl"].split("CI [")[1].split("]")[0]  # decimal comma in the interval


def test_revenue_effects_carry_the_currency():
    from arbiter.rationale import _effect

    p = protocol(
        primary={"name": "revenue per lead", "kind": "revenue_per_lead", "window_days": 60}
    )
    assert _effect(p, 412.4, "absolute", "en") == "+412 PLN revenue per lead"
    assert _effect(p, -12.5, "absolute", "pl") == "−12,50 PLN revenue per lead"
    assert _effect(p, 0.123, "relative", "ru") == "+12,3% revenue per lead"


@pytest.mark.parametrize(
    ("looks_", "fragment"),
    [
        (
            [look(STRONG, 4000, 0.4, assigned={"webinar": 4000, "cold-call": 4500})],
            {"en": "Randomisation looks broken", "pl": "Randomizacja", "ru": "Рандомизация"},
        ),
        (
            [look(STRONG, 4000, 0.4, age=12)],
            {"en": "days old", "pl": "Najnowsze dane", "ru": "Последним данным"},
        ),
        (
            [look({"webinar": 1200, "cold-call": 1201}, 8000, 0.8)],
            {"en": "futility region", "pl": "bezcelowości", "ru": "бесперспективности"},
        ),
        (
            [look(STRONG, 4000, 0.4, elapsed=5)],
            {"en": "Nothing is decided before day 14", "pl": "przed dniem 14", "ru": "До дня 14"},
        ),
    ],
)
def test_every_outcome_is_explained_in_every_language(looks_, fragment):
    t = texts(protocol(), looks_)
    for lang, text in fragment.items():
        assert text in t[lang], t[lang]


def test_unknown_language_is_refused():
    p = protocol()
    decision = decision_to_json(decide(p, [look(STRONG, 4000, 0.4)]))
    with pytest.raises(ValueError, match="unknown language"):
        rationale(p, decision, look_to_json(look(STRONG, 4000, 0.4)), "de")
