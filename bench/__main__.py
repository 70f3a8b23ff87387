"""``python -m bench [--quick] [--only NAME,…]``: run the benchmarks, print the table and
write it into docs/performance.md (the generated block between its markers)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import aggregate, ingest, look, peers, report, serving
from bench.harness import Result, postgres_url

SUITES = ("import", "aggregate", "look", "http", "peers")


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    parser.add_argument("--out", type=Path, default=Path("docs/performance.md"))
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the table into --out (default: only for a full run of every suite, so a "
        "smoke check never replaces the published figures)",
    )
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    pg = postgres_url()
    results: list[Result] = []
    if "import" in chosen:
        results += ingest.run(50_000 if args.quick else 1_000_000, pg)
    if "aggregate" in chosen:
        if args.quick:
            results += aggregate.run(100_000, 10_000, pg)
        else:
            results += aggregate.run(1_000_000, 100_000, pg)
    if "look" in chosen:
        results += look.run((10_000, 50_000) if args.quick else (10_000, 100_000, 1_000_000), pg)
    if "http" in chosen:
        results += serving.run(10_000 if args.quick else 100_000, 3.0 if args.quick else 10.0, pg)
    if "peers" in chosen:
        results += peers.run(quick=args.quick)
    print(report.table(results, args.quick))
    write = args.write if args.write is not None else not args.quick and chosen >= set(SUITES)
    if write:
        report.write(args.out, results, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
