"""Group commit of single assignments: concurrent calls share transactions without
changing what each call gets back."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import select

from api.assigner import MAX_BATCH, GroupCommit
from arbiter.db import read_session
from experiments.assignment import AssignmentOutcome, LeadInput
from experiments.crm_tables import Assignment
from experiments.errors import NotFound
from tests.api.test_api_flow import registered
from tests.arbiter.test_committee import EXP

T = datetime(2026, 3, 2, tzinfo=UTC)


class Recorder:
    """A fake use case: records each transaction's leads; the first one waits for a
    signal, so calls queue up behind it; a lead named ``bad`` fails its transaction."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.seen: set[str] = set()

    def __call__(self, experiment_id: str, leads) -> list[AssignmentOutcome]:
        ids = [lead.external_id for lead in leads]
        self.batches.append(ids)
        if len(self.batches) == 1:
            self.release.wait(5)
        if "bad" in ids:
            raise NotFound("lead", "bad")
        out = []
        for i in ids:
            out.append(AssignmentOutcome(i, f"arm-of-{i}", T, "hash-v1", i not in self.seen))
            self.seen.add(i)
        return out


async def _burst(commit: GroupCommit, recorder: Recorder, ids: list[str]) -> list[object]:
    first = asyncio.create_task(commit.assign("e", LeadInput(ids[0])))
    while not recorder.batches:  # the first transaction is in flight
        await asyncio.sleep(0.001)
    rest = [asyncio.create_task(commit.assign("e", LeadInput(i))) for i in ids[1:]]
    await asyncio.sleep(0.01)
    recorder.release.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_calls_that_arrive_during_a_transaction_share_the_next_one():
    recorder = Recorder()
    ids = [f"L{i}" for i in range(20)]
    results = asyncio.run(_burst(GroupCommit(recorder), recorder, ids))
    assert recorder.batches == [["L0"], ids[1:]]
    assert [r.lead_external_id for r in results] == ids  # each call gets its own outcome
    assert all(r.arm == f"arm-of-{r.lead_external_id}" for r in results)


def test_a_lead_twice_waits_for_the_next_batch_and_sees_the_first_assignment():
    recorder = Recorder()
    results = asyncio.run(_burst(GroupCommit(recorder), recorder, ["L0", "A", "B", "A"]))
    assert recorder.batches == [["L0"], ["A", "B"], ["A"]]
    assert [r.created for r in results] == [True, True, True, False]


def test_a_failing_call_gets_its_own_error_and_its_neighbours_their_results():
    recorder = Recorder()
    results = asyncio.run(_burst(GroupCommit(recorder), recorder, ["L0", "A", "bad", "B"]))
    assert recorder.batches[:2] == [["L0"], ["A", "bad", "B"]]
    assert sorted(recorder.batches[2:]) == [["A"], ["B"], ["bad"]]
    assert isinstance(results[2], NotFound)
    assert [r.lead_external_id for r in (results[0], results[1], results[3])] == ["L0", "A", "B"]


def test_a_burst_larger_than_a_batch_is_split():
    recorder = Recorder()
    ids = [f"L{i}" for i in range(MAX_BATCH + 11)]
    asyncio.run(_burst(GroupCommit(recorder), recorder, ids))
    assert [len(b) for b in recorder.batches] == [1, MAX_BATCH, 10]


async def _concurrent_calls(app, key: str, lead_ids: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await asyncio.gather(
            *(
                client.post(
                    f"/v1/experiments/{EXP}/assignments", json={"lead_id": i}, headers=headers
                )
                for i in lead_ids
            )
        )


@pytest.mark.parametrize("repeats", [1, 5])
def test_concurrent_http_calls_assign_each_lead_exactly_once(app, as_, keys, engine, repeats):
    registered(as_)
    as_("committee").post(f"/v1/experiments/{EXP}/start")
    lead_ids = [f"lead-{i % 40}" for i in range(40 * repeats)]
    responses = asyncio.run(_concurrent_calls(app, keys["ingest"], lead_ids))
    assert {r.status_code for r in responses} == {200}
    bodies = [r.json() for r in responses]
    arms: dict[str, set[str]] = {}
    for body in bodies:
        arms.setdefault(body["lead_id"], set()).add(body["arm"])
    assert all(len(a) == 1 for a in arms.values())  # the same lead, the same arm
    created = Counter(b["lead_id"] for b in bodies if b["created"])
    assert created == Counter(dict.fromkeys(set(lead_ids), 1))  # created once per lead
    with read_session(engine) as s:
        stored = s.exec(select(Assignment).where(Assignment.experiment_id == EXP)).all()
    assert len(stored) == 40
    responded = Counter(next(iter(arm)) for arm in arms.values())
    assert Counter(a.arm_key for a in stored) == responded  # what was answered is stored


def test_an_unknown_experiment_is_a_404_for_every_waiting_call(app, keys):
    async def calls():
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {keys['ingest']}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/experiments/nope/assignments",
                        json={"lead_id": f"x{i}"},
                        headers=headers,
                    )
                    for i in range(5)
                )
            )

    responses = asyncio.run(calls())
    assert [r.status_code for r in responses] == [404] * 5
    assert all(r.headers["content-type"] == "application/problem+json" for r in responses)


def test_a_batch_runs_at_once_when_the_writer_is_free_and_in_a_thread_otherwise():
    ran: list[str] = []

    def threaded(experiment_id, leads):
        ran.append(f"thread:{threading.current_thread() is threading.main_thread()}")
        return [AssignmentOutcome(lead.external_id, "a", T, "hash-v1", True) for lead in leads]

    def now(experiment_id, leads):
        if leads[0].external_id == "busy":
            return None  # another writer holds the lock: nothing was done
        ran.append("now")
        return threaded(experiment_id, leads)

    commit = GroupCommit(threaded, now)

    async def calls():
        return [await commit.assign("e", LeadInput(i)) for i in ("free", "busy")]

    outcomes = asyncio.run(calls())
    assert [o.lead_external_id for o in outcomes] == ["free", "busy"]
    assert ran == ["now", "thread:True", "thread:False"]  # inline on the loop, then a worker
