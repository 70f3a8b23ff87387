"""Valid protocol documents to start tests from."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "id": "webinar-vs-cold-call",
    "title": "Webinar nurture vs cold-call follow-up",
    "question": "Which follow-up brings more revenue per lead?",
    "parties": ["marketing", "sales"],
    "currency": "PLN",
    "arms": [
        {"key": "webinar", "name": "webinar nurture", "party": "marketing", "weight": 1},
        {"key": "cold-call", "name": "cold-call follow-up", "party": "sales", "weight": 1},
    ],
    "primary": {"name": "revenue per lead", "kind": "revenue_per_lead", "window_days": 60},
    "mde": {"value": 0.1, "kind": "relative"},
    "guardrails": [
        {"name": "deal conversion", "kind": "conversion", "window_days": 60, "margin": 0.01}
    ],
    "limits": {"max_sample": 12000, "max_duration_days": 182, "min_duration_days": 28},
}


def protocol_data(**changes: Any) -> dict[str, Any]:
    """A deep copy of the base protocol with top-level fields replaced."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return data
