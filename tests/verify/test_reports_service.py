"""The intake service without HTTP: the officer's year, per-year numbering, and no
evidence left behind when the transaction fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers_reports import png, stored_evidence, valid_report
from sqlalchemy.exc import IntegrityError

from registry.outbox.models import OutboxMessage
from verify.errors import ValidationError
from verify.reports import evidence
from verify.reports.evidence import Upload
from verify.reports.intake import next_reference, parse_reference, submit_report
from verify.reports.validation import validate_report

NEW_YEAR_EVE_UTC = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1 January 2027 in Ha Noi


def test_reference_year_is_viet_nam_time(session):
    data = validate_report(valid_report(occurred_at="2026-12-31"), now=NEW_YEAR_EVE_UTC)
    report = submit_report(session, data, source="api", now=NEW_YEAR_EVE_UTC)
    session.commit()
    assert report.reference == "BC-2027-000001"
    earlier = datetime(2026, 12, 31, 16, 59, tzinfo=UTC)
    report = submit_report(session, data, source="api", now=earlier)
    session.commit()
    assert report.reference == "BC-2026-000001"  # each year counts from 1


def test_numbers_continue_and_a_rollback_gives_the_number_back(session):
    assert next_reference(session, 2030) == (1, "BC-2030-000001")
    assert next_reference(session, 2030) == (2, "BC-2030-000002")
    session.commit()
    assert next_reference(session, 2030)[1] == "BC-2030-000003"
    session.rollback()
    assert next_reference(session, 2030)[1] == "BC-2030-000003"
    session.commit()


def test_failed_transaction_leaves_no_evidence(session):
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    # a notification already holding the next reference's key makes the flush fail
    session.add(
        OutboxMessage(
            event="report.created", idempotency_key="report.created:BC-2026-000001", payload={}, next_attempt_at=moment
        )
    )
    session.commit()
    data = validate_report(valid_report(), now=moment)
    files = evidence.check_files([Upload("a.png", png()), Upload("b.png", png())])
    with pytest.raises(IntegrityError):
        submit_report(session, data, files, source="api", now=moment)
    session.rollback()
    assert stored_evidence(session) == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("BC-2026-000123", "BC-2026-000123"), (" bc-2026-000123 ", "BC-2026-000123")],
)
def test_reference_forms(typed, stored):
    assert parse_reference(typed) == stored


@pytest.mark.parametrize("bad", ["", "BC-26-1", "BC-2026-0001234", "XX-2026-000123", "BC-2026-00012a"])
def test_bad_references(bad):
    with pytest.raises(ValidationError):
        parse_reference(bad)


def test_amount_written_the_vietnamese_way_on_the_form():
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    for typed in ("5.000.000", "5,000,000", "5 000 000", "5000000đ", "5.000.000 VND"):
        assert validate_report(valid_report(amount_vnd=typed), now=moment).amount_vnd == 5_000_000


def test_every_error_is_reported_at_once():
    from verify.errors import ReportInputError

    with pytest.raises(ReportInputError) as err:
        validate_report(
            valid_report(channel="", request_text="", phone="x", email="y", amount_vnd="z"),
            now=datetime(2026, 11, 20, tzinfo=UTC),
        )
    assert set(err.value.errors) == {"channel", "request_text", "phone", "email", "amount_vnd"}
    assert err.value.field == "channel" and err.value.code == "required"


def test_api_messages_follow_the_language(client):
    body = valid_report(phone="nope")
    vi = client.post("/api/v1/reports", json=body).get_json()["error"]["message"]
    en = client.post("/api/v1/reports?lang=en", json=body).get_json()["error"]["message"]
    assert "số điện thoại không hợp lệ" in vi
    assert en == "Their phone number: not a valid phone number."
