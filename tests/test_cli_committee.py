"""Issue 5's end-to-end check through the CLI: for a simulated dispute ``looks run --json``
returns the decision, ``decisions export`` writes the record and ``decisions verify``
recomputes the verdict from the exported file alone; the audit chain verifies and names
tampering; the scoreboard and the HTML report are produced."""

import json
from datetime import timedelta

from sqlalchemy import text
from typer.testing import CliRunner

from arbiter.cli import app
from arbiter.db import open_database
from arbiter.simulation import ArmTruth, Scenario, Simulation
from tests.arbiter.test_committee import EXP, T0, start

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def simulated(days):
    engine = open_database()
    start(engine)
    sim = Simulation(
        engine,
        EXP,
        Scenario(
            {"webinar": ArmTruth(0.10), "cold-call": ArmTruth(0.20)}, leads_per_weekday=60, seed=1
        ),
        T0,
    )
    for day in range(days):
        sim.day(day)
    return engine


def test_looks_run_json_then_verify_the_exported_record(cli_env, tmp_path):
    engine = simulated(63)
    verdict = None
    for week in range(1, 10):
        result = run(
            "looks", "run", EXP, "--json", "--as-of", (T0 + timedelta(days=7 * week)).isoformat()
        )
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["look"] == week and "decision" in document
        assert set(document["rationale"]) == {"en", "pl", "ru"}
        if document["verdict"]:
            verdict = document
            break
    assert verdict is not None and verdict["outcome"] == "winner"
    assert verdict["decision"]["winner"] == "cold-call"
    assert verdict["decision"]["effect"]["ci"][0] > 0

    refused = run("looks", "run", EXP)
    assert refused.exit_code == 1 and "it is decided" in refused.stderr

    listed = json.loads(run("looks", "list", EXP, "--json").stdout)
    assert [look["look"] for look in listed] == list(range(1, verdict["look"] + 1))

    record_file = tmp_path / "record.json"
    exported = run(
        "decisions", "export", "--format", "json", "--experiment", EXP, "--out", record_file
    )
    assert exported.exit_code == 0, exported.output
    verified = run("decisions", "verify", record_file)
    assert verified.exit_code == 0, verified.output
    assert "recomputed: matches — verdict winner, winner cold-call" in verified.stdout

    tampered = json.loads(record_file.read_text())
    tampered["record"]["looks"][-1]["decision"]["comparisons"][0]["estimate"] *= 2
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(tampered))
    refused_verify = run("decisions", "verify", bad_file)
    assert refused_verify.exit_code == 1
    assert "MISMATCH" in refused_verify.stdout and "estimate recorded" in refused_verify.stderr

    csv_dir = tmp_path / "csv"
    assert run("decisions", "export", "--format", "csv", "--out", csv_dir).exit_code == 0
    assert (csv_dir / "looks.csv").read_text().count("\n") >= verdict["look"] + 1
    assert "cold-call" in (csv_dir / "decisions.csv").read_text()

    shown = run("decisions", "show", EXP, "--lang", "pl")
    assert "Propozycja strony sales" in shown.stdout

    chain = run("audit", "verify")
    assert chain.exit_code == 0 and "the chain is intact" in chain.stdout
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET payload = '{}' WHERE action = 'verdict'"))
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "verdict webinar-vs-cold-call) was edited" in broken.stderr

    board = json.loads(run("scoreboard", "--json").stdout)
    assert {r["party"]: r["wins"] for r in board} == {"sales": 1, "marketing": 0}
    report_file = tmp_path / "report.html"
    assert run("report", EXP, "--out", report_file).exit_code == 0
    page = report_file.read_text()
    assert "<svg" in page and "Arbiter report" in page
    engine.dispose()
