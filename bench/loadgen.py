"""A small HTTP/1.1 load generator: ``python -m bench.loadgen --port P --path /x ...``.

It runs in its own process (so that it does not share the server's interpreter), keeps
``--connections`` keep-alive connections busy for ``--seconds`` after a warm-up, one
request in flight per connection, and prints one JSON line: requests, errors (non-2xx or
broken), elapsed seconds and latency percentiles in milliseconds. Requests are written
and responses parsed by hand on asyncio streams: the client's own cost per request is a
few microseconds, well below what it measures. ``{n}`` in ``--body`` is replaced by a
counter that is unique across connections (a new lead id per request).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _run(args: argparse.Namespace) -> dict[str, float]:
    counter = itertools.count()
    headers = "".join(f"{h}\r\n" for h in args.header)
    latencies: list[float] = []
    errors = 0
    warm_until = time.perf_counter() + args.warmup
    stop_at = warm_until + args.seconds

    def request() -> bytes:
        body = args.body.replace("{n}", str(next(counter))).encode() if args.body else b""
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else ""
        return (
            f"{args.method} {args.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}{extra}\r\n"
        ).encode() + body

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        try:
            while True:
                started = time.perf_counter()
                if started >= stop_at:
                    return
                try:
                    status = await _one(reader, writer, request())
                except (asyncio.IncompleteReadError, ConnectionError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
                    continue
                if started >= warm_until:
                    latencies.append(time.perf_counter() - started)
                    if not 200 <= status < 300:
                        errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(args.connections)))
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(int(q * len(latencies)), len(latencies) - 1)] * 1000

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": args.seconds,
        "rps": len(latencies) / args.seconds,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP/1.1 keep-alive load generator")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body", default="")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args))))


if __name__ == "__main__":
    main()
