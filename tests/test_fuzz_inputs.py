"""Bad input, generated: property-based fuzzing of every importer (malformed CSV in odd
encodings, with byte-order marks, ragged rows, huge fields, spreadsheet formulas), of
protocols (wrong types, NaN and infinities, negative weights, absurd sizes) and of the
statistics entry points. Every input either succeeds or gets Arbiter's own clear error
(a field and a sentence); nothing else escapes, and a refused import writes nothing.

``ARBITER_FUZZ_EXAMPLES`` sets the examples per property (default 60); docs/reliability.md
reports a longer run.
"""

from __future__ import annotations

import csv
import io
import math
import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from arbiter.db import write_session
from arbiter.exports import safe_cell
from experiments.deal_import import import_deals
from experiments.errors import ArbiterError, ImportRefused, InvalidInput, ProtocolInvalid
from experiments.lead_import import import_leads
from experiments.protocol import parse_protocol
from stats import AlwaysValid, MeanSummary, ProportionSummary, compare
from tests.factories import protocol_data

EXAMPLES = int(os.environ.get("ARBITER_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Warsaw")
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", '=HYPERLINK("x")', "\t=1"]
HEADERS = {
    "generic": ["deal_id", "lead_id", "amount", "currency", "won", "closed", "closed_at"],
    "hubspot": ["Record ID", "Associated Contact IDs", "Amount", "Deal Stage", "Close Date"],
    "salesforce": ["Id", "ContactId", "Amount", "StageName", "IsWon", "IsClosed", "CloseDate"],
    "pipedrive": ["Deal - ID", "Person - ID", "Deal - Value", "Deal - Status", "Deal - Won time"],
}
LEAD_HEADERS = {
    "generic": ["lead_id", "campaign", "created_at", "lead_score"],
    "hubspot": ["Record ID", "Create Date", "Original Source", "Lead Score"],
    "salesforce": ["Id", "CreatedDate", "LeadSource", "Company"],
    "pipedrive": ["Person - ID", "Person - Person created", "Person - Source"],
}

cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(FORMULAS),
    st.sampled_from(["", "1,5", "1.234.567,89", "NaN", "inf", "-0", "true", "2026-02-30"]),
    st.sampled_from(["2026-01-05", "2026-01-05T10:00:00+01:00", "05/01/2026", "PLN", "EUR"]),
    st.text(min_size=5000, max_size=70_000).map(lambda s: s or "x"),  # huge fields
)


@st.composite
def csv_files(draw: st.DrawFn, headers: dict[str, list[str]]) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(sorted(headers)))
    header = list(headers[fmt])
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(st.integers(0, 4)) == 0:
        header = [*header, draw(st.text(max_size=10))]
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=len(header) + 2), max_size=12))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=draw(st.sampled_from([",", ";", "\t"])))
    writer.writerow(header)
    writer.writerows(rows)  # ragged: rows shorter and longer than the header
    body = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1250", "latin-1"]))
    data = body.encode(encoding, errors="replace")
    mangle = draw(st.integers(0, 9))
    if mangle == 0:
        data = data[: draw(st.integers(0, len(data)))]  # cut anywhere, even mid-character
    elif mangle == 1:
        data = draw(st.binary(max_size=2000))  # not text at all
    elif mangle == 2:
        data = b"\x00" + data
    return fmt, data


def _counts(session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
        for t in ("lead", "deal", "import_batch")
    )


@pytest.fixture
def seeded(engine):
    with write_session(engine) as s:
        s.execute(
            text(
                "INSERT INTO lead (external_id, source_system, first_seen, updated_at) "
                "VALUES ('L1', 'generic', 0, 0), ('0', 'generic', 0, 0)"
            )
        )
    return engine


def _import(engine, kind: str, fmt: str, data: bytes) -> None:
    """Import in a transaction that is rolled back afterwards; check what a refusal left."""
    with write_session(engine) as s:
        before = _counts(s)
        savepoint = s.begin_nested()
        refusal: ArbiterError | None = None
        options = {"data": data, "filename": "f.csv", "fmt": fmt, "actor": "fuzz"}
        try:
            if kind == "deals":
                report = import_deals(s, **options, now=NOW, zone=ZONE, pipeline=False)
            else:
                report = import_leads(s, **options, now=NOW, zone=ZONE).report
        except (InvalidInput, ImportRefused) as exc:  # the whole file refused, with a reason
            refusal = exc
        savepoint.rollback()
        if refusal is not None:
            assert len(str(refusal)) > 10
            if isinstance(refusal, InvalidInput):
                assert refusal.problems, "a refusal names the field"
            assert _counts(s) == before
        else:
            for rejection in report.rejections:  # refused rows: line and reason kept
                assert rejection.line >= 1 and rejection.reason
        s.rollback()


def test_overlong_ids_and_sources_are_refused_rows_not_cut_or_crashes(seeded):
    """Found by the fuzzer on PostgreSQL (which enforces column widths; SQLite does not):
    an overlong id or source field is a refused row with its reason."""
    long_id, long_source = "D" * 201, "x" * 501
    deals = (
        "deal_id,lead_id,amount,currency,won,closed,closed_at\n"
        f"{long_id},L1,10,PLN,true,true,2026-02-01\nD2,L1,10,PLN,true,true,2026-02-01\n"
    ).encode()
    leads = f"lead_id,campaign\n{'L' * 201},spring\nL9,{long_source}\nL10,spring\n".encode()
    with write_session(seeded) as s:
        report = import_deals(
            s,
            data=deals,
            filename="d.csv",
            fmt="generic",
            actor="t",
            now=NOW,
            zone=ZONE,
            pipeline=False,
        )
        lead_report = import_leads(
            s, data=leads, filename="l.csv", fmt="generic", actor="t", now=NOW, zone=ZONE
        ).report
    assert report.inserted == 1 and [r.code for r in report.rejections] == ["too_long"]
    assert report.rejections[0].line == 2 and "at most 200" in report.rejections[0].reason
    assert lead_report.inserted == 1
    assert [(r.line, r.code) for r in lead_report.rejections] == [(2, "too_long"), (3, "too_long")]


@FUZZ
@given(case=csv_files(HEADERS))
def test_deal_imports_never_crash_and_refusals_write_nothing(seeded, case):
    _import(seeded, "deals", *case)


@FUZZ
@given(case=csv_files(LEAD_HEADERS))
def test_lead_imports_never_crash_and_refusals_write_nothing(seeded, case):
    _import(seeded, "leads", *case)


bad_values = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def broken_protocols(draw: st.DrawFn) -> dict[str, object]:
    data = protocol_data()
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(["top", "arm", "primary", "mde", "limits", "design"]))
        if target == "top":
            data[draw(st.sampled_from(sorted(data)))] = draw(bad_values)
        elif target == "arm" and isinstance(data.get("arms"), list) and data["arms"]:
            arm = data["arms"][0]
            arm[draw(st.sampled_from(["key", "weight", "party", "name"]))] = draw(
                st.one_of(bad_values, st.sampled_from([-1, 0, math.nan, math.inf, 1e308]))
            )
        else:
            section = data.setdefault(target, {})
            if isinstance(section, dict):
                key = draw(st.sampled_from(["value", "window_days", "max_sample", "looks", "kind"]))
                section[key] = draw(
                    st.one_of(bad_values, st.sampled_from([10**12, -5, math.inf, math.nan]))
                )
    return data


@FUZZ
@given(data=broken_protocols())
def test_broken_protocols_get_field_level_errors(data):
    refusal: ProtocolInvalid | None = None
    try:
        protocol = parse_protocol(data)
    except ProtocolInvalid as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.problems and all(p.message for p in refusal.problems)
    else:
        assert all(math.isfinite(a.weight) and a.weight > 0 for a in protocol.arms)


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@st.composite
def summaries(draw: st.DrawFn) -> object:
    if draw(st.booleans()):
        nobs = draw(st.integers(0, 10**9))
        return ProportionSummary(draw(st.integers(0, nobs)), nobs)
    values = draw(st.lists(finite, max_size=30))
    return MeanSummary.from_array(values) if values else MeanSummary(0, 0.0, 0.0)


@FUZZ
@given(
    control=summaries(),
    treatment=summaries(),
    difference=st.sampled_from(["absolute", "relative"]),
    sequential=st.sampled_from([None, AlwaysValid(tuning=5000)]),
    alpha=st.one_of(st.floats(min_value=1e-6, max_value=0.5), st.sampled_from([0.0, 1.5])),
)
def test_statistics_answer_or_refuse_with_a_sentence(
    control, treatment, difference, sequential, alpha
):
    refusal: Exception | None = None
    try:
        result = compare(
            control, treatment, difference=difference, alpha=alpha, sequential=sequential
        )
    except ValueError as exc:
        refusal = exc
    if refusal is not None:
        assert len(str(refusal)) > 10
        return
    if result.status == "ok":
        assert all(math.isfinite(v) for v in (result.estimate, result.standard_error))
        assert result.ci[0] <= result.estimate <= result.ci[1]
        assert 0.0 <= result.pvalue <= 1.0


@FUZZ
@given(value=st.one_of(st.sampled_from(FORMULAS), st.text(max_size=20)))
def test_no_exported_cell_can_run_as_a_formula(value):
    cell = safe_cell(value)
    assert not str(cell).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_formula_lead_ids_never_reach_a_csv_unescaped(cli_env, tmp_path):
    from typer.testing import CliRunner

    from arbiter.cli import app
    from tests.conftest import EXAMPLES

    runner = CliRunner()
    protocol = EXAMPLES / "webinar-vs-cold-call.toml"
    runner.invoke(
        app, ["experiments", "register", str(protocol), "--sign", "marketing", "--sign", "sales"]
    )
    runner.invoke(app, ["experiments", "start", "webinar-vs-cold-call"])
    leads = tmp_path / "leads.csv"
    with leads.open("w", newline="") as f:
        csv.writer(f).writerows([["lead_id", "campaign"], *([v, "spring"] for v in FORMULAS)])
    out = tmp_path / "arms.csv"
    result = runner.invoke(
        app,
        ["leads", "assign", "webinar-vs-cold-call", "--file", str(leads), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    with out.open(newline="") as f:
        written = list(csv.reader(f))[1:]
    assert len(written) == len(FORMULAS)
    assert all(not row[0].startswith(("=", "+", "-", "@", "\t")) for row in written)
    assert {row[0].lstrip("'") for row in written} == {v.strip() for v in FORMULAS}
