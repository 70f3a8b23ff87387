"""Results: live status, look history, running a look, decision records, exports, the
scoreboard, the HTML report and audit verification. Teams see interim effects only when
the protocol unblinds them (:mod:`arbiter.visibility`)."""

from __future__ import annotations

import json
import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from api.deps import EngineDep, ReadSession, require
from api.schemas import PROBLEM_RESPONSES, AuditOut, Cursor, Document, LookOut, Page
from arbiter import audit
from arbiter.exports import decisions_csv, looks_csv
from arbiter.keys import Principal
from arbiter.looks import list_looks, run_look
from arbiter.records import export_document
from arbiter.report import render_report
from arbiter.scoreboard import scoreboard
from arbiter.status import experiment_status
from arbiter.tables import DecisionRecord
from arbiter.visibility import blind_look, blind_status, sees_effects
from experiments import lifecycle
from experiments.errors import NotFound

router = APIRouter(prefix="/v1", tags=["results"], responses=PROBLEM_RESPONSES)
Committee = Annotated[Principal, Depends(require())]
Reader = Annotated[Principal, Depends(require("team", "analyst"))]
Analyst = Annotated[Principal, Depends(require("analyst"))]
STATUS_TTL_SECONDS = 5.0


class StatusCache:
    """Status documents per experiment for a few seconds: the funnel is an aggregate over
    every lead of the dispute, and a dashboard polling it should not recompute it for
    every viewer. Looks and writes are never cached."""

    def __init__(self, ttl: float = STATUS_TTL_SECONDS) -> None:
        self.ttl, self.lock, self.entries = ttl, threading.Lock(), {}  # type: ignore[var-annotated]

    def get(self, key: str, build: Any) -> dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None and hit[0] > now:
                return dict(hit[1])
        document = build()
        with self.lock:
            self.entries[key] = (now + self.ttl, document)
        return dict(document)


def _sees(session: Any, who: Principal, experiment_id: str) -> bool:
    experiment = lifecycle.get_experiment(session, experiment_id)
    protocol = lifecycle.current_protocol(session, experiment)
    return sees_effects(who.role, unblinded=protocol.unblinded, status=experiment.status)


@router.get("/experiments/{experiment_id}/status", summary="Live status of a dispute")
def status(experiment_id: str, request: Request, session: ReadSession, who: Reader) -> Document:
    """Per arm: assigned, mature, pending (and, unless blinded, the funnel of deals);
    progress toward the maximum sample; health; the latest look and the verdict."""
    cache: StatusCache = request.app.state.status_cache
    document = cache.get(experiment_id, lambda: _status_document(session, experiment_id))
    if not _sees(session, who, experiment_id):
        document = blind_status(document)
        if document.get("latest_look"):
            document["latest_look"] = blind_look(document["latest_look"])
    return document


def _status_document(session: Any, experiment_id: str) -> dict[str, Any]:
    document = experiment_status(session, experiment_id)
    looks = list_looks(session, experiment_id)
    document["latest_look"] = looks[-1] if looks else None
    row = session.scalars(
        select(DecisionRecord).where(col(DecisionRecord.experiment_id) == experiment_id)
    ).first()
    document["verdict"] = (
        None
        if row is None
        else {
            "kind": row.verdict,
            "winner_arm": row.winner_arm,
            "winner_party": row.winner_party,
            "rule": row.rule,
            "look": row.look_number,
            "rationale": json.loads(row.rationale),
            "record_sha256": row.record_sha256,
        }
    )
    return document


@router.get("/experiments/{experiment_id}/looks", summary="Look history")
def looks(
    experiment_id: str,
    session: ReadSession,
    who: Reader,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[Document]:
    rows = [
        look
        for look in list_looks(session, experiment_id)
        if cursor is None or look["look"] > cursor
    ]
    if not _sees(session, who, experiment_id):
        rows = [blind_look(look) for look in rows]
    page = rows[:limit]
    return Page(items=page, next_cursor=str(page[-1]["look"]) if len(rows) > limit else None)


@router.post("/experiments/{experiment_id}/looks", status_code=201, summary="Run a look now")
def run(experiment_id: str, request: Request, engine: EngineDep, who: Committee) -> LookOut:
    outcome = run_look(engine, experiment_id, actor=who.actor)
    request.app.state.status_cache.entries.pop(experiment_id, None)
    return LookOut.model_validate(outcome.as_dict())


@router.get("/experiments/{experiment_id}/decision", summary="The decision record")
def decision(experiment_id: str, session: ReadSession, who: Reader) -> Document:
    """The record (schema ``arbiter.decision-record/1``) and its SHA-256; recompute it
    with ``arbiter decisions verify``."""
    row = session.scalars(
        select(DecisionRecord).where(col(DecisionRecord.experiment_id) == experiment_id)
    ).first()
    if row is None:
        lifecycle.get_experiment(session, experiment_id)
        raise NotFound("decision for experiment", experiment_id)
    return export_document(row)


@router.get(
    "/experiments/{experiment_id}/report",
    response_class=HTMLResponse,
    summary="The single-file HTML report",
)
def report(
    experiment_id: str,
    session: ReadSession,
    who: Analyst,
    lang: Annotated[str | None, Query(pattern="^(en|pl|ru)$")] = None,
) -> HTMLResponse:
    return HTMLResponse(render_report(session, experiment_id, lang))


def _ids(session: Any, experiment: str | None) -> list[str]:
    if experiment is not None:
        lifecycle.get_experiment(session, experiment)
        return [experiment]
    return [e.id for e in lifecycle.list_experiments(session, limit=100_000)]


@router.get("/exports/decisions.json", summary="Decision records (download)")
def export_json(session: ReadSession, who: Analyst, experiment: str | None = None) -> Response:
    query = select(DecisionRecord).order_by(col(DecisionRecord.id))
    if experiment is not None:
        query = query.where(col(DecisionRecord.experiment_id) == experiment)
    documents = [export_document(row) for row in session.scalars(query)]
    return Response(
        json.dumps(documents, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="decisions.json"'},
    )


def _csv(header: list[str], rows: list[list[Any]], name: str) -> Response:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/exports/decisions.csv", summary="Verdicts (CSV download)")
def export_decisions_csv(
    session: ReadSession, who: Analyst, experiment: str | None = None
) -> Response:
    return _csv(*decisions_csv(session, _ids(session, experiment)), "decisions.csv")


@router.get("/exports/looks.csv", summary="Look histories (CSV download)")
def export_looks_csv(session: ReadSession, who: Analyst, experiment: str | None = None) -> Response:
    return _csv(*looks_csv(session, _ids(session, experiment)), "looks.csv")


@router.get("/scoreboard", summary="Decided disputes per party")
def board(
    session: ReadSession, who: Reader, lang: Annotated[str, Query(pattern="^(en|pl|ru)$")] = "en"
) -> list[Document]:
    return scoreboard(session, lang)


@router.get("/audit/verify", summary="Verify the hash chain of the audit log")
def verify(session: ReadSession, who: Analyst) -> AuditOut:
    anchors = list(session.scalars(select(DecisionRecord.audit_head)))
    result = audit.verify(session, anchors=anchors)
    return AuditOut(
        ok=result.ok, events=result.events, head=result.head_hash, problems=result.problems
    )
