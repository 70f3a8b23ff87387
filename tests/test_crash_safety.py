"""Crash safety, by killing real processes: ``arbiter leads assign`` (a large import
that writes leads, attributes, assignments, the batch and its audit event) and
``arbiter looks run`` are killed with SIGKILL at random moments (seeded), many times.
After every kill the database holds either the whole batch or none of it, and either the
whole look or none of it; the audit chain verifies; running the import again completes
it exactly once, and once more changes nothing.

``ARBITER_CRASH_KILLS`` sets how many kills per scenario (default 5 on SQLite, 2 on
PostgreSQL); docs/reliability.md reports a longer run.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from arbiter import audit
from arbiter.db import read_session, upgrade_schema
from tests.arbiter.test_committee import EXP, start
from tests.conftest import POSTGRES_URL, drop_postgres_schema, new_postgres_schema, settings_for

pytestmark = pytest.mark.slow

LEADS = 15_000


def _kills(engine_name: str) -> int:
    default = 5 if engine_name == "sqlite" else 2
    return int(os.environ.get("ARBITER_CRASH_KILLS", default))


def _leads_csv(path: Path) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["lead_id", "campaign", "channel", "created_at", "lead_score"])
        for i in range(LEADS):
            w.writerow([f"crash-{i}", "spring", "webinar", "2026-01-05T10:00:00Z", i % 100])
    return path


def _arbiter(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "arbiter", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
                for table in ("lead", "lead_attribute", "assignment", "import_batch", "look")
            } | {
                "inserted": int(
                    conn.execute(text("SELECT SUM(rows_inserted) FROM import_batch")).scalar() or 0
                )
            }
    finally:
        engine.dispose()


def _audit_ok(url: str) -> bool:
    from arbiter.db import create_db_engine

    engine = create_db_engine(url, settings_for(url))
    try:
        with read_session(engine) as s:
            anchors = [str(a) for a in s.scalars(text("SELECT audit_head FROM decision"))]
            report = audit.verify(s, anchors=anchors)
        return report.ok
    finally:
        engine.dispose()


class Fresh:
    """A database with a running dispute, fresh for every kill: a copied SQLite file, or
    a new PostgreSQL schema."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp, self.made = kind, tmp, 0
        self.leads: Path | None = None
        self.schemas: list[str] = []
        self.template = tmp / "template.db"
        if kind == "sqlite":
            self._prepare(f"sqlite:///{self.template}")

    def with_leads(self, data: Path) -> Fresh:
        """Every fresh database holds the leads of ``data``, imported and assigned."""
        self.leads = data
        if self.kind == "sqlite":
            self._import(f"sqlite:///{self.template}")
        return self

    def _import(self, url: str) -> None:
        assert self.leads is not None
        env = {**os.environ, "ARBITER_DATABASE_URL": url}
        _run_to_end(env, "leads", "assign", EXP, "--file", str(self.leads), "--out", os.devnull)

    def _prepare(self, url: str) -> None:
        from arbiter.db import create_db_engine

        engine = create_db_engine(url, settings_for(url))
        upgrade_schema(engine)
        start(engine, limits={"max_sample": 1_000_000, "min_duration_days": 14})
        engine.dispose()
        if self.leads is not None:
            self._import(url)

    def __call__(self) -> str:
        self.made += 1
        if self.kind == "sqlite":
            path = self.tmp / f"run-{self.made}.db"
            shutil.copy(self.template, path)
            return f"sqlite:///{path}"
        schema = f"crash_{uuid.uuid4().hex[:12]}"
        self.schemas.append(schema)
        url = new_postgres_schema(schema)
        self._prepare(url)
        return url

    def close(self) -> None:
        for schema in self.schemas:
            drop_postgres_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fresh]:
    if request.param == "postgresql" and POSTGRES_URL is None:
        pytest.skip("ARBITER_TEST_POSTGRES_URL is not set: PostgreSQL tests are skipped")
    databases = Fresh(request.param, tmp_path)
    yield databases
    databases.close()


def _run_to_end(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    process = _arbiter(env, *args)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    return time.monotonic() - started


def test_a_killed_import_leaves_all_or_nothing_and_completes_once(fresh, tmp_path):
    data = _leads_csv(tmp_path / "leads.csv")
    args = ("leads", "assign", EXP, "--file", str(data), "--out", str(tmp_path / "out.csv"))
    calibration = {**os.environ, "ARBITER_DATABASE_URL": fresh()}
    duration = _run_to_end(calibration, *args)
    rng = random.Random(20261123)
    outcomes = {"killed while running, nothing stored": 0, "finished before the kill": 0}
    reach = 1.0  # shrinks when a process finishes before its kill, so kills land inside
    for _ in range(_kills(fresh.kind)):
        url = fresh()
        env = {**os.environ, "ARBITER_DATABASE_URL": url}
        process = _arbiter(env, *args)
        time.sleep(rng.uniform(0.5, 0.95) * duration * reach)
        if process.poll() is not None:
            reach *= 0.75
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.stderr:
            process.stderr.close()
        counts = _counts(url)
        whole = {"lead": LEADS, "lead_attribute": LEADS, "assignment": LEADS, "import_batch": 1}
        none = dict.fromkeys(whole, 0)
        state = {k: counts[k] for k in whole}
        assert state in (whole, none), f"a partial batch survived the kill: {state}"
        outcomes[
            "finished before the kill" if state == whole else "killed while running, nothing stored"
        ] += 1
        assert _audit_ok(url), "the audit chain broke after a kill"
        rows = ("lead", "lead_attribute", "assignment", "inserted")
        _run_to_end(env, *args)  # re-run: completes exactly once
        assert {k: _counts(url)[k] for k in rows} == dict.fromkeys(rows, LEADS)
        if fresh.made == 2:  # and again (once): recorded as a batch that changed nothing
            _run_to_end(env, *args)
            assert {k: _counts(url)[k] for k in rows} == dict.fromkeys(rows, LEADS)
        assert _audit_ok(url)
    print(f"import kills ({fresh.kind}): {outcomes}")
    assert outcomes["killed while running, nothing stored"] >= 1, outcomes


def test_a_killed_look_leaves_no_half_written_look(fresh, tmp_path):
    fresh.with_leads(_leads_csv(tmp_path / "leads.csv"))
    rng = random.Random(7)
    outcomes = {"killed, no look": 0, "look written before the kill": 0}
    for _ in range(_kills(fresh.kind)):
        url = fresh()
        env = {**os.environ, "ARBITER_DATABASE_URL": url}
        duration = _run_to_end(env, "looks", "run", EXP)
        process = _arbiter(env, "looks", "run", EXP)
        time.sleep(rng.uniform(0.6, 1.0) * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.stderr:
            process.stderr.close()
        looks = _counts(url)["look"]
        assert looks in (1, 2)
        outcomes["look written before the kill" if looks == 2 else "killed, no look"] += 1
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT number, data FROM look ORDER BY number")).all()
        engine.dispose()
        assert [r[0] for r in rows] == list(range(1, looks + 1))
        assert all(r[1] and r[1].startswith("{") and r[1].endswith("}") for r in rows)
        assert _audit_ok(url)
        _run_to_end(env, "looks", "run", EXP)  # the next look runs normally
        assert _counts(url)["look"] == looks + 1
    print(f"look kills ({fresh.kind}): {outcomes}")
