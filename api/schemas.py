"""Wire schemas of the HTTP API (separate from the tables, so the contract can change
without a migration)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
MAX_ID = 2**31 - 1
#: Integer ids and cursors fit the INTEGER id columns (32-bit signed in PostgreSQL).
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Cursor = Annotated[int | None, Query(ge=0, le=MAX_ID)]

Document = dict[str, Any]


class Strict(BaseModel):
    """Refuses unknown fields, so a typo is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[T]
    next_cursor: str | None = None


class ExperimentSummary(BaseModel):
    id: str
    title: str
    status: str
    protocol_version: int


class SignOffIn(Strict):
    party: str = Field(min_length=1, max_length=63)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class AmendmentIn(Strict):
    protocol: Document
    reason: str = Field(min_length=1, max_length=2000)


class LeadIn(Strict):
    lead_id: str = Field(min_length=1, max_length=200)
    campaign: str | None = Field(default=None, max_length=500)
    channel: str | None = Field(default=None, max_length=500)
    landing_page: str | None = Field(default=None, max_length=2000)
    origin: str | None = Field(default=None, max_length=500)
    first_seen: datetime | None = None
    attributes: dict[str, float | int | bool | str] = Field(default_factory=dict, max_length=100)


class AssignmentOut(BaseModel):
    lead_id: str
    arm: str
    assigned_at: datetime
    method: str
    created: bool


class BulkAssignIn(Strict):
    leads: list[LeadIn] = Field(min_length=1, max_length=10_000)


class BulkAssignOut(BaseModel):
    assignments: list[AssignmentOut]


class LeadBatchIn(Strict):
    leads: list[Document] = Field(min_length=1, max_length=50_000)
    source_system: str = Field(default="api", min_length=1, max_length=32)
    experiment_id: str | None = None


class DealBatchIn(Strict):
    deals: list[Document] = Field(min_length=1, max_length=50_000)
    source_system: str = Field(default="api", min_length=1, max_length=32)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    experiment_id: str | None = None


class RejectionOut(BaseModel):
    line: int
    column: str | None
    code: str
    reason: str
    raw: str


class ImportReportOut(BaseModel):
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
    rejection_codes: dict[str, int]
    warnings: list[str]
    replayed: bool
    rejections: list[RejectionOut]


class LeadImportOut(BaseModel):
    report: ImportReportOut
    assignments: list[AssignmentOut]


class BatchSummary(BaseModel):
    batch_id: int
    kind: str
    format: str
    filename: str
    file_sha256: str
    started: datetime
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int


class LookOut(BaseModel):
    experiment_id: str
    look: int
    at: datetime
    information_fraction: float
    analysed: bool
    outcome: str
    rule: str
    snapshot_sha256: str
    decision: Document | None
    rationale: dict[str, str] | str
    verdict: Document | None = None


class AuditOut(BaseModel):
    ok: bool
    events: int
    head: str
    problems: list[str]


class KeyOut(BaseModel):
    id: int
    name: str
    role: Literal["committee", "team", "analyst", "ingest"]
    party: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself: shown this once, never stored.")


class KeyIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["committee", "team", "analyst", "ingest"]
    party: str | None = Field(default=None, max_length=63)


class Health(BaseModel):
    status: Literal["ok"]
    schema_revision: str | None
    version: str


class ProblemField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong and, for invalid input, each field's problem."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemField] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid API key"),
    403: _problem("The key's role or party may not do this"),
    404: _problem("Not found"),
    409: _problem("Not allowed in the current state"),
    413: _problem("Request body too large"),
    422: _problem("Invalid input, with each field's problem"),
}
