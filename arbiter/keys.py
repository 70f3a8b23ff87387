"""API keys: created for a role (and a party for teams), shown once, stored hashed,
revocable.

A key reads ``arb_<prefix>_<secret>``: the 12-hex-digit prefix is public and finds the
row; the 256-bit secret is stored only as its SHA-256 (a plain cryptographic hash is the
right tool for a random secret of that strength, unlike passwords) and is compared in
constant time. Creation and revocation are audit events; the key itself never is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from arbiter import audit
from arbiter.tables import ApiKey
from experiments.clock import utcnow
from experiments.errors import InvalidInput, NotFound, Problem

__all__ = [
    "ROLES",
    "Principal",
    "authenticate",
    "create_key",
    "list_keys",
    "principal_of",
    "revoke_key",
]

ROLES = ("committee", "team", "analyst", "ingest")
_FORMAT = re.compile(r"^arb_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, name, role and party (teams only)."""

    key_id: int
    name: str
    role: str
    party: str | None

    @property
    def actor(self) -> str:
        """The audit log's name for this caller."""
        return f"key:{self.key_id}:{self.name}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session,
    *,
    name: str,
    role: str,
    party: str | None,
    actor: str,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key row and the key text (shown to the caller once, never stored)."""
    problems = []
    if role not in ROLES:
        problems.append(Problem("role", f"must be one of {', '.join(ROLES)}"))
    if role == "team" and not party:
        problems.append(Problem("party", "a team key needs the party it speaks for"))
    if role != "team" and party:
        problems.append(Problem("party", "only team keys belong to a party"))
    if not name.strip():
        problems.append(Problem("name", "is required"))
    if problems:
        raise InvalidInput("the key cannot be created", problems)
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    now = now or utcnow()
    row = ApiKey(
        name=name.strip()[:200],
        role=role,
        party=party,
        prefix=prefix,
        secret_sha256=_hash(secret),
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="create key",
        subject=f"key:{row.id}",
        at=now,
        payload={"name": row.name, "role": role, "party": party, "prefix": prefix},
    )
    return row, f"arb_{prefix}_{secret}"


def revoke_key(session: Session, *, key: str, actor: str, now: datetime | None = None) -> ApiKey:
    """Revoke a key by its id or prefix."""
    query = select(ApiKey)
    query = (
        query.where(col(ApiKey.id) == int(key))
        if key.isdigit()
        else query.where(col(ApiKey.prefix) == key.removeprefix("arb_").split("_")[0])
    )
    row = session.scalars(query).first()
    if row is None:
        raise NotFound("API key", key)
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.add(row)
        session.flush()
        audit.append(
            session,
            actor=actor,
            action="revoke key",
            subject=f"key:{row.id}",
            at=row.revoked_at,
            payload={"prefix": row.prefix},
        )
    return row


def list_keys(session: Session) -> list[ApiKey]:
    """Every key (never the secrets)."""
    return list(session.scalars(select(ApiKey).order_by(col(ApiKey.id))))


def authenticate(session: Session, presented: str) -> Principal | None:
    """The principal of a valid, unrevoked key, or None."""
    match = _FORMAT.match(presented.strip())
    if match is None:
        return None
    prefix, secret = match.groups()
    row = session.scalars(select(ApiKey).where(col(ApiKey.prefix) == prefix)).first()
    expected = row.secret_sha256 if row is not None else "0" * 64
    valid = hmac.compare_digest(_hash(secret), expected)  # constant time, row or not
    if row is None or not valid or row.revoked_at is not None:
        return None
    assert row.id is not None
    return Principal(row.id, row.name, row.role, row.party)


def principal_of(session: Session, key_id: int) -> Principal | None:
    """The principal of the key with this id while it is not revoked (for a signed
    dashboard session, which names the key it was opened with), or None."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    return Principal(key_id, row.name, row.role, row.party)
