"""The API under loopback load: status reads and single assignments per second, p99.

Ours: ``arbiter serve`` (uvicorn, one worker — on PostgreSQL also two —, access log on)
over a migrated database holding a running dispute with ``leads`` assigned leads and a
tenth as many deals. ``GET /v1/experiments/bench/status`` with a team key (blinded view:
the key check, the visibility check, the status cache), and ``POST
/v1/experiments/bench/assignments`` with an ingest key and a new lead id per request
(single calls that arrive together share a transaction, :mod:`api.assigner`). Baseline:
the same server and framework answering the same bytes with no key, no database and no
work (:mod:`bench.bare_app`). Load: :mod:`bench.loadgen` in a second process, keep-alive
connections with one request in flight each.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from arbiter.db import write_session
from arbiter.keys import create_key
from bench import fill
from bench.harness import Database, Result, engines

STATUS_TARGET = "≥ 500 req/s and p99 < 50 ms"
ASSIGN_TARGET = "≥ 1,000 req/s"
CONNECTIONS = {"status": 16, "assign": 8}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return process
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start: {' '.join(command)}")


def _load(port: int, seconds: float, connections: int, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--port",
            str(port),
            "--seconds",
            str(seconds),
            "--connections",
            str(connections),
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _measure(db: Database, label: str, seconds: float, workers: int = 1) -> list[Result]:
    with write_session(db.engine) as s:
        _, team = create_key(s, name="bench-team", role="team", party="sales", actor="bench")
        _, ingest = create_key(s, name="bench-ingest", role="ingest", party=None, actor="bench")
    db.engine.dispose()
    env = {**os.environ, "ARBITER_DATABASE_URL": db.url, "ARBITER_LOG_LEVEL": "WARNING"}
    port = _port()
    command = ["serve", "--port", str(port), "--workers", str(workers)]
    ours = _serve([sys.executable, "-m", "arbiter", *command], env, port)
    try:
        status_path = "/v1/experiments/bench/status"
        document = httpx.get(
            f"http://127.0.0.1:{port}{status_path}",
            headers={"Authorization": f"Bearer {team}"},
            timeout=60,
        )
        document.raise_for_status()
        status = _load(
            port,
            seconds,
            CONNECTIONS["status"],
            "--path",
            status_path,
            "--header",
            f"Authorization: Bearer {team}",
        )
        assign = _load(
            port,
            seconds,
            CONNECTIONS["assign"],
            "--method",
            "POST",
            "--path",
            "/v1/experiments/bench/assignments",
            "--header",
            f"Authorization: Bearer {ingest}",
            "--body",
            '{"lead_id": "bench-new-' + str(workers) + 'w-{n}"}',
        )
    finally:
        _stop(ours)
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(document.content)
    port = _port()
    bare_env = {**env, "ARBITER_BENCH_STATUS_FILE": f.name}
    bare = _serve(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        bare_env,
        port,
    )
    try:
        bare_status = _load(port, seconds, CONNECTIONS["status"], "--path", "/status")
        bare_assign = _load(
            port,
            seconds,
            CONNECTIONS["assign"],
            "--method",
            "POST",
            "--path",
            "/assign",
            "--body",
            '{"lead_id": "bench-new-{n}"}',
        )
    finally:
        _stop(bare)
        Path(f.name).unlink()
    for name, figures in (("status", status), ("assignment", assign)):
        if figures["errors"]:
            raise RuntimeError(f"{name} benchmark saw {figures['errors']:.0f} failed requests")
    baseline = "same server and framework, fixed answer, no key or database"
    return [
        Result(
            f"GET status, {CONNECTIONS['status']} connections",
            label,
            status["rps"],
            "req/s",
            baseline,
            bare_status["rps"],
            True,
            STATUS_TARGET,
            status["rps"] >= 500 and status["p99_ms"] < 50,
            f"p50 {status['p50_ms']:.1f} ms, p99 {status['p99_ms']:.1f} ms "
            f"(baseline p99 {bare_status['p99_ms']:.1f} ms)",
        ),
        Result(
            f"POST single assignment (new lead), {CONNECTIONS['assign']} connections",
            label,
            assign["rps"],
            "req/s",
            baseline,
            bare_assign["rps"],
            True,
            ASSIGN_TARGET,
            assign["rps"] >= 1000,
            f"p50 {assign['p50_ms']:.1f} ms, p99 {assign['p99_ms']:.1f} ms "
            f"(baseline p99 {bare_assign['p99_ms']:.1f} ms)",
        ),
    ]


def run(leads: int, seconds: float, postgres: str | None) -> list[Result]:
    """Both figures on SQLite and, when ``postgres`` is set, on PostgreSQL."""
    results = []
    for label, make in engines(postgres, "bench_http"):
        db = make()
        fill.running_experiment(db.engine)
        fill.leads(db.engine, leads)
        fill.deals(db.engine, leads // 10, leads)
        results += _measure(db, label, seconds)
        if label == "PostgreSQL":  # the production engine is also run with several workers
            results += _measure(db, "PostgreSQL, 2 workers", seconds, workers=2)
    return results
