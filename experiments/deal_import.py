"""Importing CRM deals: CSV exports of HubSpot, Salesforce and Pipedrive, the generic CSV
format, and JSON records (the HTTP API).

Deals are upserted by (source system, external id): importing the same file again
changes nothing; an updated export (a deal moved from open to won, an amount corrected)
updates the deal, raises its version and keeps the earlier version in ``deal_history``.
The whole import is one transaction — the caller's — so it lands whole or not at all.

Rows are parsed and validated by :mod:`experiments.deal_rows`; this stage resolves leads
(``unknown_lead`` when Arbiter has never seen the lead; ``currency`` when the deal's
currency is none of the protocols of the experiments its lead is in) and writes. A CSV
file larger than :data:`PIPELINE_BYTES` is parsed in a second process while this one
writes the previous chunk, which uses both cores of a small machine.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from experiments.batches import ImportReport, find_replay, finish_batch, sha256, start_batch
from experiments.bulk import executemany, placeholders
from experiments.clock import to_micros
from experiments.crm_tables import Deal
from experiments.deal_rows import (
    Chunk,
    ParseOptions,
    csv_chunks,
    csv_names,
    json_chunks,
    json_raw,
    raw_lines,
)
from experiments.errors import ImportRefused, InvalidInput, Problem, Rejection
from experiments.formats import DEAL_FORMATS
from experiments.lifecycle import current_protocol, get_experiment
from experiments.parsing import Separator, parse_currency

__all__ = ["PIPELINE_BYTES", "import_deal_records", "import_deals"]

PIPELINE_BYTES = 4 * 1024 * 1024
_DEAL_COLUMNS = (
    "source_system, external_id, lead_id, name, amount_micros, currency, stage, "
    "won, closed, created_at, closed_at, version, updated_at, batch_id"
)


def _produce(data: bytes, options: ParseOptions, conn: Connection) -> None:
    """Child process: parse and send chunks; report a refusal or failure as a message."""
    try:
        for good, bad in csv_chunks(data, options):
            conn.send(("chunk", ([tuple(row) for row in good], bad)))
        conn.send(("done", None))
    except ImportRefused as exc:
        conn.send(("refused", exc.detail))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _pipelined(data: bytes, options: ParseOptions) -> Iterator[Chunk]:
    """Chunks parsed by a second process (spawned: no state shared with this one)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_produce, args=(data, options, sender), daemon=True)
    process.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise RuntimeError("the import's parser process ended without finishing") from None
            if kind == "chunk":
                yield payload
            elif kind == "done":
                return
            elif kind == "refused":
                raise ImportRefused(payload)
            else:
                raise RuntimeError(f"the import's parser process failed: {payload}")
    finally:
        receiver.close()
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()


def _lookup(session: Session, sql: str, prefix: Sequence[Any], keys: Sequence[Any]) -> list[Any]:
    """Rows of ``sql`` (ending in ``IN ({keys})``) for ``keys``, with bound parameters only."""
    if not keys:
        return []
    statement = sql.replace("{keys}", placeholders(session, len(keys)))
    return list(session.connection().exec_driver_sql(statement, (*prefix, *keys)).fetchall())


class _LeadIds:
    """External lead id → lead id: one scan of the lead table when it is small next to
    the file (at most ``SCAN_LIMIT`` leads), otherwise indexed lookups per chunk."""

    SCAN_LIMIT = 1_000_000

    def __init__(self, session: Session, expected_rows: int) -> None:
        self.session = session
        self.all: dict[str, int] | None = None
        connection = session.connection()
        count = int(connection.exec_driver_sql("SELECT COUNT(*) FROM lead").scalar_one())
        if count <= min(self.SCAN_LIMIT, max(4 * expected_rows, 50_000)):
            self.all = dict(
                connection.exec_driver_sql("SELECT external_id, id FROM lead").fetchall()
            )

    def __call__(self, keys: set[str]) -> dict[str, int]:
        if self.all is not None:
            found = self.all
            return {k: found[k] for k in keys if k in found}
        return dict(
            _lookup(
                self.session,
                "SELECT external_id, id FROM lead WHERE external_id IN ({keys})",
                (),
                sorted(keys),
            )
        )


class _Currencies:
    """Protocol currencies of the experiments each lead is assigned in."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_experiment: dict[str, str] = {}

    def __call__(self, lead_ids: Sequence[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        rows = _lookup(
            self.session,
            "SELECT lead_id, experiment_id FROM assignment WHERE lead_id IN ({keys})",
            (),
            list(lead_ids),
        )
        for lead_id, experiment_id in rows:
            if experiment_id not in self.by_experiment:
                protocol = current_protocol(
                    self.session, get_experiment(self.session, experiment_id)
                )
                self.by_experiment[experiment_id] = protocol.currency
            out.setdefault(lead_id, set()).add(self.by_experiment[experiment_id])
        return out


def _write(
    session: Session,
    *,
    chunks: Iterator[Chunk],
    names: Mapping[str, str],
    source: str,
    batch_id: int,
    now: datetime,
    expected_rows: int,
    check_lead_currency: bool,
) -> tuple[int, int, int, int, list[Rejection]]:
    """Resolve leads and upsert each chunk; returns (total, inserted, updated, unchanged,
    rejections) with the raw text of late rejections still to be filled in."""
    # The statements below are constant text and driver placeholders only: every value is
    # a bound parameter (the f-strings insert the dialect's placeholder mark, nothing else).
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    insert_sql = f"INSERT INTO deal ({_DEAL_COLUMNS}) VALUES ({placeholders(session, 14)})"  # noqa: S608
    history_sql = (
        "INSERT INTO deal_history (deal_id, version, lead_id, name, amount_micros, currency, "  # noqa: S608
        "stage, won, closed, created_at, closed_at, valid_until, batch_id) "
        f"VALUES ({placeholders(session, 13)})"
    )
    update_sql = (
        f"UPDATE deal SET lead_id = {mark}, name = {mark}, amount_micros = {mark}, "  # noqa: S608
        f"currency = {mark}, stage = {mark}, won = {mark}, closed = {mark}, created_at = {mark}, "
        f"closed_at = {mark}, version = {mark}, updated_at = {mark}, batch_id = {mark} "
        f"WHERE id = {mark}"
    )
    deal_sql = (
        "SELECT external_id, id, lead_id, name, amount_micros, currency, stage, won, closed, "  # noqa: S608
        f"created_at, closed_at, version FROM deal WHERE source_system = {mark} "
        "AND external_id IN ({keys})"
    )
    fresh = (
        session.exec(select(Deal.id).where(Deal.source_system == source).limit(1)).first() is None
    )
    leads = _LeadIds(session, expected_rows)
    currencies = _Currencies(session)
    now_us = to_micros(now)
    lead_column = names.get("lead")
    currency_column = names.get("currency", "currency")
    total = inserted = updated = unchanged = 0
    rejections: list[Rejection] = []
    # Rows are DealRow tuples (or plain tuples from the parsing process), read by position:
    # 0 line, 1 external id, 2 lead, 3-10 the stored values (name … closed_at), 5 currency.
    for good, bad in chunks:
        total += len(good) + len(bad)
        rejections.extend(bad)
        lead_ids = leads({row[2] for row in good})
        allowed = currencies(list(lead_ids.values())) if check_lead_currency else {}
        existing: dict[str, Any] = {}
        if not fresh:
            existing = {
                r[0]: r for r in _lookup(session, deal_sql, (source,), [row[1] for row in good])
            }
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        for row in good:
            lead_id = lead_ids.get(row[2])
            if lead_id is None:
                rejections.append(
                    Rejection(
                        row[0],
                        lead_column,
                        "unknown_lead",
                        f"unknown lead {row[2]!r}: import or assign the lead first",
                        "",
                    )
                )
                continue
            if allowed:
                of_lead = allowed.get(lead_id)
                if of_lead and row[5] and row[5] not in of_lead:
                    rejections.append(
                        Rejection(
                            row[0],
                            currency_column,
                            "currency",
                            f"currency {row[5]} differs from the protocol's "
                            f"{', '.join(sorted(of_lead))} of the lead's experiment",
                            "",
                        )
                    )
                    continue
            values = row[3:11]
            stored = existing.get(row[1]) if existing else None
            if stored is None:
                inserts.append((source, row[1], lead_id, *values, 1, now_us, batch_id))
                continue
            old = (
                stored[3],
                stored[4],
                stored[5],
                stored[6],
                bool(stored[7]),
                bool(stored[8]),
                stored[9],
                stored[10],
            )
            if stored[2] == lead_id and old == values:
                unchanged += 1
                continue
            history.append((stored[1], stored[11], stored[2], *old, now_us, batch_id))
            # values is a slice of the row: name … closed_at, as stored
            updates.append((lead_id, *values, stored[11] + 1, now_us, batch_id, stored[1]))
        executemany(session, insert_sql, inserts)
        executemany(session, history_sql, history)
        executemany(session, update_sql, updates)
        inserted += len(inserts)
        updated += len(updates)
    return total, inserted, updated, unchanged, rejections


def _checked_currency(currency: str | None) -> str | None:
    """The default currency given with an import, refused whole if it is not ISO 4217."""
    if not currency:
        return None
    try:
        return parse_currency(currency)
    except ValueError as exc:
        raise InvalidInput("unknown currency", [Problem("currency", str(exc))]) from None


def _protocol_currency(session: Session, experiment_id: str | None) -> str | None:
    if experiment_id is None:
        return None
    return current_protocol(session, get_experiment(session, experiment_id)).currency


def import_deals(
    session: Session,
    *,
    data: bytes,
    filename: str,
    fmt: str,
    actor: str,
    now: datetime,
    zone: ZoneInfo,
    experiment_id: str | None = None,
    currency: str | None = None,
    decimal: Separator | None = None,
    encoding: str | None = None,
    idempotency_key: str | None = None,
    pipeline: bool | None = None,
) -> ImportReport:
    """Import a CSV export of deals in the caller's transaction.

    ``pipeline`` forces (True) or forbids (False) the second parsing process; by default
    it is used for files larger than :data:`PIPELINE_BYTES`.
    """
    replay = find_replay(session, idempotency_key, "deals")
    if replay is not None:
        return replay
    if fmt not in DEAL_FORMATS:
        raise InvalidInput(
            f"unknown format {fmt!r}",
            [Problem("format", f"must be one of {', '.join(DEAL_FORMATS)}")],
        )
    options = ParseOptions(
        fmt,
        zone.key,
        encoding,
        decimal,
        _checked_currency(currency),
        _protocol_currency(session, experiment_id),
    )
    names = csv_names(data, options)  # refuses an unreadable file before anything is written
    newlines = data[:65536].count(b"\n")
    expected = len(data) * max(newlines, 1) // max(min(len(data), 65536), 1)
    use_pipeline = len(data) > PIPELINE_BYTES if pipeline is None else pipeline
    chunks = _pipelined(data, options) if use_pipeline else csv_chunks(data, options)
    source = "generic" if fmt == "generic" else fmt
    batch = start_batch(
        session,
        kind="deals",
        fmt=fmt,
        source_system=source,
        filename=filename,
        digest=sha256(data),
        actor=actor,
        now=now,
        experiment_id=experiment_id,
        idempotency_key=idempotency_key,
    )
    assert batch.id is not None
    total, inserted, updated, unchanged, rejections = _write(
        session,
        chunks=chunks,
        names=names,
        source=source,
        batch_id=batch.id,
        now=now,
        expected_rows=expected,
        check_lead_currency=experiment_id is None,
    )
    late = {r.line for r in rejections if not r.raw}
    texts = raw_lines(data, options, late)
    rejections = sorted(
        (
            r if r.raw else Rejection(r.line, r.column, r.code, r.reason, texts.get(r.line, ""))
            for r in rejections
        ),
        key=lambda r: r.line,
    )
    return finish_batch(
        session,
        batch,
        total=total,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        rejections=rejections,
        now=now,
    )


def import_deal_records(
    session: Session,
    *,
    records: Sequence[Mapping[str, Any]],
    source_system: str,
    actor: str,
    now: datetime,
    zone: ZoneInfo,
    experiment_id: str | None = None,
    currency: str | None = None,
    idempotency_key: str | None = None,
) -> ImportReport:
    """Import deals given as JSON objects with the generic field names."""
    replay = find_replay(session, idempotency_key, "deals")
    if replay is not None:
        return replay
    payload = json.dumps(list(records), sort_keys=True, default=str).encode()
    options = ParseOptions(
        "generic",
        zone.key,
        currency=_checked_currency(currency),
        protocol_currency=_protocol_currency(session, experiment_id),
    )
    batch = start_batch(
        session,
        kind="deals",
        fmt="json",
        source_system=source_system,
        filename="(json)",
        digest=sha256(payload),
        actor=actor,
        now=now,
        experiment_id=experiment_id,
        idempotency_key=idempotency_key,
    )
    assert batch.id is not None
    names = {f: a[0] for f, a in DEAL_FORMATS["generic"].items()}
    total, inserted, updated, unchanged, rejections = _write(
        session,
        chunks=json_chunks(records, options),
        names=names,
        source=source_system,
        batch_id=batch.id,
        now=now,
        expected_rows=len(records),
        check_lead_currency=experiment_id is None,
    )
    rejections = sorted(
        (
            r
            if r.raw
            else Rejection(r.line, r.column, r.code, r.reason, json_raw(records[r.line - 1]))
            for r in rejections
        ),
        key=lambda r: r.line,
    )
    return finish_batch(
        session,
        batch,
        total=total,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        rejections=rejections,
        now=now,
    )
