"""Import batches: their bookkeeping, rejected rows, and the report an import returns.

Every import is one batch with the file's SHA-256 and row counts; each rejected row is
kept with its line, column, a short code, the reason and the raw text. A batch is written
in the importer's transaction, so it lands together with the rows or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from experiments.bulk import executemany, placeholders
from experiments.crm_tables import ImportBatch, ImportRejection
from experiments.errors import AlreadyExists, NotFound, Rejection

__all__ = [
    "ImportReport",
    "Rejection",
    "batch_report",
    "find_replay",
    "list_batches",
    "start_batch",
]

REPORTED_REJECTIONS = 200


@dataclass
class ImportReport:
    """What an import did: counts, the first rejections, and warnings."""

    batch_id: int
    kind: str
    format: str
    filename: str
    file_sha256: str
    rows_total: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[Rejection] = field(default_factory=list)
    rejection_codes: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    replayed: bool = False

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (the first rejections only; ``imports show`` has them all)."""
        return {
            "batch_id": self.batch_id,
            "kind": self.kind,
            "format": self.format,
            "filename": self.filename,
            "file_sha256": self.file_sha256,
            "rows_total": self.rows_total,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejection_codes": self.rejection_codes,
            "warnings": self.warnings,
            "replayed": self.replayed,
            "rejections": [
                {
                    "line": r.line,
                    "column": r.column,
                    "code": r.code,
                    "reason": r.reason,
                    "raw": r.raw,
                }
                for r in self.rejections
            ],
        }


def sha256(data: bytes) -> str:
    """Hex SHA-256 of the file as received."""
    return hashlib.sha256(data).hexdigest()


def normal_key(idempotency_key: str | None) -> str | None:
    """An idempotency key without surrounding spaces; empty means none."""
    if idempotency_key is None:
        return None
    return idempotency_key.strip() or None


def find_replay(session: Session, idempotency_key: str | None, kind: str) -> ImportReport | None:
    """The report of an earlier ``kind`` batch sent with the same idempotency key, if any
    (a key already used for another kind of import is refused)."""
    key = normal_key(idempotency_key)
    if key is None:
        return None
    batch = session.exec(select(ImportBatch).where(ImportBatch.idempotency_key == key)).first()
    if batch is None:
        return None
    if batch.kind != kind:
        raise AlreadyExists(
            f"the idempotency key was already used for a {batch.kind} import (batch "
            f"{batch.id}); use a new key for this {kind} import."
        )
    report = batch_report(session, batch.id or 0, limit=REPORTED_REJECTIONS)
    report.replayed = True
    return report


def start_batch(
    session: Session,
    *,
    kind: str,
    fmt: str,
    source_system: str,
    filename: str,
    digest: str,
    actor: str,
    now: datetime,
    experiment_id: str | None = None,
    idempotency_key: str | None = None,
) -> ImportBatch:
    """Create the batch row (its id is needed by the rows it writes)."""
    batch = ImportBatch(
        kind=kind,
        format=fmt,
        source_system=source_system,
        filename=filename[:500],
        file_sha256=digest,
        idempotency_key=normal_key(idempotency_key),
        experiment_id=experiment_id,
        actor=actor,
        started_at=now,
    )
    session.add(batch)
    session.flush()
    return batch


def finish_batch(
    session: Session,
    batch: ImportBatch,
    *,
    total: int,
    inserted: int,
    updated: int,
    unchanged: int,
    rejections: Sequence[Rejection],
    now: datetime,
    warnings: Sequence[str] = (),
) -> ImportReport:
    """Store the rejections and the counts; return the report."""
    assert batch.id is not None
    sql = (  # constant text and driver placeholders only: every value is a bound parameter
        'INSERT INTO import_rejection (batch_id, line, "column", code, reason, raw) '  # noqa: S608
        f"VALUES ({placeholders(session, 6)})"
    )
    executemany(
        session, sql, [(batch.id, r.line, r.column, r.code, r.reason, r.raw) for r in rejections]
    )
    batch.rows_total, batch.rows_inserted, batch.rows_updated = total, inserted, updated
    batch.rows_unchanged, batch.rows_rejected = unchanged, len(rejections)
    batch.finished_at = now
    session.add(batch)
    session.flush()
    codes: dict[str, int] = {}
    for r in rejections:
        codes[r.code] = codes.get(r.code, 0) + 1
    return ImportReport(
        batch.id,
        batch.kind,
        batch.format,
        batch.filename,
        batch.file_sha256,
        total,
        inserted,
        updated,
        unchanged,
        len(rejections),
        list(rejections[:REPORTED_REJECTIONS]),
        codes,
        list(warnings),
    )


def batch_report(session: Session, batch_id: int, *, limit: int | None = None) -> ImportReport:
    """The stored report of a batch, with its rejections (all, or the first ``limit``)."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound("import batch", batch_id)
    query = (
        select(ImportRejection)
        .where(ImportRejection.batch_id == batch_id)
        .order_by(col(ImportRejection.line))
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [Rejection(r.line, r.column, r.code, r.reason, r.raw) for r in session.exec(query)]
    codes = dict(
        session.exec(
            select(ImportRejection.code, func.count())
            .where(ImportRejection.batch_id == batch_id)
            .group_by(col(ImportRejection.code))
        ).all()
    )
    return ImportReport(
        batch_id,
        batch.kind,
        batch.format,
        batch.filename,
        batch.file_sha256,
        batch.rows_total,
        batch.rows_inserted,
        batch.rows_updated,
        batch.rows_unchanged,
        batch.rows_rejected,
        rows,
        {str(k): int(v) for k, v in codes.items()},
    )


def list_batches(
    session: Session, *, before: int | None = None, limit: int = 100
) -> list[ImportBatch]:
    """Batches newest first, from the cursor ``before`` (a batch id)."""
    query = select(ImportBatch).order_by(col(ImportBatch.id).desc())
    if before is not None:
        query = query.where(col(ImportBatch.id) < before)
    return list(session.exec(query.limit(limit)))
