"""Importing leads: CSV exports (HubSpot contacts, Salesforce leads, Pipedrive persons,
generic) and JSON records, optionally assigning them to a running experiment.

Leads are upserted by external id with their source (campaign, channel, landing page,
origin) and their pre-assignment attributes. Each attribute column gets one type for the
whole file — number, yes/no, date or text — from its values, so a lead score is stored as
a number everywhere. With an experiment, a row that has ``arm`` and ``assigned_at`` records
an assignment made elsewhere (CRM campaign membership) with its original time; every other
row is assigned by hash.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from experiments.assignment import (
    AssignmentOutcome,
    AttributeValue,
    LeadInput,
    PremadeAssignment,
    assign_leads,
    record_assignments,
    upsert_leads,
)
from experiments.batches import (
    ImportReport,
    Rejection,
    find_replay,
    finish_batch,
    sha256,
    start_batch,
)
from experiments.csvfile import open_csv
from experiments.errors import InvalidInput, Problem
from experiments.formats import LEAD_FORMATS, attribute_name, resolve
from experiments.parsing import AmountReader, parse_datetime

__all__ = ["LeadImport", "import_lead_records", "import_leads"]

_STRICT_TRUE = {"true", "yes", "y", "t"}
_STRICT_FALSE = {"false", "no", "n", "f"}


@dataclass
class LeadImport:
    """The batch report and, with an experiment, every row's assignment."""

    report: ImportReport
    assignments: list[AssignmentOutcome] = field(default_factory=list)


def _column_type(values: Sequence[str], zone: ZoneInfo) -> str:
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return "text"
    if all(v.casefold() in _STRICT_TRUE | _STRICT_FALSE for v in present):
        return "bool"
    numbers = AmountReader(present)
    try:
        for v in present:
            _, currency = numbers.read(v)
            if currency is not None:
                raise ValueError
        return "number"
    except ValueError:
        pass
    try:
        for v in present:
            parse_datetime(v, zone)
        return "date" if any("-" in v for v in present) else "text"
    except ValueError:
        return "text"


def _typed(text: str, kind: str, zone: ZoneInfo, numbers: AmountReader | None) -> AttributeValue:
    if kind == "bool":
        return text.strip().casefold() in _STRICT_TRUE
    if kind == "number":
        assert numbers is not None
        return float(numbers.read(text)[0])
    if kind == "date":
        return parse_datetime(text, zone)
    return text.strip()


@dataclass
class _Row:
    line: int
    raw: str
    lead: LeadInput
    arm: str | None
    assigned_at: datetime | None


def _finish(
    session: Session,
    *,
    rows: list[_Row],
    rejections: list[Rejection],
    total: int,
    batch: Any,
    experiment_id: str | None,
    now: datetime,
) -> LeadImport:
    upsert = upsert_leads(session, [r.lead for r in rows], now=now)
    warnings = [
        f"attribute {name} not changed: the lead is already assigned, and attributes "
        "are frozen after assignment"
        for name in upsert.frozen_attributes[:50]
    ]
    outcomes: dict[int, AssignmentOutcome] = {}
    with_arm = sum(r.arm is not None for r in rows)
    if experiment_id is None and with_arm:
        warnings.append(
            f"{with_arm} rows name an arm but no experiment was given: the leads were stored "
            "without assignments; import them again with the experiment id to record them"
        )
    if experiment_id is not None:
        premade = [r for r in rows if r.arm is not None]
        hashed = [r for r in rows if r.arm is None]
        results = record_assignments(
            session,
            experiment_id=experiment_id,
            now=now,
            batch_id=batch.id,
            known_ids=upsert.ids,
            rows=[PremadeAssignment(r.lead, r.arm or "", r.assigned_at or now) for r in premade],
        )
        for row, result in zip(premade, results, strict=True):
            if isinstance(result, Problem):
                rejections.append(
                    Rejection(row.line, result.field, "assignment", result.message, row.raw)
                )
            else:
                outcomes[row.line] = result
        for row, outcome in zip(
            hashed,
            assign_leads(
                session,
                experiment_id=experiment_id,
                leads=[r.lead for r in hashed],
                now=now,
                batch_id=batch.id,
                known_ids=upsert.ids,
            ),
            strict=True,
        ):
            outcomes[row.line] = outcome
    rejections.sort(key=lambda r: r.line)
    unchanged = max(len(rows) - upsert.inserted - upsert.updated, 0)
    report = finish_batch(
        session,
        batch,
        total=total,
        inserted=upsert.inserted,
        updated=upsert.updated,
        unchanged=unchanged,
        rejections=rejections,
        now=now,
        warnings=warnings,
    )
    return LeadImport(report, [outcomes[k] for k in sorted(outcomes)])


def import_leads(
    session: Session,
    *,
    data: bytes,
    filename: str,
    fmt: str,
    actor: str,
    now: datetime,
    zone: ZoneInfo,
    experiment_id: str | None = None,
    encoding: str | None = None,
    idempotency_key: str | None = None,
) -> LeadImport:
    """Import (and optionally assign) a CSV export of leads, in the caller's transaction."""
    replay = find_replay(session, idempotency_key, "leads")
    if replay is not None:
        return LeadImport(replay)
    if fmt not in LEAD_FORMATS:
        raise InvalidInput(
            f"unknown format {fmt!r}",
            [Problem("format", f"must be one of {', '.join(LEAD_FORMATS)}")],
        )
    table = open_csv(data, encoding=encoding)
    index = resolve(table.headers, LEAD_FORMATS[fmt], ["id"], fmt)
    known = set(index.values())
    attributes = {
        i: name
        for i, header in enumerate(table.headers)
        if i not in known and (name := attribute_name(header, fmt)) is not None
    }
    records = list(table.rows())
    kinds = {i: _column_type([f[i] for _, f in records if i < len(f)], zone) for i in attributes}
    readers = {
        i: AmountReader([f[i] for _, f in records if i < len(f) and f[i].strip()])
        for i, kind in kinds.items()
        if kind == "number"
    }
    source = "generic" if fmt == "generic" else fmt
    batch = start_batch(
        session,
        kind="leads",
        fmt=fmt,
        source_system=source,
        filename=filename,
        digest=sha256(data),
        actor=actor,
        now=now,
        experiment_id=experiment_id,
        idempotency_key=idempotency_key,
    )
    width = len(table.headers)
    rows: list[_Row] = []
    rejections: list[Rejection] = []
    seen: dict[str, int] = {}
    names = {f: table.headers[i] for f, i in index.items()}
    for line, fields in records:
        raw = table.raw(fields)
        if len(fields) != width and not (len(fields) > width and not any(fields[width:])):
            rejections.append(
                Rejection(
                    line,
                    None,
                    "ragged",
                    f"the row has {len(fields)} fields but the header has {width}",
                    raw,
                )
            )
            continue

        def get(name: str, fields: list[str] = fields) -> str:
            i = index.get(name)
            return fields[i].strip() if i is not None else ""

        try:
            rows.append(
                _row(
                    line,
                    raw,
                    get,
                    names,
                    source,
                    zone,
                    {
                        name: _typed(fields[i], kinds[i], zone, readers.get(i))
                        for i, name in attributes.items()
                        if fields[i].strip()
                    },
                )
            )
        except _RowProblem as problem:
            rejections.append(Rejection(line, problem.column, problem.code, str(problem), raw))
            continue
        external = rows[-1].lead.external_id
        if external in seen:
            rows.pop()
            rejections.append(
                Rejection(
                    line,
                    names.get("id"),
                    "duplicate",
                    f"lead {external!r} appears again (first at line {seen[external]})",
                    raw,
                )
            )
            continue
        seen[external] = line
    return _finish(
        session,
        rows=rows,
        rejections=rejections,
        total=len(records),
        batch=batch,
        experiment_id=experiment_id,
        now=now,
    )


MAX_ID, MAX_SOURCE = 200, 500
"""Longest lead id and source field (campaign, channel, origin) the tables hold."""


class _RowProblem(Exception):
    def __init__(self, column: str | None, code: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.code = column, code


def _row(
    line: int,
    raw: str,
    get: Any,
    names: Mapping[str, str],
    source: str,
    zone: ZoneInfo,
    attributes: Mapping[str, AttributeValue],
) -> _Row:
    external = get("id")
    if not external:
        raise _RowProblem(names.get("id"), "missing_id", "the lead has no id")

    def date(field_name: str) -> datetime | None:
        text = get(field_name)
        if not text:
            return None
        try:
            return parse_datetime(text, zone, day="start")
        except ValueError as exc:
            raise _RowProblem(names.get(field_name, field_name), "bad_date", str(exc)) from None

    arm, assigned_at = get("arm") or None, date("assigned_at")
    if (arm is None) != (assigned_at is None):
        raise _RowProblem(
            "arm" if arm is None else "assigned_at",
            "incomplete_assignment",
            "an assignment made elsewhere needs both arm and assigned_at",
        )
    for field_name, text, limit in (
        ("id", external, MAX_ID),
        *((name, get(name), MAX_SOURCE) for name in ("campaign", "channel", "origin")),
    ):
        if len(text) > limit:  # refused, never cut: a cut id could merge two leads
            raise _RowProblem(
                names.get(field_name, field_name),
                "too_long",
                f"{field_name.replace('_', ' ')} has {len(text):,} characters; at most {limit}",
            )
    lead = LeadInput(
        external_id=external,
        source_system=source,
        campaign=get("campaign") or None,
        channel=get("channel") or None,
        landing_page=get("landing_page") or None,
        origin=get("origin") or None,
        first_seen=date("first_seen"),
        attributes=dict(attributes),
    )
    return _Row(line, raw, lead, arm, assigned_at)


def import_lead_records(
    session: Session,
    *,
    records: Sequence[Mapping[str, Any]],
    source_system: str,
    actor: str,
    now: datetime,
    zone: ZoneInfo,
    experiment_id: str | None = None,
    idempotency_key: str | None = None,
) -> LeadImport:
    """Import leads given as JSON objects: ``lead_id``, the source fields, ``attributes``
    (an object of numbers, booleans and strings) and optionally ``arm``/``assigned_at``."""
    replay = find_replay(session, idempotency_key, "leads")
    if replay is not None:
        return LeadImport(replay)
    payload = json.dumps(list(records), sort_keys=True, default=str).encode()
    batch = start_batch(
        session,
        kind="leads",
        fmt="json",
        source_system=source_system,
        filename="(json)",
        digest=sha256(payload),
        actor=actor,
        now=now,
        experiment_id=experiment_id,
        idempotency_key=idempotency_key,
    )
    rows: list[_Row] = []
    rejections: list[Rejection] = []
    seen: dict[str, int] = {}
    names = {f: f for f in ("id", "first_seen", "assigned_at", "arm")}
    for line, record in enumerate(records, start=1):
        raw = json.dumps(record, default=str, ensure_ascii=False)[:10000]
        if not isinstance(record, Mapping):
            rejections.append(
                Rejection(line, None, "bad_record", "each lead must be a JSON object", raw)
            )
            continue
        attributes = record.get("attributes") or {}
        if not isinstance(attributes, Mapping) or not all(
            isinstance(v, bool | int | str) or (isinstance(v, float) and math.isfinite(v))
            for v in attributes.values()
        ):
            rejections.append(
                Rejection(
                    line,
                    "attributes",
                    "bad_attribute",
                    "attributes must be an object of finite numbers, booleans and strings",
                    raw,
                )
            )
            continue

        def get(name: str, record: Mapping[str, Any] = record) -> str:
            key = {"id": "lead_id"}.get(name, name)
            value = record.get(key)
            return "" if value is None else str(value).strip()

        try:
            row = _row(
                line,
                raw,
                get,
                names,
                source_system,
                zone,
                {str(k)[:100]: v for k, v in attributes.items()},
            )
        except _RowProblem as problem:
            rejections.append(Rejection(line, problem.column, problem.code, str(problem), raw))
            continue
        if row.lead.external_id in seen:
            rejections.append(
                Rejection(
                    line,
                    "lead_id",
                    "duplicate",
                    f"lead "
                    f"{row.lead.external_id!r} appears again (first at "
                    f"line {seen[row.lead.external_id]})",
                    raw,
                )
            )
            continue
        seen[row.lead.external_id] = line
        rows.append(row)
    return _finish(
        session,
        rows=rows,
        rejections=rejections,
        total=len(records),
        batch=batch,
        experiment_id=experiment_id,
        now=now,
    )
