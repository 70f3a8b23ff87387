"""Several API worker processes against one database: concurrent requests for the same
leads, spread over the workers, assign each lead exactly once (no lost and no doubled
assignments), on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from arbiter.db import read_session, write_session
from arbiter.keys import create_key
from tests.arbiter.test_committee import EXP, start
from tests.serving import served

pytestmark = pytest.mark.slow

LEADS = 60
REPEATS = 6  # each lead is asked for this many times, from different connections


def test_workers_assign_each_lead_once_under_concurrent_requests(engine, db_url):
    start(engine)
    with write_session(engine) as s:
        _, key = create_key(s, name="crm", role="ingest", party=None, actor="test")
    env = {**os.environ, "ARBITER_DATABASE_URL": db_url}
    calls = [f"lead-{i}" for i in range(LEADS)] * REPEATS
    random.Random(4).shuffle(calls)
    with served(env, workers=2) as base:
        local = threading.local()  # one keep-alive connection per thread; the kernel
        # spreads the 16 connections over the workers' shared socket

        def assign(lead: str) -> dict[str, object]:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=base, timeout=60)
                clients.append(local.client)
            r = local.client.post(
                f"/v1/experiments/{EXP}/assignments",
                json={"lead_id": lead},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert r.status_code == 200, r.text
            return dict(r.json())

        clients: list[httpx.Client] = []
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(assign, calls))
        for client in clients:
            client.close()
    arms: dict[str, set[object]] = defaultdict(set)
    for answer in answers:
        arms[str(answer["lead_id"])].add(answer["arm"])
    assert all(len(a) == 1 for a in arms.values()), "a lead was given two arms"
    created = Counter(str(a["lead_id"]) for a in answers if a["created"])
    assert created == Counter({f"lead-{i}": 1 for i in range(LEADS)}), "lost or doubled"
    with read_session(engine) as s:
        stored = s.execute(
            text(
                "SELECT l.external_id, a.arm_key FROM assignment a JOIN lead l "
                "ON l.id = a.lead_id WHERE a.experiment_id = :e"
            ),
            {"e": EXP},
        ).all()
        leads = s.execute(text("SELECT COUNT(*) FROM lead")).scalar()
    assert len(stored) == LEADS and leads == LEADS
    assert {lead: {arm} for lead, arm in stored} == dict(arms)
