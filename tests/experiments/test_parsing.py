"""Reading CRM values: ISO dates in every form, amounts with comma or point decimals and
thousands separators, booleans and currencies."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.parsing import AmountReader, parse_bool, parse_currency, parse_datetime, to_micros

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-08T10:00:00Z", datetime(2026, 1, 8, 10, tzinfo=UTC)),
        ("2026-01-08T10:00:00.000+0000", datetime(2026, 1, 8, 10, tzinfo=UTC)),
        ("2026-01-08 12:00:00+02:00", datetime(2026, 1, 8, 10, tzinfo=UTC)),
        ("20260108T100000Z", datetime(2026, 1, 8, 10, tzinfo=UTC)),
        ("2026-01-08 11:00", datetime(2026, 1, 8, 10, tzinfo=UTC)),  # naive: Warsaw (UTC+1)
        ("2026-07-08T12:00", datetime(2026, 7, 8, 10, tzinfo=UTC)),  # summer time (UTC+2)
        ("1767866400000", datetime(2026, 1, 8, 10, tzinfo=UTC)),  # HubSpot epoch ms
        ("1767866400", datetime(2026, 1, 8, 10, tzinfo=UTC)),
    ],
)
def test_iso_dates_in_any_form(text, expected):
    assert parse_datetime(text, WARSAW) == expected


def test_a_date_without_time_is_the_end_of_that_day_in_the_zone():
    moment = parse_datetime("2026-01-08", WARSAW)
    assert moment == datetime(2026, 1, 8, 22, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize("text", ["20/01/2026", "Jan 8, 2026", "2026-13-01", "yesterday"])
def test_non_iso_dates_are_refused_with_an_example(text):
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_datetime(text, WARSAW)


@pytest.mark.parametrize(
    ("samples", "text", "amount", "currency"),
    [
        ([], "1234.56", "1234.56", None),
        ([], "1 234,56", "1234.56", None),
        ([], "1.234.567,89", "1234567.89", None),
        ([], "1,234,567.89", "1234567.89", None),
        ([], "1'234.50", "1234.50", None),
        ([], "12\u00a0500,00 zł", "12500.00", "PLN"),
        ([], "€1,234.50", "1234.50", "EUR"),
        ([], "PLN 99,9", "99.9", "PLN"),
        ([], "15 000", "15000", None),
        (["12,50"], "1,234", "1.234", None),  # the file uses decimal commas
        (["12.50"], "1,234", "1234", None),  # the file uses decimal points
    ],
)
def test_amounts_with_either_decimal_separator(samples, text, amount, currency):
    assert AmountReader(samples).read(text) == (Decimal(amount), currency)


def test_an_amount_ambiguous_in_its_file_is_refused():
    with pytest.raises(ValueError, match="ambiguous amount"):
        AmountReader(["1,234", "5,678"]).read("1,234")
    assert AmountReader([], decimal="comma").read("1,234") == (Decimal("1.234"), None)


@pytest.mark.parametrize("text", ["abc", "1-2", "12..5x", "--5", ""])
def test_garbage_amounts_are_refused(text):
    with pytest.raises(ValueError, match="not an amount"):
        AmountReader().read(text)


def test_micros_refuse_negative_and_too_precise_amounts():
    assert to_micros(Decimal("12.345678")) == 12_345_678
    with pytest.raises(ValueError, match="negative"):
        to_micros(Decimal("-1"))
    with pytest.raises(ValueError, match="six decimals"):
        to_micros(Decimal("1.0000001"))


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_amounts_round_trip_in_both_conventions(value):
    point = f"{value:,.2f}"
    comma = point.replace(",", " ").replace(".", ",")
    assert AmountReader().read(point)[0] == value
    assert AmountReader().read(comma)[0] == value


def test_booleans_and_currencies():
    assert parse_bool("TRUE") and parse_bool("Yes") and not parse_bool("0")
    with pytest.raises(ValueError, match="yes/no"):
        parse_bool("maybe")
    assert parse_currency("pln") == "PLN" and parse_currency("€") == "EUR"
    with pytest.raises(ValueError, match="ISO 4217"):
        parse_currency("XYZ")
