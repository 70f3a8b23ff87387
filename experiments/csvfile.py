"""Opening CSV exports: decoding, delimiter detection, header checks, line numbers.

A file that cannot be read as CSV is refused whole (:class:`ImportRefused`) with the
reason: binary content, text that is not UTF-8 (with or without a BOM) or UTF-16 with a
BOM, no header, an empty or repeated column name, or a CSV error such as a field larger
than 1 MiB. Rows come with the line number where they start, so that a quoted field with
newlines does not shift the numbers of later rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from experiments.errors import ImportRefused

__all__ = ["CsvFile", "normalise", "open_csv"]

FIELD_LIMIT = 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)
_DELIMITERS = (",", ";", "\t", "|")


def normalise(name: str) -> str:
    """Header key for matching: case-folded letters and digits only ("Deal - ID" → "dealid")."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ImportRefused(f"the file cannot be read as {encoding}: {exc}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportRefused(f"the file starts like UTF-16 but is not: {exc}") from None
    if b"\x00" in data[:65536]:
        raise ImportRefused("the file is binary, not a CSV text export")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "export it as 'CSV UTF-8' or name its encoding"
        ) from None


def _delimiter(header_line: str) -> str:
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Lines:
    """An iterator of physical lines that counts them."""

    def __init__(self, source: io.StringIO) -> None:
        self.source = source
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.source)
        self.count += 1
        return line


@dataclass
class CsvFile:
    """A decoded export: its header and an iterator of (line, fields) records."""

    headers: list[str]
    delimiter: str
    text: str

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(starting line, fields) of every data record; a CSV error refuses the file.

        A line without any quote character is split on the delimiter directly (exactly
        what the csv module would return for it, several times faster); a line with a
        quote goes to ``csv.reader``, which pulls continuation lines of a quoted field
        with newlines from the same line iterator.
        """
        lines = _Lines(io.StringIO(self.text, newline=""))
        next(lines)
        delimiter = self.delimiter
        for line in lines:
            start = lines.count
            if '"' not in line:
                body = line.rstrip("\r\n")
                if not body.strip():
                    continue
                fields = body.split(delimiter)
                if len(fields[-1]) > FIELD_LIMIT or any(len(f) > FIELD_LIMIT for f in fields):
                    raise ImportRefused(
                        f"line {start}: not readable as CSV (field larger than "
                        f"the field limit ({FIELD_LIMIT}))"
                    )
            else:
                try:
                    fields = next(csv.reader(itertools.chain((line,), lines), delimiter=delimiter))
                except csv.Error as exc:
                    raise ImportRefused(f"line {start}: not readable as CSV ({exc})") from None
                except StopIteration:
                    return
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
            yield start, fields

    def raw(self, fields: list[str]) -> str:
        """A record as CSV text again (kept with a rejection for review)."""
        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, lineterminator="").writerow(fields)
        return out.getvalue()


def open_csv(data: bytes, *, encoding: str | None = None) -> CsvFile:
    """Decode and check a CSV export (see the module doc for what is refused)."""
    text = _decode(data, encoding)
    if "\x00" in text:
        raise ImportRefused("the file contains NUL characters: it is not a CSV text export")
    if not text.strip():
        raise ImportRefused("the file is empty")
    first_line = text.lstrip("\ufeff").splitlines()[0]
    delimiter = _delimiter(first_line)
    try:
        header = next(
            csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
        )
    except csv.Error as exc:
        raise ImportRefused(f"line 1: the header is not readable as CSV ({exc})") from None
    headers = [h.strip() for h in header]
    if not any(headers):
        raise ImportRefused("the first line has no column names")
    seen: dict[str, str] = {}
    for name in headers:
        if not name:
            raise ImportRefused("the header has an empty column name")
        key = normalise(name)
        if key in seen:
            raise ImportRefused(f"column {name!r} appears twice in the header")
        seen[key] = name
    return CsvFile(headers=headers, delimiter=delimiter, text=text.lstrip("\ufeff"))
