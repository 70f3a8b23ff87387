"""The parsing stage of a deal import: bytes in, chunks of validated rows out.

Everything that needs no database happens here — decoding, CSV, column mapping, dates,
amounts, flags, currencies, the protocol's currency and duplicate ids within the file —
so that a large file can be parsed in a second process while the first one writes the
previous chunk (:mod:`experiments.deal_import`). This module imports no ORM, so that
second process starts quickly.

Rejection codes raised here:

| code | reason |
| --- | --- |
| ``missing_id`` / ``missing_lead`` | no deal id, or no lead |
| ``duplicate`` | the same deal id twice in one file |
| ``bad_amount`` / ``missing_amount`` | unreadable, negative or too precise; won without amount |
| ``bad_date`` / ``missing_date`` | unparseable date, or a won deal without its close date |
| ``bad_currency`` / ``missing_currency`` / ``currency`` | invalid; absent; not the protocol's |
| ``bad_flag`` / ``inconsistent`` | an unreadable yes/no, or won but not closed |
| ``ragged`` / ``bad_record`` | a row with a wrong number of fields, a JSON item that is no object |
| ``deleted`` | a Pipedrive deal marked deleted |
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from experiments.csvfile import normalise, open_csv
from experiments.errors import Rejection
from experiments.formats import DEAL_FORMATS, resolve
from experiments.parsing import (
    AmountReader,
    Separator,
    datetime_micros,
    parse_bool,
    parse_currency,
)

__all__ = ["Chunk", "DealRow", "ParseOptions", "csv_chunks", "json_chunks", "raw_lines"]

MAX_TEXT = 200
"""Longest deal id and stage the deal table holds."""

CHUNK = 5000
FIELDS = (
    "id",
    "lead",
    "name",
    "amount",
    "currency",
    "stage",
    "won",
    "closed",
    "created",
    "closed_at",
    "status",
    "won_time",
    "lost_time",
)
_WON = {"closedwon", "won"}
_LOST = {"closedlost", "lost"}
_BOOLS = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}


class RowError(Exception):
    """A row cannot be used: column, code and reason."""

    def __init__(self, column: str | None, code: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.code, self.reason = column, code, reason


class DealRow(NamedTuple):
    """A validated deal, times as integer microseconds since the epoch."""

    line: int
    external_id: str
    lead: str
    name: str | None
    amount_micros: int | None
    currency: str | None
    stage: str | None
    won: bool
    closed: bool
    created_at: int | None
    closed_at: int | None

    def values(self) -> tuple[Any, ...]:
        """The columns compared with the stored version (the lead is resolved separately)."""
        return (
            self.name,
            self.amount_micros,
            self.currency,
            self.stage,
            self.won,
            self.closed,
            self.created_at,
            self.closed_at,
        )


#: One chunk: validated rows, and the rows refused while parsing.
Chunk = tuple[list[DealRow], list[Rejection]]


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """Everything the parsing stage needs (picklable, for the second process)."""

    fmt: str
    zone: str
    encoding: str | None = None
    decimal: Separator | None = None
    currency: str | None = None
    protocol_currency: str | None = None


def _lead_id(text: str) -> str:
    """The first id of a HubSpot association cell ("123;456", "Jane Doe (123)")."""
    if text.isalnum():
        return text
    first = re.split(r"[;,]", text.strip())[0].strip()
    match = re.search(r"\((\w+)\)\s*$", first)
    return match.group(1) if match else first


class _Reader:
    """Turns one record's cells (in :data:`FIELDS` order) into a :class:`DealRow`."""

    def __init__(
        self, options: ParseOptions, amounts: AmountReader, names: Mapping[str, str]
    ) -> None:
        self.fmt = options.fmt
        self.zone = ZoneInfo(options.zone)
        self.amounts = amounts
        self.default_currency = parse_currency(options.currency) if options.currency else None
        self.names = names
        self._currencies: dict[str, str] = {}

    def date(self, text: str, field: str) -> int | None:
        if not text or text.isspace():
            return None
        try:
            return datetime_micros(text, self.zone)
        except ValueError as exc:
            raise RowError(self.names.get(field, field), "bad_date", str(exc)) from None

    def flag(self, text: str, field: str) -> bool | None:
        if not text or text.isspace():
            return None
        value = _BOOLS.get(text.casefold())
        if value is None:
            try:
                return parse_bool(text)
            except ValueError as exc:
                raise RowError(self.names.get(field, field), "bad_flag", str(exc)) from None
        return value

    def currency(self, text: str) -> str:
        code = self._currencies.get(text)
        if code is None:
            try:
                code = parse_currency(text)
            except ValueError as exc:
                raise RowError(self.names.get("currency"), "bad_currency", str(exc)) from None
            self._currencies[text] = code
        return code

    def read(self, line: int, cells: Sequence[str]) -> DealRow:
        (
            external_id,
            lead_text,
            name,
            amount_text,
            currency_text,
            stage,
            won_text,
            closed_text,
            created_text,
            closed_at_text,
            status,
            won_time,
            lost_time,
        ) = cells
        # Only values stored as text are stripped here; the parsers below accept spaces.
        external_id, name, stage = external_id.strip(), name.strip(), stage.strip()
        if not external_id:
            raise RowError(self.names.get("id"), "missing_id", "the deal has no id")
        for field_name, text in (("id", external_id), ("stage", stage)):
            if len(text) > MAX_TEXT:  # refused, never cut: a cut id could merge two deals
                raise RowError(
                    self.names.get(field_name, field_name),
                    "too_long",
                    f"the deal {field_name} has {len(text):,} characters; at most {MAX_TEXT}",
                )
        lead = _lead_id(lead_text)
        if not lead:
            raise RowError(self.names.get("lead"), "missing_lead", "the deal names no lead")
        created = self.date(created_text, "created")
        closed_at = self.date(closed_at_text, "closed_at")
        if self.fmt == "pipedrive":
            key = normalise(status)
            if key == "deleted":
                raise RowError(self.names.get("status"), "deleted", "the deal was deleted")
            won, closed = key == "won", key in ("won", "lost")
            closed_at = (
                self.date(won_time if won else lost_time, "won_time" if won else "lost_time")
                or closed_at
            )
        else:
            won_flag, closed_flag = self.flag(won_text, "won"), self.flag(closed_text, "closed")
            if won_flag is None or closed_flag is None:
                stage_key = normalise(stage) if stage else ""
                won = won_flag if won_flag is not None else stage_key in _WON
                closed = closed_flag if closed_flag is not None else (won or stage_key in _LOST)
            else:
                won, closed = won_flag, closed_flag
            if won and closed_flag is False:
                raise RowError(
                    self.names.get("closed"),
                    "inconsistent",
                    "the deal is marked won but not closed",
                )
        amount: int | None = None
        currency = None
        if amount_text and not amount_text.isspace():
            try:
                amount, currency = self.amounts.micros(amount_text)
            except ValueError as exc:
                raise RowError(self.names.get("amount"), "bad_amount", str(exc)) from None
        elif won:
            raise RowError(
                self.names.get("amount"), "missing_amount", "a won deal needs its amount"
            )
        if currency_text and not currency_text.isspace():
            code = self.currency(currency_text)
            if currency is not None and currency != code:
                raise RowError(
                    self.names.get("currency"),
                    "bad_currency",
                    f"the amount says {currency} but the currency column {code}",
                )
            currency = code
        currency = currency or self.default_currency
        if currency is None and amount is not None:
            raise RowError(
                self.names.get("currency", "currency"),
                "missing_currency",
                "the amount has no currency: add a currency column or give one",
            )
        if won and closed_at is None:
            raise RowError(
                self.names.get("closed_at", "closed_at"),
                "missing_date",
                "a won deal needs its close date",
            )
        return DealRow(
            line,
            external_id,
            lead,
            name or None,
            amount,
            currency,
            stage or None,
            won,
            closed,
            created,
            closed_at,
        )


def _validated(
    records: Iterator[tuple[int, Sequence[str] | RowError, Any]],
    reader: _Reader,
    protocol_currency: str | None,
    raw: Any,
) -> Iterator[Chunk]:
    seen: dict[str, int] = {}
    id_column = reader.names.get("id")
    currency_column = reader.names.get("currency", "currency")
    good: list[DealRow] = []
    bad: list[Rejection] = []
    read = reader.read
    for line, cells, original in records:
        try:
            if isinstance(cells, RowError):
                raise cells
            row = read(line, cells)
        except RowError as err:
            bad.append(Rejection(line, err.column, err.code, err.reason, raw(original)))
        else:
            first = seen.get(row.external_id)
            if first is not None:
                bad.append(
                    Rejection(
                        line,
                        id_column,
                        "duplicate",
                        f"deal {row.external_id!r} appears again (first at line {first})",
                        raw(original),
                    )
                )
            elif protocol_currency and row.currency and row.currency != protocol_currency:
                seen[row.external_id] = line
                bad.append(
                    Rejection(
                        line,
                        currency_column,
                        "currency",
                        f"currency {row.currency} differs from the protocol's {protocol_currency}",
                        raw(original),
                    )
                )
            else:
                seen[row.external_id] = line
                good.append(row)
        if len(good) + len(bad) >= CHUNK:
            yield good, bad
            good, bad = [], []
    if good or bad:
        yield good, bad


def _csv_setup(data: bytes, options: ParseOptions) -> tuple[Any, dict[str, int], dict[str, str]]:
    table = open_csv(data, encoding=options.encoding)
    required = ["id", "lead"] + (["status"] if options.fmt == "pipedrive" else [])
    index = resolve(table.headers, DEAL_FORMATS[options.fmt], required, options.fmt)
    return table, index, {field: table.headers[i] for field, i in index.items()}


def csv_names(data: bytes, options: ParseOptions) -> dict[str, str]:
    """The file's column name for each recognised field (refuses an unreadable file)."""
    return _csv_setup(data, options)[2]


def csv_chunks(data: bytes, options: ParseOptions) -> Iterator[Chunk]:
    """Parse and validate a CSV export of deals, chunk by chunk (see the module doc)."""
    table, index, names = _csv_setup(data, options)
    width = len(table.headers)
    # Absent fields point one past the last column, where every row gets an empty cell.
    pick = itemgetter(*[index.get(f, width) for f in FIELDS])
    amount_column = index.get("amount")
    samples: list[str] = []
    if amount_column is not None:
        for _, fields in table.rows():
            if amount_column < len(fields) and fields[amount_column].strip():
                samples.append(fields[amount_column])
            if len(samples) >= 20000:
                break
    reader = _Reader(options, AmountReader(samples, options.decimal), names)

    def records() -> Iterator[tuple[int, Sequence[str] | RowError, Any]]:
        for line, fields in table.rows():
            if len(fields) != width and not (len(fields) > width and not any(fields[width:])):
                yield (
                    line,
                    RowError(
                        None,
                        "ragged",
                        f"the row has {len(fields)} fields but the header has {width}",
                    ),
                    fields,
                )
                continue
            fields.append("")
            yield line, pick(fields), fields

    def raw(fields: list[str]) -> str:
        text: str = table.raw(
            fields[:-1] if len(fields) == width + 1 and fields[-1] == "" else fields
        )
        return text

    yield from _validated(records(), reader, options.protocol_currency, raw)


def raw_lines(data: bytes, options: ParseOptions, lines: set[int]) -> dict[int, str]:
    """The raw text of the records starting at ``lines`` (for rejections decided later)."""
    if not lines:
        return {}
    table, _, _ = _csv_setup(data, options)
    return {line: table.raw(fields) for line, fields in table.rows() if line in lines}


def json_chunks(records: Sequence[Mapping[str, Any]], options: ParseOptions) -> Iterator[Chunk]:
    """Validate deals given as JSON objects with the generic field names."""
    aliases = DEAL_FORMATS["generic"]
    names = {f: a[0] for f, a in aliases.items()}
    amounts = AmountReader(
        [
            str(r.get("amount"))
            for r in records
            if isinstance(r, Mapping) and r.get("amount") is not None
        ]
    )
    reader = _Reader(
        ParseOptions("generic", options.zone, currency=options.currency), amounts, names
    )

    def cells() -> Iterator[tuple[int, Sequence[str] | RowError, Any]]:
        for i, record in enumerate(records, start=1):
            if not isinstance(record, Mapping):
                yield i, RowError(None, "bad_record", "each deal must be a JSON object"), record
                continue
            row = []
            for field in FIELDS:
                value = next(
                    (record[a] for a in aliases.get(field, (field,)) if record.get(a) is not None),
                    None,
                )
                row.append(
                    ""
                    if value is None
                    else (str(value).lower() if isinstance(value, bool) else str(value))
                )
            yield i, row, record

    yield from _validated(cells(), reader, options.protocol_currency, json_raw)


def json_raw(record: Any) -> str:
    """A JSON item as text (kept with its rejection)."""
    return json.dumps(record, default=str, ensure_ascii=False)[:10000]
