"""The CLI end to end on a fresh SQLite file: validate, register, sign, show --json,
start, stop, amend; errors on stderr with a non-zero exit."""

import json

from typer.testing import CliRunner

from arbiter.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()
WEBINAR = str(EXAMPLES / "webinar-vs-cold-call.toml")


def run(*args):
    return runner.invoke(app, list(args))


def test_validate_prints_the_hash_and_the_design(cli_env):
    result = run("protocol", "validate", WEBINAR)
    assert result.exit_code == 0, result.output
    assert "valid protocol 'webinar-vs-cold-call'" in result.stdout
    assert "4.877" in result.stdout
    document = json.loads(run("protocol", "validate", WEBINAR, "--json").stdout)
    assert document["valid"]
    assert len(document["sha256"]) == 64


def test_invalid_protocol_lists_every_problem_on_stderr(cli_env, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (EXAMPLES / "webinar-vs-cold-call.toml")
        .read_text()
        .replace("alpha = 0.05", "alpha = 0.7")
        .replace('currency = "PLN"', 'currency = "XXQ"')
    )
    result = run("protocol", "validate", str(bad))
    assert result.exit_code == 1
    assert "alpha: must be less than 0.5" in result.stderr
    assert "currency: 'XXQ' is not an ISO 4217 currency code" in result.stderr
    assert result.stdout == ""


def test_register_then_show_json_prints_the_locked_protocol(cli_env):
    result = run("experiments", "register", WEBINAR, "--sign", "marketing", "--sign", "sales")
    assert result.exit_code == 0, result.output
    shown = run("experiments", "show", "webinar-vs-cold-call", "--json")
    document = json.loads(shown.stdout)
    assert document["status"] == "registered"
    assert document["locked"]
    assert document["protocol_version"] == 1
    assert len(document["protocol_sha256"]) == 64
    assert document["protocol"]["primary"]["kind"] == "revenue_per_lead"
    assert [v["version"] for v in document["versions"]] == [1]


def test_register_waits_for_sign_offs_and_says_how(cli_env):
    first = run("experiments", "register", WEBINAR)
    assert first.exit_code == 1
    assert "arbiter experiments sign webinar-vs-cold-call --party marketing" in first.stderr
    assert run("experiments", "sign", "webinar-vs-cold-call", "--party", "marketing").exit_code == 0
    assert run("experiments", "sign", "webinar-vs-cold-call", "--party", "sales").exit_code == 0
    second = run("experiments", "register", "webinar-vs-cold-call")
    assert second.exit_code == 0, second.output


def test_changing_a_registered_protocol_other_than_by_amendment_is_refused(cli_env, tmp_path):
    run("experiments", "register", WEBINAR, "--sign", "marketing", "--sign", "sales")
    edited = tmp_path / "webinar-vs-cold-call.toml"
    edited.write_text(
        (EXAMPLES / "webinar-vs-cold-call.toml")
        .read_text()
        .replace("max_sample = 12000", "max_sample = 15000")
    )
    again = run("experiments", "register", str(edited))
    assert again.exit_code == 1
    assert "is registered already" in again.stderr
    assert "amend" in again.stderr
    sign = run("experiments", "sign", "webinar-vs-cold-call", "--party", "sales")
    assert sign.exit_code == 1
    assert "it is registered" in sign.stderr
    amended = run(
        "experiments",
        "amend",
        "webinar-vs-cold-call",
        str(edited),
        "--reason",
        "traffic lower than planned",
    )
    assert amended.exit_code == 0, amended.output
    document = json.loads(run("experiments", "show", "webinar-vs-cold-call", "--json").stdout)
    assert [v["reason"] for v in document["versions"]] == [
        "registered plan",
        "traffic lower than planned",
    ]


def test_start_stop_and_list(cli_env):
    run("experiments", "register", WEBINAR, "--sign", "marketing", "--sign", "sales")
    assert run("experiments", "start", "webinar-vs-cold-call").exit_code == 0
    refused = run("experiments", "start", "webinar-vs-cold-call")
    assert refused.exit_code == 1
    assert "it is running; from running you can" in refused.stderr
    assert run("experiments", "stop", "webinar-vs-cold-call", "--reason", "merger").exit_code == 0
    listed = json.loads(run("experiments", "list", "--json").stdout)
    assert listed == [
        {
            "id": "webinar-vs-cold-call",
            "title": listed[0]["title"],
            "status": "stopped",
            "protocol_version": 1,
        }
    ]


def test_show_unknown_experiment_fails_cleanly(cli_env):
    result = run("experiments", "show", "nope")
    assert result.exit_code == 1
    assert "there is no experiment 'nope'" in result.stderr
