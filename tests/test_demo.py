"""``arbiter demo``: a whole simulated dispute on a fresh SQLite file, reproducible by seed,
with a verdict, a decision record that verifies and an offline HTML report; and the replay
of the real Hillstrom e-mail experiment."""

import json

import pytest
from typer.testing import CliRunner

from arbiter.cli import app
from arbiter.records import verify_record
from tests.conftest import SHARED_DATA

runner = CliRunner()


def demo(*args):
    result = runner.invoke(app, ["demo", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def test_demo_reaches_a_verdict_with_a_record_and_a_report(tmp_path, cli_env):
    first = demo("--out", tmp_path / "a", "--seed", 7)
    assert "Verdict: winner — cold-call" in first.stdout
    assert "sales' cold-call follow-up brought +" in first.stdout
    record = json.loads((tmp_path / "a" / "decision-record.json").read_text())
    assert verify_record(record).ok
    page = (tmp_path / "a" / "report.html").read_text()
    assert "<svg" in page and "<script" not in page and "https://" not in page
    demo("--out", tmp_path / "b", "--seed", 7)
    second = json.loads((tmp_path / "b" / "decision-record.json").read_text())
    assert record["record_sha256"] == second["record_sha256"]  # seeded and reproducible


def test_demo_without_a_real_difference_finds_none(tmp_path, cli_env):
    result = demo("--out", tmp_path, "--effect", 0, "--lang", "pl")
    assert "Verdict: no_meaningful_difference" in result.stdout
    assert "żadna ze stron nie wygrywa" in result.stdout


def test_demo_refuses_an_unknown_language(tmp_path, cli_env):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--lang", "de"])
    assert result.exit_code == 1 and "--lang" in result.stderr


HILLSTROM = SHARED_DATA / "hillstrom"


@pytest.mark.skipif(
    not HILLSTROM.exists(),
    reason="../shared/data/hillstrom is absent (its licence forbids shipping it)",
)
def test_hillstrom_replay_reports_how_many_customers_the_design_needed(tmp_path, cli_env):
    result = demo("--dataset", HILLSTROM, "--out", tmp_path)
    assert "The sequential design needed" in result.stdout
    assert "of 64,000 customers" in result.stdout
    record = json.loads((tmp_path / "decision-record.json").read_text())
    assert verify_record(record).ok
    assert record["record"]["verdict"]["winner_arm"] == "mens"
