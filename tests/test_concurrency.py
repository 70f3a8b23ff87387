"""Concurrency on both engines: imports from several processes at once, and looks
running while deals arrive. No row is lost or doubled, no "database is locked" reaches a
user, and a look sees each deal batch wholly or not at all. (Assignments for the same
lead from several API workers: tests/test_workers.py.)"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from arbiter import ingest
from arbiter.db import read_session, retry_locked, write_session
from arbiter.looks import observe, run_look
from experiments.assignment import LeadInput
from tests.arbiter.test_committee import EXP, T0, start

pytestmark = pytest.mark.slow

PROCESSES = 3
LEADS_EACH = 4_000
BATCHES, PER_BATCH = 25, 8


def _leads_file(path: Path, prefix: str) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["lead_id", "campaign"])
        w.writerows([f"{prefix}-{i}", "spring"] for i in range(LEADS_EACH))
    return path


def test_imports_from_several_processes_at_once_all_land_exactly(engine, db_url, tmp_path):
    start(engine, limits={"max_sample": 1_000_000, "min_duration_days": 14})
    env = {**os.environ, "ARBITER_DATABASE_URL": db_url, "ARBITER_BUSY_TIMEOUT_MS": "60000"}
    files = [_leads_file(tmp_path / f"p{i}.csv", f"p{i}") for i in range(PROCESSES)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "arbiter",
                *("leads", "assign", EXP, "--file", str(f)),
                *("--out", os.devnull),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for f in files
    ]
    errors = [p.communicate(timeout=300)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [0] * PROCESSES, errors
    assert not any("locked" in e for e in errors)
    with read_session(engine) as s:
        leads = s.execute(text("SELECT COUNT(*) FROM lead")).scalar()
        assigned = s.execute(text("SELECT COUNT(*) FROM assignment")).scalar()
        batches = s.execute(text("SELECT SUM(rows_inserted) FROM import_batch")).scalar()
    assert leads == assigned == batches == PROCESSES * LEADS_EACH


def test_a_look_sees_each_deal_batch_wholly_or_not_at_all(engine):
    start(engine, limits={"max_sample": 1_000_000, "min_duration_days": 14})
    leads = [LeadInput(f"lead-{i}") for i in range(BATCHES * PER_BATCH)]
    with write_session(engine) as s:
        ingest.assign(s, experiment_id=EXP, leads=leads, now=T0)
    later = T0 + timedelta(days=60)
    failures: list[BaseException] = []
    done = threading.Event()

    def deals() -> None:
        try:
            for b in range(BATCHES):
                records = [
                    {
                        "deal_id": f"D{b}-{i}",
                        "lead_id": f"lead-{b * PER_BATCH + i}",
                        "amount": "100.00",
                        "currency": "PLN",
                        "won": True,
                        "closed": True,
                        "created_at": (T0 + timedelta(hours=1)).isoformat(),
                        "closed_at": (T0 + timedelta(days=1)).isoformat(),
                    }
                    for i in range(PER_BATCH)
                ]

                def batch(records: list[dict[str, object]] = records) -> None:
                    with write_session(engine) as s:
                        ingest.import_deal_json(
                            s, records=records, source_system="crm", actor="crm", now=later
                        )

                retry_locked(batch)
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=deals)
    writer.start()
    seen: list[int] = []
    looks = 0
    while not done.is_set() or not seen:
        with read_session(engine) as s:
            observation = observe(s, EXP, later)
        won = sum(int(summary.count) for summary in observation.input.primary.arms.values())
        seen.append(won)
        if len(seen) % 4 == 0:  # and real looks, written while deals keep arriving
            retry_locked(lambda: run_look(engine, EXP, actor="c", now=later))
            looks += 1
    writer.join()
    assert not failures, failures
    assert all(w % PER_BATCH == 0 for w in seen), f"a look saw part of a batch: {seen}"
    assert seen == sorted(seen)
    assert any(0 < w < BATCHES * PER_BATCH for w in seen), f"no look ran mid-stream: {seen}"
    with read_session(engine) as s:
        final = observe(s, EXP, later)
        stored = s.execute(text("SELECT COUNT(*) FROM look")).scalar()
    assert sum(int(x.count) for x in final.input.primary.arms.values()) == BATCHES * PER_BATCH
    assert stored == looks
