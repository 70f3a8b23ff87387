"""Helpers for tests that run Arbiter as a user does: the CLI in its own process and
``arbiter serve`` on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def arbiter(env: dict[str, str], *args: str) -> str:
    """Run ``arbiter ARGS`` in a subprocess and return its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "arbiter", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """``arbiter serve`` in its own process until the block ends; yields the base URL."""
    port = free_port()
    command = ["serve", "--port", str(port), "--no-access-log", "--workers", str(workers)]
    process = subprocess.Popen(
        [sys.executable, "-m", "arbiter", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"arbiter serve did not start: {process.stderr}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
