"""Issue 4's end-to-end check through the CLI: a HubSpot export of leads and deals
imports, re-imports without change, and ``experiments status --json`` shows per-arm
mature and pending counts and the attributed deals."""

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from arbiter.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result


def test_hubspot_leads_and_deals_through_the_cli(cli_env, tmp_path):
    assert (
        run(
            "experiments",
            "register",
            EXAMPLES / "webinar-vs-cold-call.toml",
            "--sign",
            "marketing",
            "--sign",
            "sales",
        ).exit_code
        == 0
    )
    assert run("experiments", "start", "webinar-vs-cold-call").exit_code == 0

    out = tmp_path / "arms.csv"
    assigned = run(
        "leads",
        "assign",
        "webinar-vs-cold-call",
        "--file",
        DATA / "hubspot_contacts_assigned.csv",
        "--format",
        "hubspot",
        "--out",
        out,
    )
    assert assigned.exit_code == 0, assigned.output
    arms = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(arms) == 10 and {r["arm"] for r in arms} <= {"webinar", "cold-call"}
    assert "10 new, 0 updated" in assigned.stderr

    first = run("deals", "import", DATA / "hubspot_deals.csv", "--format", "hubspot", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["inserted"] > 0 and report["rejected"] == 5
    again = json.loads(
        run("deals", "import", DATA / "hubspot_deals.csv", "--format", "hubspot", "--json").stdout
    )
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, report["inserted"])

    shown = run("imports", "show", report["batch_id"])
    assert "unknown lead '5999'" in shown.stdout and "line 12" in shown.stdout
    listed = json.loads(run("imports", "list", "--json").stdout)
    assert [b["kind"] for b in listed] == ["deals", "deals", "leads"]

    early = json.loads(
        run(
            "experiments",
            "status",
            "webinar-vs-cold-call",
            "--json",
            "--as-of",
            "2026-02-01T00:00:00Z",
        ).stdout
    )
    assert early["progress"]["pending"] == 10 and early["progress"]["mature"] == 0
    late = json.loads(
        run(
            "experiments",
            "status",
            "webinar-vs-cold-call",
            "--json",
            "--as-of",
            "2099-01-01T00:00:00Z",
        ).stdout
    )
    assert late["progress"]["mature"] == 10 and late["progress"]["pending"] == 0
    arms_doc = late["arms"]
    assert sum(a["assigned"] for a in arms_doc.values()) == 10
    assert sum(a["won_deals"] for a in arms_doc.values()) >= 1
    assert all(
        set(a["excluded"]) >= {"created_before_assignment", "lost"} for a in arms_doc.values()
    )
    human = run("experiments", "status", "webinar-vs-cold-call")
    assert "deals left out by the attribution rule" in human.stdout


def test_importing_a_missing_file_fails_cleanly(cli_env):
    result = run("deals", "import", "/nonexistent.csv", "--format", "hubspot")
    assert result.exit_code == 1 and "no such file" in result.stderr
