"""The HTTP baseline: the same server (uvicorn, one worker) and framework (FastAPI) as
Arbiter's API, answering the same bytes with no authentication, no database and no
computation. ``ARBITER_BENCH_STATUS_FILE`` names a file holding the status document to
serve (captured from Arbiter's own answer, so both send the same payload)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response
from pydantic import BaseModel

app = FastAPI()
_STATUS = (
    Path(os.environ.get("ARBITER_BENCH_STATUS_FILE", "")).read_bytes()
    if os.environ.get("ARBITER_BENCH_STATUS_FILE")
    else b"{}"
)


class LeadIn(BaseModel):
    lead_id: str


class AssignmentOut(BaseModel):
    lead_id: str
    arm: str
    assigned_at: str
    method: str
    created: bool


@app.get("/status")
def status() -> Response:
    return Response(_STATUS, media_type="application/json")


@app.post("/assign")
def assign(body: LeadIn) -> AssignmentOut:
    return AssignmentOut(
        lead_id=body.lead_id,
        arm="a",
        assigned_at="2026-01-05T09:00:00Z",
        method="hash-v1",
        created=True,
    )
