"""Domain errors raised by ``experiments`` and ``arbiter`` service functions.

They carry no HTTP status codes: the API maps them to problem+json responses in one
place (``api/problems.py``) and the CLI prints them to stderr with a non-zero exit.

    ArbiterError                 base: ``title`` (short) and ``detail`` (what to fix)
    ├── NotFound                 an experiment, batch, key ... that does not exist
    ├── AlreadyExists            creating something whose id is taken
    ├── InvalidInput             input that cannot be used; ``problems`` lists each field
    │   └── ProtocolInvalid      a protocol that fails validation
    ├── ImportRefused            a whole file refused (not readable CSV, wrong format)
    ├── LifecycleError           a transition the lifecycle does not allow now
    ├── Forbidden                allowed in general, not for this actor (another party's arm)
    └── SchemaOutOfDate          the database schema is behind (or ahead of) the code
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AlreadyExists",
    "ArbiterError",
    "Forbidden",
    "ImportRefused",
    "InvalidInput",
    "LifecycleError",
    "NotFound",
    "Problem",
    "ProtocolInvalid",
    "Rejection",
    "SchemaOutOfDate",
]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused row of an import: where it was, which column, a short code, why, and
    the raw text of the row (kept for review)."""

    line: int
    column: str | None
    code: str
    reason: str
    raw: str


@dataclass(frozen=True, slots=True)
class Problem:
    """One field-level problem: a dotted path into the input and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ArbiterError(Exception):
    """Base class: ``title`` names the kind of failure, ``detail`` says what to do."""

    title = "Arbiter error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ArbiterError):
    """The named thing does not exist."""

    title = "Not found"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"there is no {kind} {key!r}.")
        self.kind = kind
        self.key = key


class AlreadyExists(ArbiterError):
    """The id is taken."""

    title = "Already exists"


class InvalidInput(ArbiterError):
    """Input that cannot be used, with one :class:`Problem` per field."""

    title = "Invalid input"

    def __init__(self, detail: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(detail)
        self.problems = list(problems)

    def __str__(self) -> str:
        if not self.problems:
            return self.detail
        return self.detail + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class ProtocolInvalid(InvalidInput):
    """A protocol that fails validation; every problem is listed at once."""

    title = "Invalid protocol"

    def __init__(self, problems: Sequence[Problem]) -> None:
        count = len(problems)
        super().__init__(
            f"the protocol has {count} problem{'s' if count != 1 else ''}; fix "
            f"{'them' if count != 1 else 'it'} and try again.",
            problems,
        )


class ImportRefused(ArbiterError):
    """A whole import file refused before any row was read."""

    title = "Import refused"


class LifecycleError(ArbiterError):
    """A transition the lifecycle does not allow from the current state."""

    title = "Not allowed in this state"

    def __init__(self, experiment: str, action: str, status: str, allowed: Sequence[str]) -> None:
        options = ", ".join(allowed) if allowed else "nothing (the dispute is closed)"
        super().__init__(
            f"cannot {action} experiment {experiment!r}: it is {status}; "
            f"from {status} you can: {options}."
        )
        self.status = status
        self.action = action


class Forbidden(ArbiterError):
    """Allowed in general, but not for this actor."""

    title = "Forbidden"


class SchemaOutOfDate(ArbiterError):
    """The database schema does not match the code."""

    title = "Database schema out of date"
