"""The main job out of the box: a whole dispute on a fresh embedded SQLite database.

:func:`run_demo` registers marketing's webinar nurture against sales' cold-call
follow-up (revenue per lead within 60 days, guardrail on deal conversion), simulates
about four months of leads and deals (:mod:`arbiter.simulation`: fewer leads at
weekends, gamma-distributed time to close, lognormal deal sizes), runs the weekly looks
until the design stops, and writes the decision record and the HTML report.

:func:`replay_hillstrom` replays Kevin Hillstrom's real randomised e-mail experiment
(64,000 customers; men's e-mail, women's e-mail, no e-mail) as a dispute, in a random
arrival order with a look every 5,000 customers, and reports how many customers the
sequential design needed.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from arbiter import disputes
from arbiter.db import open_database, read_session, write_session
from arbiter.looks import LookOutcome, run_look
from arbiter.records import export_document
from arbiter.report import render_report
from arbiter.settings import Settings, get_settings
from arbiter.simulation import ArmTruth, Scenario, Simulation
from arbiter.tables import DecisionRecord
from experiments.protocol import parse_protocol

__all__ = ["DEMO_PROTOCOL", "DemoResult", "replay_hillstrom", "run_demo"]

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
DEMO_ID = "webinar-vs-cold-call"
DEMO_PROTOCOL: dict[str, Any] = {
    "id": DEMO_ID,
    "title": "Webinar nurture vs cold-call follow-up",
    "question": "Which follow-up of new inbound leads brings more won revenue per lead within "
    "60 days?",
    "parties": ["marketing", "sales"],
    "currency": "PLN",
    "arms": [
        {"key": "webinar", "name": "webinar nurture", "party": "marketing", "weight": 1},
        {"key": "cold-call", "name": "cold-call follow-up", "party": "sales", "weight": 1},
    ],
    "primary": {
        "name": "revenue per lead",
        "kind": "revenue_per_lead",
        "window_days": 60,
        "cap_percentile": 99.5,
        "covariate": "lead_score",
    },
    "guardrails": [
        {"name": "deal conversion", "kind": "conversion", "window_days": 60, "margin": 0.02}
    ],
    "mde": {"value": 0.20, "kind": "relative"},
    "design": {
        "kind": "group_sequential",
        "spending": "obrien-fleming",
        "looks": 6,
        "cadence": "weekly",
        "futility": "obrien-fleming",
    },
    "limits": {"max_sample": 11000, "max_duration_days": 182, "min_duration_days": 28},
}


@dataclass
class DemoResult:
    """What the demo did and where it wrote its files."""

    database: Path
    looks: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None
    winner: str | None = None
    rationale: str = ""
    record_path: Path | None = None
    record_sha256: str | None = None
    report_path: Path | None = None
    days: int = 0
    leads: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _fresh_engine(out: Path, name: str) -> tuple[Engine, Path]:
    out.mkdir(parents=True, exist_ok=True)
    database = out / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    settings = get_settings()
    local = Settings(
        database_url=url,
        timezone=settings.timezone,
        busy_timeout_ms=settings.busy_timeout_ms,
        secret_key=settings.secret_key,
    )
    return open_database(local, url=url), database


def _summary(outcome: LookOutcome, day: int) -> dict[str, Any]:
    data = outcome.as_dict()
    first = (data["decision"].get("comparisons") or [{}])[0]
    return {
        "look": data["look"],
        "day": day,
        "information_fraction": data["information_fraction"],
        "statistic": first.get("statistic"),
        "boundary": first.get("boundary"),
        "futility": first.get("futility_boundary"),
        "outcome": data["outcome"],
        "rule": data["rule"],
    }


def _write_outputs(
    engine: Engine, experiment_id: str, out: Path, language: str, result: DemoResult
) -> None:
    with read_session(engine) as session:
        from sqlmodel import col, select

        row = session.scalars(
            select(DecisionRecord).where(col(DecisionRecord.experiment_id) == experiment_id)
        ).first()
        report = render_report(session, experiment_id, language)
    result.report_path = out / "report.html"
    result.report_path.write_text(report, encoding="utf-8")
    if row is not None:
        result.record_path = out / "decision-record.json"
        result.record_path.write_text(
            json.dumps(export_document(row), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        result.record_sha256 = row.record_sha256
        result.verdict, result.winner = row.verdict, row.winner_arm
        result.rationale = json.loads(row.rationale)[language]


def run_demo(
    out: Path,
    *,
    seed: int = 7,
    effect: float = 0.30,
    language: str = "en",
    progress: Callable[[int, int, dict[str, Any] | None], None] | None = None,
    max_days: int = 182,
) -> DemoResult:
    """Simulate the demo dispute; ``effect`` is the cold-call arm's true relative lift in
    revenue per lead (0 for a dispute with no real difference)."""
    engine, database = _fresh_engine(out, "arbiter-demo.db")
    protocol = parse_protocol({**DEMO_PROTOCOL, "language": language})
    with write_session(engine) as session:
        disputes.register_protocol(
            session,
            protocol=protocol,
            actor="demo:committee",
            sign_as=protocol.required_sign_offs,
            now=START,
            salt=f"demo-seed-{seed}",
        )
        disputes.start_dispute(session, experiment_id=DEMO_ID, actor="demo:committee", now=START)
    # Deal sizes: lognormal with σ = 0.6 (mean 1.2× the median, a long right tail); the
    # 12 % conversion makes revenue per lead zero-inflated with a coefficient of variation of
    # about 3.3, for which max_sample = 11,000 gives 80 % power at the 20 % MDE.
    base = ArmTruth(conversion=0.12, median_amount=4000, amount_sigma=0.6)
    lifted = ArmTruth(
        conversion=0.12 * (1 + effect) ** 0.5,
        median_amount=4000 * (1 + effect) ** 0.5,
        amount_sigma=0.6,
    )
    scenario = Scenario({"webinar": base, "cold-call": lifted}, leads_per_weekday=110, seed=seed)
    simulation = Simulation(engine, DEMO_ID, scenario, START)
    result = DemoResult(database=database)
    for day in range(max_days):
        result.leads += simulation.day(day)
        result.days = day + 1
        summary = None
        if day % 7 == 6:
            outcome = run_look(
                engine, DEMO_ID, actor="demo:committee", now=START + timedelta(days=day + 1)
            )
            summary = _summary(outcome, day + 1)
            result.looks.append(summary)
        if progress is not None:
            progress(day + 1, max_days, summary)
        if summary is not None and summary["outcome"] not in ("continue", "held"):
            break
    _write_outputs(engine, DEMO_ID, out, language, result)
    engine.dispose()
    return result


HILLSTROM_ARMS = {"Mens E-Mail": "mens", "Womens E-Mail": "womens", "No E-Mail": "no-email"}


def replay_hillstrom(
    path: Path,
    out: Path,
    *,
    seed: int = 7,
    language: str = "en",
    every: int = 5000,
    progress: Callable[[int, int, dict[str, Any] | None], None] | None = None,
) -> DemoResult:
    """Replay the Hillstrom e-mail experiment as a dispute (see the module doc)."""
    source = path / "hillstrom.csv" if path.is_dir() else path
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(seed).shuffle(rows)
    total = len(rows)
    protocol = parse_protocol(
        {
            "id": "hillstrom",
            "title": "Hillstrom e-mail: men's vs women's e-mail vs none",
            "question": "Does either e-mail bring more spend per customer in two weeks than no "
            "e-mail?",
            "parties": ["marketing", "sales", "committee"],
            "sign_offs": ["marketing", "sales"],
            "currency": "USD",
            "language": language,
            "control": "no-email",
            "arms": [
                {"key": "no-email", "name": "no e-mail", "party": "committee"},
                {"key": "mens", "name": "men's merchandise e-mail", "party": "marketing"},
                {"key": "womens", "name": "women's merchandise e-mail", "party": "sales"},
            ],
            "primary": {
                "name": "spend per customer",
                "kind": "revenue_per_lead",
                "window_days": 14,
                "covariate": "history",
            },
            "guardrails": [
                {"name": "conversion", "kind": "conversion", "window_days": 14, "margin": 0.005}
            ],
            "mde": {"value": 0.25, "kind": "relative"},
            "design": {
                "looks": -(-total // every),
                "cadence": "weekly",
                "futility": "obrien-fleming",
            },
            "limits": {"max_sample": total, "min_duration_days": 0, "max_data_age_days": 365},
        }
    )
    engine, database = _fresh_engine(out, "arbiter-hillstrom.db")
    minute = timedelta(minutes=1)
    with write_session(engine) as session:
        disputes.register_protocol(
            session,
            protocol=protocol,
            actor="demo:committee",
            sign_as=protocol.required_sign_offs,
            now=START,
        )
        disputes.start_dispute(
            session, experiment_id="hillstrom", actor="demo:committee", now=START
        )
    from arbiter import ingest

    leads, deals = [], []
    for i, row in enumerate(rows):
        at = START + i * minute
        external = f"hillstrom-{i:05d}"
        leads.append(
            {
                "lead_id": external,
                "arm": HILLSTROM_ARMS[row["segment"]],
                "assigned_at": at.isoformat(),
                "channel": row["channel"],
                "origin": row["zip_code"],
                "attributes": {
                    "history": float(row["history"]),
                    "recency": int(row["recency"]),
                    "newbie": row["newbie"] == "1",
                },
            }
        )
        if row["conversion"] == "1":
            closed = at + timedelta(days=7)
            deals.append(
                {
                    "deal_id": f"order-{i:05d}",
                    "lead_id": external,
                    "won": True,
                    "closed": True,
                    "amount": row["spend"],
                    "currency": "USD",
                    "created_at": at.isoformat(),
                    "closed_at": closed.isoformat(),
                }
            )
    end = START + total * minute + timedelta(days=15)
    with write_session(engine) as session:
        ingest.import_lead_json(
            session,
            records=leads,
            source_system="hillstrom",
            actor="demo",
            now=end,
            experiment_id="hillstrom",
        )
        ingest.import_deal_json(
            session, records=deals, source_system="hillstrom", actor="demo", now=end
        )
    result = DemoResult(database=database, leads=total)
    for k in range(every, total + every, every):
        seen = min(k, total)
        now = START + (seen - 1) * minute + timedelta(days=14)  # customers 0 … seen-1 mature
        outcome = run_look(engine, "hillstrom", actor="demo:committee", now=now)
        summary = _summary(outcome, seen)
        result.looks.append(summary)
        if progress is not None:
            progress(seen, total, summary)
        if summary["outcome"] not in ("continue", "held"):
            result.extra["customers_needed"] = seen
            break
    result.extra.setdefault("customers_needed", total)
    result.extra["customers_total"] = total
    _write_outputs(engine, "hillstrom", out, language, result)
    engine.dispose()
    return result
