"""Use cases of data coming in: lead assignment, lead and deal imports.

Shared by the CLI and the HTTP API. Each import is one transaction (the caller's write
session) and appends one audit event naming the batch, the file's SHA-256 and its
counts. Single assignments are not audited one by one: the assignment table itself keeps
each lead's arm and time, and bulk files are audited as batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from arbiter import audit
from arbiter.settings import get_settings
from experiments.assignment import AssignmentOutcome, LeadInput, assign_leads
from experiments.batches import ImportReport
from experiments.clock import utcnow
from experiments.deal_import import import_deal_records, import_deals
from experiments.lead_import import LeadImport, import_lead_records, import_leads
from experiments.parsing import Separator

__all__ = ["assign", "import_deal_file", "import_deal_json", "import_lead_file", "import_lead_json"]


def _audit(
    session: Session, report: ImportReport, actor: str, now: datetime, experiment_id: str | None
) -> None:
    if report.replayed:
        return
    audit.append(
        session,
        actor=actor,
        action=f"import {report.kind}",
        subject=f"batch:{report.batch_id}",
        at=now,
        payload={
            "sha256": report.file_sha256,
            "format": report.format,
            "filename": report.filename,
            "experiment": experiment_id,
            "rows": report.rows_total,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
        },
    )


def import_deal_file(
    session: Session,
    *,
    data: bytes,
    filename: str,
    fmt: str,
    actor: str,
    now: datetime | None = None,
    experiment_id: str | None = None,
    currency: str | None = None,
    decimal: Separator | None = None,
    encoding: str | None = None,
    idempotency_key: str | None = None,
) -> ImportReport:
    """Import a CRM export of deals and audit the batch."""
    now = now or utcnow()
    report = import_deals(
        session,
        data=data,
        filename=filename,
        fmt=fmt,
        actor=actor,
        now=now,
        zone=get_settings().zone,
        experiment_id=experiment_id,
        currency=currency,
        decimal=decimal,
        encoding=encoding,
        idempotency_key=idempotency_key,
    )
    _audit(session, report, actor, now, experiment_id)
    return report


def import_deal_json(
    session: Session,
    *,
    records: Sequence[Mapping[str, Any]],
    source_system: str,
    actor: str,
    now: datetime | None = None,
    experiment_id: str | None = None,
    currency: str | None = None,
    idempotency_key: str | None = None,
) -> ImportReport:
    """Import deals sent as JSON and audit the batch."""
    now = now or utcnow()
    report = import_deal_records(
        session,
        records=records,
        source_system=source_system,
        actor=actor,
        now=now,
        zone=get_settings().zone,
        experiment_id=experiment_id,
        currency=currency,
        idempotency_key=idempotency_key,
    )
    _audit(session, report, actor, now, experiment_id)
    return report


def import_lead_file(
    session: Session,
    *,
    data: bytes,
    filename: str,
    fmt: str,
    actor: str,
    now: datetime | None = None,
    experiment_id: str | None = None,
    encoding: str | None = None,
    idempotency_key: str | None = None,
) -> LeadImport:
    """Import (and with an experiment, assign) a CRM export of leads; audit the batch."""
    now = now or utcnow()
    result = import_leads(
        session,
        data=data,
        filename=filename,
        fmt=fmt,
        actor=actor,
        now=now,
        zone=get_settings().zone,
        experiment_id=experiment_id,
        encoding=encoding,
        idempotency_key=idempotency_key,
    )
    _audit(session, result.report, actor, now, experiment_id)
    return result


def import_lead_json(
    session: Session,
    *,
    records: Sequence[Mapping[str, Any]],
    source_system: str,
    actor: str,
    now: datetime | None = None,
    experiment_id: str | None = None,
    idempotency_key: str | None = None,
) -> LeadImport:
    """Import (and optionally assign) leads sent as JSON; audit the batch."""
    now = now or utcnow()
    result = import_lead_records(
        session,
        records=records,
        source_system=source_system,
        actor=actor,
        now=now,
        zone=get_settings().zone,
        experiment_id=experiment_id,
        idempotency_key=idempotency_key,
    )
    _audit(session, result.report, actor, now, experiment_id)
    return result


def assign(
    session: Session,
    *,
    experiment_id: str,
    leads: Sequence[LeadInput],
    now: datetime | None = None,
) -> list[AssignmentOutcome]:
    """Assign leads by hash (a lead already assigned keeps its arm)."""
    return assign_leads(session, experiment_id=experiment_id, leads=leads, now=now or utcnow())
