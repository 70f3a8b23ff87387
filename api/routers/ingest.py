"""Ingestion: assignment (single and bulk), leads and deals as JSON batches or CSV uploads,
and the import batches with their rejected rows. Retries are safe: a lead is assigned
once, and a batch sent again with the same ``Idempotency-Key`` is applied once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine

from api.assigner import GroupCommit
from api.deps import EngineDep, ReadSession, WriteSession, require
from api.schemas import (
    PROBLEM_RESPONSES,
    AssignmentOut,
    BatchSummary,
    BulkAssignIn,
    BulkAssignOut,
    Cursor,
    DealBatchIn,
    ImportReportOut,
    LeadBatchIn,
    LeadImportOut,
    LeadIn,
    Page,
    RowId,
)
from arbiter import ingest
from arbiter.db import WriterBusy, is_sqlite, write_session, write_session_now
from arbiter.keys import Principal
from experiments.assignment import AssignmentOutcome, LeadInput
from experiments.batches import ImportReport, batch_report, list_batches
from experiments.errors import InvalidInput, Problem

router = APIRouter(prefix="/v1", tags=["ingestion"], responses=PROBLEM_RESPONSES)
Ingest = Annotated[Principal, Depends(require("ingest"))]
Reader = Annotated[Principal, Depends(require("analyst"))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
FORMATS = ("hubspot", "salesforce", "pipedrive", "generic")
NO_NUL = r"^[^\x00]*$"
ExperimentField = Annotated[str | None, Form(max_length=200, pattern=NO_NUL)]


def _filename(file: UploadFile) -> str:
    """The uploaded file's name, without control characters (it is only a label)."""
    name = "".join(ch for ch in (file.filename or "") if ch >= " " and ch != "\x7f")
    return name.strip() or "upload.csv"


def _lead(lead: LeadIn) -> LeadInput:
    return LeadInput(
        lead.lead_id,
        source_system="api",
        campaign=lead.campaign,
        channel=lead.channel,
        landing_page=lead.landing_page,
        origin=lead.origin,
        first_seen=lead.first_seen,
        attributes=dict(lead.attributes),
    )


def _assignment(a: AssignmentOutcome) -> AssignmentOut:
    return AssignmentOut(
        lead_id=a.lead_external_id,
        arm=a.arm,
        assigned_at=a.assigned_at,
        method=a.method,
        created=a.created,
    )


def _report(report: ImportReport) -> ImportReportOut:
    return ImportReportOut.model_validate(report.as_dict())


def assign_in_one_transaction(
    engine: Engine, experiment_id: str, leads: Sequence[LeadInput]
) -> list[AssignmentOutcome]:
    """Assign ``leads`` in one write transaction of its own (runs in a worker thread)."""
    with write_session(engine) as session:
        return ingest.assign(session, experiment_id=experiment_id, leads=leads)


def assign_if_writer_free(
    engine: Engine, experiment_id: str, leads: Sequence[LeadInput]
) -> list[AssignmentOutcome] | None:
    """Assign ``leads`` at once if SQLite's write lock is free (see
    :func:`arbiter.db.write_session_now`); ``None``, having done nothing, if it is not
    or the database is PostgreSQL."""
    if not is_sqlite(engine):
        return None
    try:
        with write_session_now(engine) as session:
            return ingest.assign(session, experiment_id=experiment_id, leads=leads)
    except WriterBusy:
        return None


@router.post("/experiments/{experiment_id}/assignments", summary="Assign one lead")
async def assign_one(
    experiment_id: str, body: LeadIn, request: Request, who: Ingest
) -> AssignmentOut:
    """The lead's arm; the same lead always gets the same arm (``created`` says whether
    this call made the assignment).

    A CRM calls this inline while a person waits, from many connections at once: calls
    that arrive together share one transaction (:mod:`api.assigner`), committed before
    any of them is answered."""
    assigner: GroupCommit = request.app.state.assigner
    return _assignment(await assigner.assign(experiment_id, _lead(body)))


@router.post("/experiments/{experiment_id}/assignments/bulk", summary="Assign many leads")
async def assign_many(
    experiment_id: str, body: BulkAssignIn, engine: EngineDep, who: Ingest
) -> BulkAssignOut:
    ids = [lead.lead_id for lead in body.leads]
    if len(set(ids)) != len(ids):
        raise InvalidInput(
            "a lead appears twice in the batch", [Problem("leads", "each lead_id once per call")]
        )
    leads = [_lead(lead) for lead in body.leads]
    outcomes = await run_in_threadpool(assign_in_one_transaction, engine, experiment_id, leads)
    return BulkAssignOut(assignments=[_assignment(a) for a in outcomes])


@router.post("/leads", summary="Import leads (JSON batch), optionally assigning them")
def import_leads(
    body: LeadBatchIn, session: WriteSession, who: Ingest, idempotency_key: IdempotencyKey = None
) -> LeadImportOut:
    result = ingest.import_lead_json(
        session,
        records=body.leads,
        source_system=body.source_system,
        actor=who.actor,
        experiment_id=body.experiment_id,
        idempotency_key=idempotency_key,
    )
    return LeadImportOut(
        report=_report(result.report), assignments=[_assignment(a) for a in result.assignments]
    )


@router.post("/deals", summary="Import deals (JSON batch)")
def import_deals(
    body: DealBatchIn, session: WriteSession, who: Ingest, idempotency_key: IdempotencyKey = None
) -> ImportReportOut:
    report = ingest.import_deal_json(
        session,
        records=body.deals,
        source_system=body.source_system,
        actor=who.actor,
        currency=body.currency,
        experiment_id=body.experiment_id,
        idempotency_key=idempotency_key,
    )
    return _report(report)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput("unknown format", [Problem("format", f"one of {', '.join(FORMATS)}")])
    return fmt


@router.post("/leads/upload", summary="Import a CRM export of leads (CSV upload)")
def upload_leads(
    session: WriteSession,
    who: Ingest,
    file: Annotated[UploadFile, File()],
    fmt: Annotated[str, Form(alias="format")] = "generic",
    experiment_id: ExperimentField = None,
    idempotency_key: IdempotencyKey = None,
) -> LeadImportOut:
    data = file.file.read()
    result = ingest.import_lead_file(
        session,
        data=data,
        filename=_filename(file),
        fmt=_format(fmt),
        actor=who.actor,
        experiment_id=experiment_id or None,
        idempotency_key=idempotency_key,
    )
    return LeadImportOut(
        report=_report(result.report), assignments=[_assignment(a) for a in result.assignments]
    )


@router.post("/deals/upload", summary="Import a CRM export of deals (CSV upload)")
def upload_deals(
    session: WriteSession,
    who: Ingest,
    file: Annotated[UploadFile, File()],
    fmt: Annotated[str, Form(alias="format")] = "generic",
    currency: Annotated[str | None, Form(max_length=3, pattern=NO_NUL)] = None,
    decimal: Annotated[str | None, Form(max_length=10)] = None,
    experiment_id: ExperimentField = None,
    idempotency_key: IdempotencyKey = None,
) -> ImportReportOut:
    if decimal not in (None, "", "comma", "point"):
        raise InvalidInput("unknown decimal separator", [Problem("decimal", "comma or point")])
    data = file.file.read()
    report = ingest.import_deal_file(
        session,
        data=data,
        filename=_filename(file),
        fmt=_format(fmt),
        actor=who.actor,
        currency=currency or None,
        experiment_id=experiment_id or None,
        decimal="comma" if decimal == "comma" else ("point" if decimal == "point" else None),
        idempotency_key=idempotency_key,
    )
    return _report(report)


@router.get("/imports", summary="Import batches, newest first")
def imports(
    session: ReadSession,
    who: Reader,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[BatchSummary]:
    rows = list_batches(session, before=cursor, limit=limit + 1)
    items = [
        BatchSummary(
            batch_id=b.id or 0,
            kind=b.kind,
            format=b.format,
            filename=b.filename,
            file_sha256=b.file_sha256,
            started=b.started_at,
            rows=b.rows_total,
            inserted=b.rows_inserted,
            updated=b.rows_updated,
            unchanged=b.rows_unchanged,
            rejected=b.rows_rejected,
        )
        for b in rows[:limit]
    ]
    return Page(items=items, next_cursor=str(items[-1].batch_id) if len(rows) > limit else None)


@router.get("/imports/{batch_id}", summary="One batch with its rejected rows")
def batch(
    batch_id: RowId,
    session: ReadSession,
    who: Annotated[Principal, Depends(require("analyst", "ingest"))],
) -> ImportReportOut:
    return _report(batch_report(session, batch_id))
