"""What every CLI command shares: error reporting, the database, the actor, output."""

from __future__ import annotations

import functools
import getpass
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from sqlalchemy.engine import Engine

from experiments.errors import ArbiterError, InvalidInput

P = ParamSpec("P")
R = TypeVar("R")

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a message on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ArbiterError as exc:
            typer.echo(f"error: {exc.title.lower()}: {exc.detail}", err=True)
            if isinstance(exc, InvalidInput):
                for problem in exc.problems:
                    typer.echo(f"  - {problem}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def engine() -> Engine:
    """The configured database, its schema checked (and created on an empty SQLite file)."""
    from arbiter.db import open_database

    return open_database()


def actor() -> str:
    """Who is acting on the command line, for the audit log."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def clean(value: Any) -> Any:
    """Replace NaN and infinities by None so the output is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(clean(document), indent=2, ensure_ascii=False, default=_default))
    sys.stdout.write("\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def read_text(path: Path) -> str:
    """A file's text, with a clear error when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
