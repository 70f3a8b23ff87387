"""The real Olist marketing funnel (../shared/data): 8,000 marketing-qualified leads and
842 won deals imported through the CLI as a dispute, re-imported without change, with
maturity and the known left-truncation trap visible in the numbers."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import BigInteger, func, select, type_coerce
from typer.testing import CliRunner

from arbiter.cli import app
from arbiter.db import open_database, read_session
from experiments.assignment import choose_arm
from experiments.crm_tables import Assignment
from experiments.metrics import per_lead_query
from tests.conftest import SHARED_DATA

OLIST = SHARED_DATA / "olist_marketing_funnel"
pytestmark = pytest.mark.skipif(
    not OLIST.exists(), reason="../shared/data/olist_marketing_funnel is absent (not shippable)"
)
PROTOCOL = """
id = "olist"
title = "Olist seller acquisition (real funnel, not randomised)"
question = "Does the organic landing path bring more won sellers than the paid one?"
parties = ["marketing", "sales"]
currency = "BRL"
[[arms]]
key = "organic"
name = "organic path"
party = "marketing"
[[arms]]
key = "paid"
name = "paid path"
party = "sales"
[primary]
name = "won seller within 90 days"
kind = "conversion"
window_days = 90
[mde]
value = 0.02
[limits]
max_sample = 8000
min_duration_days = 0
"""


def read_rows(name):
    with (OLIST / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def convert(tmp_path):
    leads_out = io.StringIO()
    w = csv.writer(leads_out)
    w.writerow(["lead_id", "first_seen", "landing_page", "origin", "arm", "assigned_at"])
    rows = read_rows("olist_marketing_qualified_leads_dataset.csv")
    arms = [("organic", 1.0), ("paid", 1.0)]
    for r in rows:
        arm = choose_arm("olist-salt", r["mql_id"], arms)
        w.writerow(
            [
                r["mql_id"],
                r["first_contact_date"],
                r["landing_page_id"],
                r["origin"],
                arm,
                r["first_contact_date"],
            ]
        )
    (tmp_path / "leads.csv").write_text(leads_out.getvalue())
    deals_out = io.StringIO()
    w = csv.writer(deals_out)
    w.writerow(["deal_id", "lead_id", "amount", "won", "closed", "closed_at", "stage"])
    deals = read_rows("olist_closed_deals_dataset.csv")
    for d in deals:
        w.writerow(
            [
                d["seller_id"],
                d["mql_id"],
                d["declared_monthly_revenue"],
                "true",
                "true",
                d["won_date"],
                d["business_segment"],
            ]
        )
    (tmp_path / "deals.csv").write_text(deals_out.getvalue())
    return rows, deals


def test_olist_funnel_imports_reimports_and_shows_maturity(cli_env, tmp_path):
    runner = CliRunner()
    rows, deals = convert(tmp_path)
    (tmp_path / "olist.toml").write_text(PROTOCOL)
    assert (
        runner.invoke(
            app,
            [
                "experiments",
                "register",
                str(tmp_path / "olist.toml"),
                "--sign",
                "marketing",
                "--sign",
                "sales",
            ],
        ).exit_code
        == 0
    )
    assert runner.invoke(app, ["experiments", "start", "olist"]).exit_code == 0
    assigned = runner.invoke(
        app, ["leads", "assign", "olist", "--file", str(tmp_path / "leads.csv"), "--json"]
    )
    assert assigned.exit_code == 0, assigned.output
    document = json.loads(assigned.stdout)
    assert document["report"]["inserted"] == 8000 and document["report"]["rejected"] == 0
    assert {a["method"] for a in document["assignments"]} == {"imported"}

    imported = runner.invoke(
        app,
        [
            "deals",
            "import",
            str(tmp_path / "deals.csv"),
            "--format",
            "generic",
            "--currency",
            "BRL",
            "--json",
        ],
    )
    report = json.loads(imported.stdout)
    assert report["inserted"] == len(deals) == 842 and report["rejected"] == 0
    again = json.loads(
        runner.invoke(
            app,
            [
                "deals",
                "import",
                str(tmp_path / "deals.csv"),
                "--format",
                "generic",
                "--currency",
                "BRL",
                "--json",
            ],
        ).stdout
    )
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 842)

    status = json.loads(
        runner.invoke(
            app, ["experiments", "status", "olist", "--json", "--as-of", "2018-06-01T00:00:00Z"]
        ).stdout
    )
    cutoff = datetime(2018, 6, 1, tzinfo=UTC) - timedelta(days=90)
    mature = sum(
        1
        for r in rows
        if datetime.fromisoformat(r["first_contact_date"]).replace(tzinfo=UTC) <= cutoff
    )
    assert status["progress"]["mature"] == mature
    assert status["progress"]["pending"] == 8000 - mature
    assert status["health"]["sample_ratio"]["mismatch"] is False
    won_late = sum(arm["excluded"]["won_after_window"] for arm in status["arms"].values())
    assert won_late > 50  # the long tail of time to close (p90 ≈ 160 days) is reported

    engine = open_database()
    pl = per_lead_query("olist", 90, "BRL", None)
    a = Assignment.__table__
    seconds = type_coerce(a.c.assigned_at, BigInteger) / 1_000_000
    year = func.substr(func.datetime(seconds, "unixepoch"), 1, 4)
    with read_session(engine) as s:
        by_year = dict(
            s.execute(
                select(year, func.avg(func.min(pl.c.won_deals, 1)))
                .select_from(pl.join(a, a.c.lead_id == pl.c.lead_id))
                .group_by(year)
            ).all()
        )
    engine.dispose()
    # Deals are observed only from 2017-12-05: the 2017 cohorts look far worse (left truncation).
    assert by_year["2017"] < 0.06 < 0.10 < by_year["2018"]


def test_olist_time_to_close_has_a_long_tail():
    leads = {
        r["mql_id"]: r["first_contact_date"]
        for r in read_rows("olist_marketing_qualified_leads_dataset.csv")
    }
    days = sorted(
        (datetime.fromisoformat(d["won_date"]) - datetime.fromisoformat(leads[d["mql_id"]])).days
        for d in read_rows("olist_closed_deals_dataset.csv")
    )
    median, p90 = days[len(days) // 2], days[int(0.9 * len(days))]
    assert 10 <= median <= 20
    assert 130 <= p90 <= 190
