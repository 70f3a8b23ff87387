"""Reading the values of CRM exports: dates, amounts, booleans, currencies.

Each parser returns the value or raises :class:`ValueError` with a sentence that becomes
the rejection reason of the row.

* Dates: any ISO 8601 form (``2024-03-05``, ``2024-03-05T14:30``, ``…Z``, ``…+02:00``,
  basic ``20240305T143000Z``) and epoch seconds or milliseconds (HubSpot's internal
  values). A value without an offset is read in the configured zone. A deal's date
  without a time is read as the *end* of that day and an assignment's as its *start*, so
  a deal dated the day its lead was assigned is never taken for one that predates it.
* Amounts: decimal comma or point, thousands separators (space, no-break space,
  apostrophe, dot or comma), currency symbols or codes around the number. A file's
  decimal separator is decided from its unambiguous values (``1 234,50``, ``1,234.50``);
  a value that could be read either way in a file that does not settle it is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

from experiments.currency import is_currency

__all__ = [
    "AmountReader",
    "datetime_micros",
    "parse_bool",
    "parse_currency",
    "parse_datetime",
    "to_micros",
]

_TRUE = {"true", "t", "yes", "y", "1", "won", "tak", "да"}
_FALSE = {"false", "f", "no", "n", "0", "", "nie", "нет"}
_SYMBOLS = {
    "€": "EUR",
    "$": "USD",
    "£": "GBP",
    "zł": "PLN",
    "₽": "RUB",
    "¥": "JPY",
    "₴": "UAH",
    "₹": "INR",
    "chf": "CHF",
}


def parse_bool(text: str) -> bool:
    """true/false, yes/no, 1/0 (any case)."""
    value = text.strip().casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {text!r}")


def parse_currency(text: str) -> str:
    """An ISO 4217 code (case-insensitive), or a common symbol."""
    value = text.strip()
    code = _SYMBOLS.get(value.casefold(), value.upper())
    if not is_currency(code):
        raise ValueError(f"{text!r} is not an ISO 4217 currency code")
    return code


_DIGITS = re.compile(r"^\d{10}(\d{3})?$")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def datetime_micros(text: str, zone: ZoneInfo, *, day: Literal["end", "start"] = "end") -> int:
    """:func:`parse_datetime` as integer microseconds since the epoch (import fast path:
    a full timestamp is handed straight to ``datetime.fromisoformat``)."""
    value = text.strip()
    if len(value) > 10 and value[4:5] == "-" and not _DIGITS.match(value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=zone)
            if 1901 <= parsed.year <= 2099:
                # Exact in this range: float seconds carry under 0.5 µs of error.
                return round(parsed.timestamp() * 1_000_000)
            return (parsed - _EPOCH) // _US
    return (parse_datetime(value, zone, day=day) - _EPOCH) // _US


def parse_datetime(text: str, zone: ZoneInfo, *, day: Literal["end", "start"] = "end") -> datetime:
    """An aware UTC datetime from an ISO 8601 string or an epoch number (see module doc).

    A date without a time is the end of that day (deal dates) or, with ``day="start"``,
    its beginning (assignment and first-seen dates: a deal of the same day then counts as
    after the assignment)."""
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    if _DIGITS.match(value):
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"unparseable date {text!r}: use ISO 8601, e.g. 2024-03-05 or 2024-03-05T14:30:00Z"
        ) from None
    date_only = len(value) <= 10 and "T" not in value and ":" not in value
    if date_only:
        parsed = datetime.combine(parsed.date(), time.max if day == "end" else time.min)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


_AMOUNT_CHARS = re.compile(r"^[+-]?[\d.,' \u00a0\u202f]+$")
Separator = Literal["comma", "point"]


def _classify(compact: str) -> Separator | None:
    """The decimal separator a compact number implies, or None if it does not say."""
    has_comma, has_point = "," in compact, "." in compact
    if has_comma and has_point:
        return "comma" if compact.rfind(",") > compact.rfind(".") else "point"
    if not (has_comma or has_point):
        return None
    mark = "," if has_comma else "."
    if compact.count(mark) > 1:  # a repeated mark groups thousands
        return "point" if mark == "," else "comma"
    if len(compact.rsplit(mark, 1)[1]) != 3:
        return "comma" if mark == "," else "point"
    return None  # one mark followed by exactly three digits: either reading is possible


def _compact(text: str) -> str:
    return re.sub(r"[ '\u00a0\u202f]", "", text)


_PLAIN_NUMBER = re.compile(r"^\s*[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*\s*$")
_SYMBOLS_LONGEST_FIRST = sorted(_SYMBOLS.items(), key=lambda kv: -len(kv[0]))


def _strip_currency(text: str) -> tuple[str, str | None]:
    if _PLAIN_NUMBER.match(text):
        return text.strip(), None
    value = text.strip()
    found: str | None = None
    for symbol, code in _SYMBOLS_LONGEST_FIRST:
        if value.casefold().startswith(symbol) or value.casefold().endswith(symbol):
            found = code
            value = (
                value[len(symbol) :]
                if value.casefold().startswith(symbol)
                else value[: -len(symbol)]
            )
            break
    else:
        match = re.match(r"^([A-Za-z]{3})\s*(.+)$", value) or re.match(
            r"^(.+?)\s*([A-Za-z]{3})$", value
        )
        if match:
            first, second = match.group(1), match.group(2)
            code_text, number = (first, second) if first.isalpha() else (second, first)
            if is_currency(code_text.upper()):
                found, value = code_text.upper(), number
    return value.strip(), found


_SIMPLE = re.compile(r"^(\d{1,19})(?:([.,])(\d{1,12}))?$")


class AmountReader:
    """Reads the amounts of one file column with one decimal separator.

    ``decimal=None`` infers the separator from the column's unambiguous values; pass
    ``"comma"`` or ``"point"`` to force it. A value that could be read either way
    (``1,234``) in a column that does not settle it is refused.
    """

    def __init__(self, samples: Iterable[str] = (), decimal: Separator | None = None) -> None:
        self.decimal: Separator | None = decimal
        if decimal is None:
            votes = {_classify(_compact(_strip_currency(sample)[0])) for sample in samples}
            votes.discard(None)
            if len(votes) == 1:
                self.decimal = votes.pop()

    def micros(self, text: str) -> tuple[int, str | None]:
        """(amount in integer micro-units, currency found next to it or None).

        Plain decimals (``1234`` or ``1234.56`` in a point file, ``1234,56`` in a comma
        file) take a fast path of integer arithmetic; anything else goes through
        :meth:`read`."""
        match = _SIMPLE.match(text) or _SIMPLE.match(text.strip())
        if match is not None:
            whole, mark, fraction = match.groups()
            fraction = fraction or ""
            settled = (mark == "." and self.decimal == "point") or (
                mark == "," and self.decimal == "comma"
            )
            if (not mark or len(fraction) != 3 or settled) and len(fraction) <= 6:
                value = int(whole) * 1_000_000 + int(fraction.ljust(6, "0"))
                if value > 9 * 10**18:
                    raise ValueError(f"amount {text!r} is too large")
                return value, None
        amount, currency = self.read(text)
        return to_micros(amount), currency

    def read(self, text: str) -> tuple[Decimal, str | None]:
        """(amount, currency found next to it or None)."""
        number, currency = _strip_currency(text)
        if not number or not _AMOUNT_CHARS.match(number):
            raise ValueError(f"not an amount: {text!r}")
        compact = _compact(number)
        decimal = _classify(compact)
        if decimal is None and ("," in compact or "." in compact):
            if self.decimal is None:
                mark = "," if "," in compact else "."
                raise ValueError(
                    f"ambiguous amount {text!r}: is the {mark!r} a decimal or a thousands "
                    "separator? Give the decimal separator explicitly."
                )
            decimal = self.decimal
        if decimal == "comma":
            compact = compact.replace(".", "").replace(",", ".")
        else:
            compact = compact.replace(",", "")
        try:
            amount = Decimal(compact)
        except InvalidOperation:
            raise ValueError(f"not an amount: {text!r}") from None
        if not amount.is_finite():
            raise ValueError(f"not an amount: {text!r}")
        return amount, currency


def to_micros(amount: Decimal) -> int:
    """Integer micro-units; refuses negative amounts and more than six decimals."""
    if amount < 0:
        raise ValueError(f"negative amount {amount}")
    micros = amount * 1_000_000
    if micros != micros.to_integral_value():
        raise ValueError(f"amount {amount} has more than six decimals")
    if micros > 9 * 10**18:
        raise ValueError(f"amount {amount} is too large")
    return int(micros)
