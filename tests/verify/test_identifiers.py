"""Normal forms of reported identifiers and the impostor record lookups use."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from factories import NOW
from sqlalchemy.orm import Session

from keys.text import parse_phone
from verify.reports.identifiers import impostor_record, normalize_account, normalize_identifiers, normalize_link
from verify.reports.models import IdentifierKind, Report, ReportChannel, ReportIdentifier, ReportStatus


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0123456789", "0123456789"),
        ("0123 456 789", "0123456789"),
        ("0123.456.789", "0123456789"),
        ("0123-456-789", "0123456789"),
        ("Vietcombank 0123 456 789", "0123456789"),
        ("0123456789 Vietcombank", "0123456789"),
        ("VCB0123456789", "0123456789"),
        ("STK: 1903 5555 6666 01 - Techcombank", "19035555666601"),
        ("12345", None),  # too short to be an account
        ("Vietcombank", None),
        ("", None),
        ("1" * 35, None),
    ],
)
def test_account_normal_form(typed, expected):
    assert normalize_account(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("https://www.facebook.com/Nguyen.Van.A/?ref=share", "facebook.com/nguyen.van.a"),
        ("facebook.com/nguyen.van.a", "facebook.com/nguyen.van.a"),
        ("http://m.facebook.com/nguyen.van.a#posts", "facebook.com/nguyen.van.a"),
        ("fb.com/Nguyen.Van.A", "facebook.com/nguyen.van.a"),
        ("https://www.facebook.com/profile.php?id=100012345678&sk=about", "facebook.com/profile.php?id=100012345678"),
        ("https://zalo.me/0912345678", "zalo.me/0912345678"),
        ("tiktok.com/@tdkt.news", "tiktok.com/@tdkt.news"),
        ("not a link", None),
        ("javascript:alert(1)", None),
        ("ftp://facebook.com/x", None),
        ("nguyenvana", None),
        ("", None),
        ("https://facebook.com/" + "a" * 600, None),
    ],
)
def test_link_normal_form(typed, expected):
    assert normalize_link(typed) == expected


def test_identifiers_of_a_report_are_normalised_and_deduplicated():
    found = normalize_identifiers(
        phone="+84 912 345 678",
        email="KeGia@Gmail.com",
        account="Vietcombank 0123 456 789",
        link="https://zalo.me/0912345678",
    )
    assert found == [
        (IdentifierKind.PHONE, "+84912345678"),
        (IdentifierKind.EMAIL, "kegia@gmail.com"),
        (IdentifierKind.ACCOUNT, "0123456789"),
        (IdentifierKind.LINK, "zalo.me/0912345678"),
    ]


def test_unrecognisable_values_yield_no_identifier():
    assert normalize_identifiers(phone="call me", email="no-at-sign", account="none", link="x") == []


def _report(
    session: Session,
    seq: int,
    status: ReportStatus,
    *,
    phone: str = "0912345678",
    occurred: datetime | None = None,
    created: datetime = NOW,
) -> Report:
    report = Report(
        reference=f"BC-2026-{seq:06d}",
        year=2026,
        seq=seq,
        status=status,
        channel=ReportChannel.PHONE,
        request_text="asked for money",
        reporter_agency="Sở Nội vụ",
        reporter_contact="Chị Lan",
        source="api",
        occurred_at=occurred,
        created_at=created,
        updated_at=created,
    )
    for kind, value in normalize_identifiers(phone=phone, email="kegia@gmail.com"):
        report.identifiers.append(ReportIdentifier(kind=kind, value=value))
    session.add(report)
    session.flush()
    return report


def test_impostor_record_counts_only_confirmed_reports(session):
    e164 = parse_phone("0912 345 678")
    assert impostor_record(session, phone=e164) is None
    _report(session, 1, ReportStatus.CONFIRMED, occurred=NOW - timedelta(days=30))
    _report(session, 2, ReportStatus.CONFIRMED, created=NOW + timedelta(days=2))
    for seq, status in enumerate(
        (ReportStatus.NEW, ReportStatus.REVIEWING, ReportStatus.NOT_IMPERSONATION, ReportStatus.DUPLICATE), start=3
    ):
        _report(session, seq, status, occurred=NOW - timedelta(days=400))
    session.commit()
    record = impostor_record(session, phone=e164)
    assert record is not None
    assert record.count == 2
    assert record.first_seen == NOW - timedelta(days=30)
    assert record.last_seen == NOW + timedelta(days=2)
    assert record.first_seen.tzinfo is not None
    by_email = impostor_record(session, email="kegia@gmail.com")
    assert by_email is not None and by_email.count == 2
    # two identifiers of the same report count it once
    both = impostor_record(session, phone=e164, email="kegia@gmail.com")
    assert both is not None and both.count == 2
    assert impostor_record(session, phone="+84987654321") is None
    assert impostor_record(session) is None
