"""Health (public) and API keys (the committee's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import EngineDep, WriteSession, require
from api.schemas import PROBLEM_RESPONSES, Health, KeyCreated, KeyIn, KeyOut, RowId
from arbiter import __version__
from arbiter.db import schema_revisions
from arbiter.keys import Principal, create_key, list_keys, revoke_key
from arbiter.tables import ApiKey

router = APIRouter(tags=["admin"], responses=PROBLEM_RESPONSES)
Committee = Annotated[Principal, Depends(require())]


def _key(row: ApiKey) -> KeyOut:
    return KeyOut.model_validate(
        {
            "id": row.id or 0,
            "name": row.name,
            "role": row.role,
            "party": row.party,
            "prefix": row.prefix,
            "created_at": row.created_at,
            "revoked_at": row.revoked_at,
        }
    )


@router.get("/health", summary="Liveness and the schema revision")
def health(engine: EngineDep) -> Health:
    current, _ = schema_revisions(engine)
    return Health(status="ok", schema_revision=current, version=__version__)


@router.get("/v1/keys", summary="API keys (never their secrets)")
def keys(session: WriteSession, who: Committee) -> list[KeyOut]:
    return [_key(row) for row in list_keys(session)]


@router.post("/v1/keys", status_code=201, summary="Create an API key (shown once)")
def create(body: KeyIn, session: WriteSession, who: Committee) -> KeyCreated:
    row, key = create_key(
        session, name=body.name, role=body.role, party=body.party, actor=who.actor
    )
    return KeyCreated(**_key(row).model_dump(), key=key)


@router.delete("/v1/keys/{key_id}", summary="Revoke an API key")
def revoke(key_id: RowId, session: WriteSession, who: Committee) -> KeyOut:
    return _key(revoke_key(session, key=str(key_id), actor=who.actor))
