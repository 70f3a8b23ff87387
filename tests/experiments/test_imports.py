"""Imports of leads and deals: each CRM format with its quirks, idempotent re-import,
corrections that keep history, every kind of bad row, files refused whole, and one
transaction per import."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from arbiter import disputes, ingest
from arbiter.db import read_session, write_session
from experiments.crm_tables import Deal, DealHistory, Lead, LeadAttribute
from experiments.errors import ImportRefused
from experiments.protocol import parse_protocol
from tests.factories import protocol_data

DATA = Path(__file__).resolve().parents[1] / "data"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EXP = "webinar-vs-cold-call"


def start(engine):
    with write_session(engine) as s:
        disputes.register_protocol(
            s,
            protocol=parse_protocol(protocol_data()),
            actor="c",
            sign_as=["marketing", "sales"],
            now=T0,
        )
        disputes.start_dispute(s, experiment_id=EXP, actor="c", now=T0)


def leads(engine, name="hubspot_contacts.csv", fmt="hubspot", experiment=EXP):
    with write_session(engine) as s:
        return ingest.import_lead_file(
            s,
            data=(DATA / name).read_bytes(),
            filename=name,
            fmt=fmt,
            actor="t",
            now=T0,
            experiment_id=experiment,
        )


def deals(engine, name, fmt, now=T0 + timedelta(days=70), **kwargs):
    with write_session(engine) as s:
        return ingest.import_deal_file(
            s, data=(DATA / name).read_bytes(), filename=name, fmt=fmt, actor="t", now=now, **kwargs
        )


def codes(report):
    return {r.line: r.code for r in report.rejections}


def test_hubspot_contacts_import_assigns_and_keeps_typed_attributes_without_pii(engine):
    start(engine)
    result = leads(engine)
    assert result.report.inserted == 10 and result.report.rejected == 0
    assert len(result.assignments) == 10 and all(a.created for a in result.assignments)
    with read_session(engine) as s:
        lead = s.exec(select(Lead).where(Lead.external_id == "5101")).one()
        attributes = {
            a.name: a for a in s.exec(select(LeadAttribute).where(LeadAttribute.lead_id == lead.id))
        }
    assert (lead.origin, lead.channel, lead.landing_page) == (
        "Paid Search",
        "google",
        "https://example.pl/demo",
    )
    assert attributes["lead_score"].number == 42.0
    assert attributes["company_size"].number == 1200.0
    assert attributes["past_revenue"].number == 350000.5
    assert attributes["lifecycle_stage"].text == "Lead"
    assert not {"email", "first_name", "last_name"} & set(attributes)


def test_hubspot_deals_import_with_display_labels_and_every_rejection(engine):
    start(engine)
    leads(engine)
    report = deals(engine, "hubspot_deals.csv", "hubspot")
    assert report.rows_total == 13
    assert codes(report) == {
        9: "currency",  # 907: EUR for a PLN dispute (901 spans lines 2-3: quoted newline)
        11: "missing_amount",  # 909: won without amount
        12: "unknown_lead",  # 910: contact 5999
        14: "duplicate",  # 903 again
        15: "bad_date",  # 912: 20/02/2026
    }
    assert report.inserted == 8
    with read_session(engine) as s:
        deal = s.exec(select(Deal).where(Deal.external_id == "901")).one()
        multi = s.exec(select(Deal).where(Deal.external_id == "903")).one()
        first_lead = s.exec(select(Lead).where(Lead.external_id == "5103")).one()
    assert deal.amount_micros == 12_500_000_000 and deal.won and deal.closed
    assert deal.name == "Kowalska — annual plan"
    assert multi.lead_id == first_lead.id  # "5103;5107": the first associated contact


def test_reimporting_the_same_file_changes_nothing(engine):
    start(engine)
    leads(engine)
    first = deals(engine, "hubspot_deals.csv", "hubspot")
    with read_session(engine) as s:
        before = s.execute(text("SELECT * FROM deal ORDER BY id")).all()
    again = deals(engine, "hubspot_deals.csv", "hubspot")
    with read_session(engine) as s:
        after = s.execute(text("SELECT * FROM deal ORDER BY id")).all()
        history = s.exec(select(DealHistory)).all()
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
    assert again.rejected == first.rejected
    assert [r[:13] for r in before] == [r[:13] for r in after]
    assert history == []
    relead = leads(engine)
    assert (relead.report.inserted, relead.report.updated) == (0, 0)
    assert not any(a.created for a in relead.assignments)


def test_an_updated_export_updates_deals_and_keeps_their_history(engine):
    start(engine)
    leads(engine)
    deals(engine, "hubspot_deals.csv", "hubspot")
    report = deals(engine, "hubspot_deals_internal.csv", "hubspot")
    assert (report.inserted, report.updated, report.rejected) == (0, 2, 0)
    with read_session(engine) as s:
        moved = s.exec(select(Deal).where(Deal.external_id == "906")).one()
        history = s.exec(select(DealHistory).order_by(col(DealHistory.id))).all()
    assert moved.won and moved.closed and moved.version == 2
    assert moved.closed_at == datetime(2026, 2, 25, tzinfo=UTC)
    assert {h.version for h in history} == {1}
    old = next(h for h in history if h.deal_id == moved.id)
    assert not old.won and old.stage == "Contract Sent"


def test_salesforce_opportunities(engine):
    start(engine)
    with write_session(engine) as s:
        ingest.import_lead_json(
            s,
            records=[{"lead_id": f"0035g00000Lead0{i}"} for i in (1, 2, 3)],
            source_system="salesforce",
            actor="t",
            now=T0,
            experiment_id=EXP,
        )
    report = deals(engine, "salesforce_opportunities.csv", "salesforce")
    assert (report.inserted, report.rejected) == (3, 1)
    assert report.rejections[0].code == "inconsistent"
    with read_session(engine) as s:
        won = s.exec(select(Deal).where(Deal.external_id == "0065g00000AbCdE")).one()
        open_deal = s.exec(select(Deal).where(Deal.external_id == "0065g00000AbCdG")).one()
    assert won.amount_micros == 45_000_000_000 and won.created_at == datetime(
        2026, 1, 7, 9, 12, 44, tzinfo=UTC
    )
    assert not open_deal.closed and not open_deal.won


def test_arms_without_an_experiment_are_stored_with_a_warning(engine):
    start(engine)
    records = [{"lead_id": "L-1", "arm": "webinar", "assigned_at": "2026-01-02"}]
    with write_session(engine) as s:
        alone = ingest.import_lead_json(s, records=records, source_system="crm", actor="t", now=T0)
    assert alone.assignments == [] and alone.report.inserted == 1
    assert "no experiment was given" in alone.report.warnings[0]
    with write_session(engine) as s:
        again = ingest.import_lead_json(
            s, records=records, source_system="crm", actor="t", now=T0, experiment_id=EXP
        )
    assert [a.arm for a in again.assignments] == ["webinar"] and not again.report.warnings


def test_pipedrive_semicolon_export_with_decimal_commas(engine):
    start(engine)
    with write_session(engine) as s:
        ingest.import_lead_json(
            s,
            records=[{"lead_id": str(i)} for i in (77, 78, 79)],
            source_system="pipedrive",
            actor="t",
            now=T0,
            experiment_id=EXP,
        )
    report = deals(engine, "pipedrive_deals.csv", "pipedrive")
    assert (report.inserted, report.rejected) == (3, 1)
    assert report.rejections[0].code == "deleted"
    with read_session(engine) as s:
        by_id = {d.external_id: d for d in s.exec(select(Deal))}
    assert by_id["3001"].amount_micros == 2_340_000_000 and by_id["3001"].won
    assert by_id["3001"].closed_at == datetime(2026, 1, 27, 16, 40, tzinfo=UTC)
    assert by_id["3002"].closed and not by_id["3002"].won
    assert by_id["3003"].amount_micros == 15_000_000_000 and not by_id["3003"].closed


def test_generic_format_rejects_every_kind_of_bad_row(engine):
    start(engine)
    leads(engine, "generic_leads.csv", "generic")
    report = deals(engine, "generic_deals.csv", "generic")
    assert codes(report) == {
        4: "bad_amount",
        5: "bad_amount",
        6: "bad_currency",
        7: "bad_flag",
        8: "ragged",
        9: "inconsistent",
        10: "missing_id",
        11: "missing_lead",
        12: "missing_date",
    }
    assert report.inserted == 2
    columns = {r.line: r.column for r in report.rejections}
    assert columns[4] == "amount" and columns[6] == "currency" and columns[10] == "deal_id"
    raw = next(r.raw for r in report.rejections if r.line == 4)
    assert raw.startswith("g-3,L-3,-50")


def test_generic_leads_keep_types_per_column(engine):
    start(engine)
    leads(engine, "generic_leads.csv", "generic")
    with read_session(engine) as s:
        attrs = {(a.lead_id, a.name): a for a in s.exec(select(LeadAttribute))}
    kinds = {name: a.kind for (_, name), a in attrs.items()}
    assert kinds == {
        "lead_score": "number",
        "company_size": "number",
        "past_revenue": "number",
        "is_partner": "bool",
    }


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("deal_id,lead_id\nx,\xff\n".encode("latin-1"), "not UTF-8"),
        (b"name,value\na,1\n", "no column for id"),
        (b"deal_id,deal_id,lead_id\n1,2,3\n", "appears twice"),
        (b",,\n1,2,3\n", "no column names"),
        (b'deal_id,lead_id\n1,"' + b"x" * (2 * 1024 * 1024) + b'"\n', "not readable as CSV"),
    ],
)
def test_unreadable_files_are_refused_whole(engine, content, fragment):
    start(engine)
    with pytest.raises(ImportRefused, match=fragment), write_session(engine) as s:
        ingest.import_deal_file(s, data=content, filename="x.csv", fmt="generic", actor="t", now=T0)
    with read_session(engine) as s:
        assert s.execute(text("SELECT COUNT(*) FROM import_batch")).scalar_one() == 0


def test_utf16_export_with_bom_is_read(engine):
    start(engine)
    leads(engine, "generic_leads.csv", "generic")
    data = (DATA / "generic_deals.csv").read_text().encode("utf-16")
    with write_session(engine) as s:
        report = ingest.import_deal_file(
            s, data=data, filename="u16.csv", fmt="generic", actor="t", now=T0
        )
    assert report.inserted == 2


def test_an_import_is_one_transaction(engine):
    start(engine)
    leads(engine)

    def crash_after_writing():
        with write_session(engine) as s:
            ingest.import_deal_file(
                s,
                data=(DATA / "hubspot_deals.csv").read_bytes(),
                filename="d.csv",
                fmt="hubspot",
                actor="t",
                now=T0,
            )
            raise RuntimeError("crash after the rows were written")

    with pytest.raises(RuntimeError):
        crash_after_writing()
    with read_session(engine) as s:
        assert s.execute(text("SELECT COUNT(*) FROM deal")).scalar_one() == 0
        assert (
            s.execute(text("SELECT COUNT(*) FROM import_batch WHERE kind = 'deals'")).scalar_one()
            == 0
        )


def test_retry_with_the_same_idempotency_key_is_applied_once(engine):
    start(engine)
    leads(engine)
    payload = [
        {
            "deal_id": "j-1",
            "lead_id": "5101",
            "amount": 10,
            "currency": "PLN",
            "won": True,
            "closed": True,
            "closed_at": "2026-01-20T10:00:00Z",
        }
    ]
    with write_session(engine) as s:
        first = ingest.import_deal_json(
            s, records=payload, source_system="api", actor="t", now=T0, idempotency_key="k-1"
        )
    with write_session(engine) as s:
        second = ingest.import_deal_json(
            s, records=payload, source_system="api", actor="t", now=T0, idempotency_key="k-1"
        )
    assert first.inserted == 1 and second.replayed and second.batch_id == first.batch_id
    with read_session(engine) as s:
        assert s.execute(text("SELECT COUNT(*) FROM import_batch")).scalar_one() == 2


def test_a_deal_for_a_lead_of_another_currency_experiment_is_rejected_at_import(engine):
    start(engine)
    leads(engine)
    payload = [
        {
            "deal_id": "e-1",
            "lead_id": "5101",
            "amount": "10",
            "currency": "EUR",
            "won": True,
            "closed": True,
            "closed_at": "2026-01-20",
        }
    ]
    with write_session(engine) as s:
        report = ingest.import_deal_json(s, records=payload, source_system="api", actor="t", now=T0)
    assert report.rejections[0].code == "currency"
    assert "differs from the protocol's PLN" in report.rejections[0].reason


@pytest.mark.parametrize(
    ("name", "fmt"), [("hubspot_deals.csv", "hubspot"), ("generic_deals.csv", "generic")]
)
def test_the_second_parsing_process_gives_the_same_result(tmp_path, name, fmt):
    from arbiter.db import create_db_engine, upgrade_schema
    from tests.conftest import settings_for

    reports = []
    for pipeline in (False, True):
        url = f"sqlite:///{tmp_path / f'p{pipeline}.db'}"
        engine = create_db_engine(url, settings_for(url))
        upgrade_schema(engine)
        start(engine)
        leads(engine)
        leads(engine, "generic_leads.csv", "generic")
        with write_session(engine) as s:
            from zoneinfo import ZoneInfo

            from experiments.deal_import import import_deals

            report = import_deals(
                s,
                data=(DATA / name).read_bytes(),
                filename=name,
                fmt=fmt,
                actor="t",
                now=T0,
                zone=ZoneInfo("UTC"),
                pipeline=pipeline,
            )
        with read_session(engine) as s:
            rows = s.execute(
                text(
                    "SELECT external_id, lead_id, amount_micros, won, closed_at "
                    "FROM deal ORDER BY external_id"
                )
            ).all()
        reports.append((report.inserted, report.rejections, rows))
        engine.dispose()
    assert reports[0] == reports[1]


def test_a_refused_file_is_refused_by_the_second_process_too(engine):
    from zoneinfo import ZoneInfo

    from experiments.deal_import import import_deals

    data = b'deal_id,lead_id\n1,"' + b"x" * (2 * 1024 * 1024) + b'"\n'
    with pytest.raises(ImportRefused, match="not readable as CSV"), write_session(engine) as s:
        import_deals(
            s,
            data=data,
            filename="x.csv",
            fmt="generic",
            actor="t",
            now=T0,
            zone=ZoneInfo("UTC"),
            pipeline=True,
        )
