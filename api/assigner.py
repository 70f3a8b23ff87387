"""Group commit for single assignments.

A CRM calls ``POST /v1/experiments/{id}/assignments`` inline, one lead at a time, from
many connections at once. Each call on its own would be one write transaction, and write
transactions are serialised by the database (SQLite has one writer; PostgreSQL's commit
is a WAL flush), so the fixed cost of a transaction would cap the whole API's rate.

:class:`GroupCommit` lets calls for the same experiment that arrive while a transaction
is in flight share the next one — the technique databases themselves use for their log
("group commit"). An idle server commits the first call at once (no added latency); a
busy one commits everything that queued up during the previous transaction. Semantics
are those of the calls run one after another:

* a batch holds each lead at most once; a second call for the same lead waits for the
  next batch, so it sees the first call's assignment (``created`` is false) and its source
  fields are applied after the first call's, as they would be in sequence;
* if a batch fails, each of its calls is retried in its own transaction, so a call gets
  its own result or its own error, never a neighbour's.

Where the database allows it, a batch runs on the event loop itself when no other
writer holds the lock at that instant (SQLite, :func:`arbiter.db.write_session_now`): a
transaction of a few leads takes well under a millisecond, and handing it to a worker
thread would cost more than that in switches of the interpreter lock between the thread
and the loop. Otherwise — PostgreSQL, or a long import writing — it goes to the thread
pool and waits there, never on the loop.

The use case (:func:`arbiter.ingest.assign`) is the same one the bulk endpoint and the
CLI call; the batching changes how many transactions run, not what they do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool

from experiments.assignment import AssignmentOutcome, LeadInput

__all__ = ["MAX_BATCH", "Assign", "GroupCommit"]

MAX_BATCH = 256
"""The most calls one transaction takes (keeps a burst's transaction short)."""

Assign = Callable[[str, Sequence[LeadInput]], list[AssignmentOutcome]]
"""Assigns leads of one experiment in one transaction (runs in a worker thread)."""

AssignNow = Callable[[str, Sequence[LeadInput]], list[AssignmentOutcome] | None]
"""The same, but only if it can start at once without waiting (``None`` otherwise)."""


@dataclass(slots=True)
class _Call:
    lead: LeadInput
    future: asyncio.Future[AssignmentOutcome]


class GroupCommit:
    """Coalesces concurrent single assignments per experiment into shared transactions."""

    def __init__(self, assign: Assign, assign_now: AssignNow | None = None) -> None:
        self._assign = assign
        self._assign_now = assign_now
        self._queues: dict[str, list[_Call]] = {}
        self._drains: dict[str, asyncio.Task[None]] = {}

    async def assign(self, experiment_id: str, lead: LeadInput) -> AssignmentOutcome:
        """The outcome of assigning ``lead``, committed before this returns."""
        future: asyncio.Future[AssignmentOutcome] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(experiment_id, []).append(_Call(lead, future))
        if experiment_id not in self._drains:
            self._drains[experiment_id] = asyncio.create_task(self._drain(experiment_id))
        return await future

    async def _drain(self, experiment_id: str) -> None:
        try:
            while queue := self._queues.get(experiment_id):
                batch, rest = _take(queue)
                if rest:
                    self._queues[experiment_id] = rest
                else:
                    del self._queues[experiment_id]
                await self._commit(experiment_id, batch)
        finally:
            del self._drains[experiment_id]

    async def _commit(self, experiment_id: str, batch: list[_Call]) -> None:
        leads = [call.lead for call in batch]
        try:
            outcomes = self._assign_now(experiment_id, leads) if self._assign_now else None
            if outcomes is None:
                outcomes = await run_in_threadpool(self._assign, experiment_id, leads)
        except asyncio.CancelledError:  # the server is shutting down: nobody is left waiting
            for call in batch:
                call.future.cancel()
            raise
        except Exception as exc:
            if len(batch) == 1:
                _settle_error(batch[0], exc)
                return
            for call in batch:  # each call gets its own transaction, result and error
                await self._commit(experiment_id, [call])
            return
        for call, outcome in zip(batch, outcomes, strict=True):
            if not call.future.done():  # a client that hung up has cancelled its future
                call.future.set_result(outcome)


def _take(queue: list[_Call]) -> tuple[list[_Call], list[_Call]]:
    """The next batch (each lead once, at most MAX_BATCH calls) and the calls left over,
    in arrival order."""
    batch: list[_Call] = []
    rest: list[_Call] = []
    seen: set[str] = set()
    for call in queue:
        lead_id = call.lead.external_id
        if lead_id in seen or len(batch) >= MAX_BATCH:
            rest.append(call)
        else:
            seen.add(lead_id)
            batch.append(call)
    return batch, rest


def _settle_error(call: _Call, exc: Exception) -> None:
    if not call.future.done():
        call.future.set_exception(exc)
