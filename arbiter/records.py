"""Decision records: self-contained JSON from which anyone recomputes a verdict.

A record (schema ``arbiter.decision-record/1``) holds the software version, every
version of the protocol with its SHA-256 and reason, every look — what it saw (per-arm
sufficient statistics of every metric, assignment counts, times), the hash of the data
snapshot behind it, what it decided and its rationale in three languages — the verdict,
the rule that fired, and the audit-chain head at the verdict.

:func:`verify_record` recomputes everything from the record alone, with :mod:`stats` and
the pure verdict rule (:func:`arbiter.verdict.decide`): protocol hashes, snapshot hashes,
every look's decision and numbers, the rationale texts, the verdict, and the record's own
hash when the file carries it. ``arbiter decisions verify FILE`` prints the mismatches.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from arbiter import __version__
from arbiter.rationale import LANGUAGES, rationale
from arbiter.serial import decision_to_json, digest, look_from_json
from arbiter.tables import DecisionRecord, Look
from arbiter.verdict import decide
from experiments import lifecycle
from experiments.protocol import parse_protocol, protocol_hash

__all__ = ["SCHEMA", "Verification", "build_record", "export_document", "verify_record"]

SCHEMA = "arbiter.decision-record/1"
_NUMBERS = ("estimate", "standard_error", "statistic", "boundary", "futility_boundary")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def build_record(
    session: Session, experiment_id: str, *, decided_at: datetime, audit_head: str
) -> dict[str, Any]:
    """The record of a dispute whose deciding look is the latest stored one."""
    experiment = lifecycle.get_experiment(session, experiment_id)
    versions = lifecycle.versions(session, experiment_id)
    looks = list(
        session.scalars(
            select(Look).where(col(Look.experiment_id) == experiment_id).order_by(col(Look.number))
        )
    )
    last = json.loads(looks[-1].data)
    decision = last["decision"]
    protocol = parse_protocol(json.loads(versions[-1].canonical_json))
    winner = decision.get("winner")
    return {
        "schema": SCHEMA,
        "software": {"arbiter": __version__},
        "experiment": {
            "id": experiment.id,
            "title": experiment.title,
            "started": _iso(experiment.started_at),
        },
        "protocol": {
            "version": experiment.current_version,
            "sha256": versions[-1].sha256,
            "versions": [
                {
                    "version": v.version,
                    "sha256": v.sha256,
                    "reason": v.reason,
                    "author": v.author,
                    "created": _iso(v.created_at),
                    "document": json.loads(v.canonical_json),
                }
                for v in versions
            ],
        },
        "looks": [
            {
                "number": look.number,
                "at": _iso(look.at),
                "protocol_version": look.protocol_version,
                "snapshot_sha256": look.snapshot_sha256,
                **json.loads(look.data),
            }
            for look in looks
        ],
        "verdict": {
            "kind": decision["outcome"],
            "rule": decision["rule"],
            "look": looks[-1].number,
            "winner_arm": winner,
            "winner_party": protocol.arm(winner).party if winner else None,
            "effect": decision.get("effect"),
            "rationale": last["rationale"],
        },
        "audit_head": audit_head,
        "decided_at": _iso(decided_at),
    }


def export_document(row: DecisionRecord) -> dict[str, Any]:
    """The file ``decisions export`` writes: the record and its SHA-256."""
    return {"record": json.loads(row.record), "record_sha256": row.record_sha256}


@dataclass
class Verification:
    """What :func:`verify_record` found."""

    verdict: str | None = None
    winner: str | None = None
    looks_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when everything recomputed to the recorded values."""
        return not self.problems


def _close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b or (a is None and b is None)
    if isinstance(a, float | int) and isinstance(b, float | int):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12)
    return bool(a == b)


def verify_record(document: dict[str, Any]) -> Verification:
    """Recompute a decision record from itself alone and name every mismatch."""
    report = Verification()
    record = document.get("record", document)
    if "record_sha256" in document and digest(record) != document["record_sha256"]:
        report.problems.append("the record's SHA-256 does not match its content: it was edited")
    if record.get("schema") != SCHEMA:
        report.problems.append(f"unknown schema {record.get('schema')!r} (expected {SCHEMA})")
        return report
    protocols = {}
    for version in record["protocol"]["versions"]:
        protocol = parse_protocol(version["document"])
        protocols[version["version"]] = protocol
        if protocol_hash(protocol) != version["sha256"]:
            report.problems.append(
                f"protocol version {version['version']}: its SHA-256 does not match its document"
            )
    history = []
    decision = None
    for stored in record["looks"]:
        number = stored["number"]
        look = look_from_json(stored["input"])
        history.append(look)
        snapshot = digest(
            {
                "experiment": record["experiment"]["id"],
                "input": stored["input"],
                "watermarks": stored["watermarks"],
            }
        )
        if snapshot != stored["snapshot_sha256"]:
            report.problems.append(f"look {number}: the snapshot hash does not match its data")
        protocol = protocols[stored["protocol_version"]]
        decision = decision_to_json(decide(protocol, history))
        _compare_decision(report, number, stored["decision"], decision)
        for lang in LANGUAGES:
            text = rationale(protocol, decision, stored["input"], lang)
            if text != stored["rationale"].get(lang):
                report.problems.append(
                    f"look {number}: the {lang} rationale differs from the one recomputed"
                )
        report.looks_checked += 1
    verdict = record["verdict"]
    if decision is not None:
        report.verdict, report.winner = decision["outcome"], decision.get("winner")
        if decision["outcome"] != verdict["kind"]:
            report.problems.append(
                f"verdict: recorded {verdict['kind']!r}, recomputed {decision['outcome']!r}"
            )
        if decision.get("winner") != verdict.get("winner_arm"):
            report.problems.append(
                f"winner: recorded {verdict.get('winner_arm')!r}, recomputed "
                f"{decision.get('winner')!r}"
            )
        if decision["rule"] != verdict["rule"]:
            report.problems.append(
                f"rule: recorded {verdict['rule']!r}, recomputed {decision['rule']!r}"
            )
    return report


def _compare_decision(
    report: Verification, number: int, stored: dict[str, Any], recomputed: dict[str, Any]
) -> None:
    for key in ("outcome", "rule", "winner", "final"):
        if stored.get(key) != recomputed.get(key):
            report.problems.append(
                f"look {number}: {key} recorded {stored.get(key)!r}, "
                f"recomputed {recomputed.get(key)!r}"
            )
    pairs = zip(stored.get("comparisons", []), recomputed.get("comparisons", []), strict=False)
    for i, (a, b) in enumerate(pairs):
        for key in _NUMBERS:
            if not _close(a.get(key), b.get(key)):
                report.problems.append(
                    f"look {number}, comparison {i + 1}: {key} recorded "
                    f"{a.get(key)!r}, recomputed {b.get(key)!r}"
                )
        if not _close(a.get("pvalue"), b.get("pvalue"), rel=1e-5):
            report.problems.append(
                f"look {number}, comparison {i + 1}: p-value recorded "
                f"{a.get('pvalue')!r}, recomputed {b.get('pvalue')!r}"
            )
    stored_effect, new_effect = stored.get("effect"), recomputed.get("effect")
    if (stored_effect is None) != (new_effect is None):
        report.problems.append(f"look {number}: the effect differs")
    elif (
        stored_effect
        and new_effect
        and not _close(stored_effect["estimate"], new_effect["estimate"])
    ):
        report.problems.append(
            f"look {number}: effect recorded {stored_effect['estimate']!r}, "
            f"recomputed {new_effect['estimate']!r}"
        )
