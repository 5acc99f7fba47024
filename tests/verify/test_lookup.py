"""Lookup: phones in every form, names without diacritics, case variants, official
channels, lookalike addresses, reported impostors, unknowns; page and API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from factories import NOW, VN_TODAY, add_person

from registry.channels import service as channels
from registry.channels.models import ChannelKind
from verify.lookup.service import lookup

CHANNELS = [
    (ChannelKind.EMAIL, "dienhinhtientien.tdkt@gmail.com", "Hộp thư nhận bài điển hình tiên tiến"),
    (ChannelKind.PHONE, "024 3823 4567", "Đường dây nóng Trung tâm"),
    (ChannelKind.DOMAIN, "tdkt.gov.vn", "Tên miền thư điện tử của Ban"),
    (ChannelKind.URL, "https://thiduakhenthuongvn.org.vn", "Cổng Thông tin điện tử của Ban"),
]


@pytest.fixture()
def registry_data(session):
    add_person(session, "TTTT-001", "Nguyễn Văn Đức", phone="0912 345 678", email="duc.nv@tdkt.gov.vn")
    add_person(
        session,
        "TTTT-005",
        "Nguyễn Văn Đức",
        title="Cộng tác viên",
        phone="0934 567 890",
        email="duc.nv2@tdkt.gov.vn",
    )
    add_person(session, "TTTT-002", "Trần Thị Minh Hằng", phone="0987 654 321", email="hang.ttm@tdkt.gov.vn")
    for kind, value, label in CHANNELS:
        channels.add_channel(session, kind=kind, value=value, label=label, actor="test", now=NOW)
    session.commit()
    return session


def ask(client: Any, q: str, **params: Any) -> Any:
    resp = client.get("/api/v1/lookup", query_string={"q": q, **params})
    return resp


@pytest.mark.parametrize(
    "q",
    [
        "0912 345 678",
        "0912345678",
        "+84 912 345 678",
        "+84912345678",
        "84912345678",
        "(+84) 912-345-678",
        "0912.345.678",
    ],
)
def test_every_phone_form_finds_the_staff_member(client, registry_data, q):
    body = ask(client, q).json
    assert body["answer"] == "official_staff"
    assert body["query"]["kind"] == "phone"
    assert body["query"]["normalized"] == "+84912345678"
    assert [s["code"] for s in body["staff"]] == ["TTTT-001"]
    assert body["staff"][0]["phone_display"] == "0912 345 678"


@pytest.mark.parametrize(
    "q", ["Nguyen Van Duc", "nguyen van duc", "NGUYỄN VĂN ĐỨC", "  Nguyễn   Văn  Đức ", "nguyễn văn đức"]
)
def test_name_without_diacritics_lists_every_namesake(client, registry_data, q):
    body = ask(client, q).json
    assert body["answer"] == "official_staff"
    assert body["query"]["kind"] == "name"
    assert [s["code"] for s in body["staff"]] == ["TTTT-001", "TTTT-005"]
    assert {s["title"] for s in body["staff"]} == {"Phóng viên", "Cộng tác viên"}
    assert [w["code"] for w in body["warnings"]] == ["namesakes"]
    assert "số điện thoại chính thức" in body["warnings"][0]["message"]
    # only what the card shows
    assert set(body["staff"][0]) == {
        "code",
        "name",
        "title",
        "unit",
        "phone",
        "phone_display",
        "email",
        "status",
        "photo_url",
    }


@pytest.mark.parametrize(
    "q", ["Duc.NV@TDKT.gov.vn", "duc.nv@tdkt.gov.vn", "DUC.NV@TDKT.GOV.VN", " duc.nv@tdkt.gov.vn "]
)
def test_email_case_variants(client, registry_data, q):
    body = ask(client, q).json
    assert body["answer"] == "official_staff"
    assert body["query"]["normalized"] == "duc.nv@tdkt.gov.vn"
    assert [s["code"] for s in body["staff"]] == ["TTTT-001"]


@pytest.mark.parametrize("q", ["TTTT-002", "tttt-002", "Tttt-002"])
def test_staff_code_case_variants(client, registry_data, q):
    body = ask(client, q).json
    assert body["answer"] == "official_staff"
    assert body["query"]["kind"] == "staff_code"
    assert [s["name"] for s in body["staff"]] == ["Trần Thị Minh Hằng"]


@pytest.mark.parametrize(
    ("q", "kind"),
    [
        ("DienHinhTienTien.TDKT@gmail.com", "email"),
        ("024 3823 4567", "phone"),
        ("+842438234567", "phone"),
        ("tdkt.gov.vn", "domain"),
        ("https://thiduakhenthuongvn.org.vn/", "url"),
        ("https://www.thiduakhenthuongvn.org.vn/tin-tuc/bai-1", "url"),
        ("thiduakhenthuongvn.org.vn", "domain"),
        ("vanphong@tdkt.gov.vn", "email"),
    ],
)
def test_official_channels(client, registry_data, q, kind):
    body = ask(client, q).json
    assert body["answer"] == "official_channel", body
    assert body["query"]["kind"] == kind
    assert body["channel"]["label"]
    assert body["warnings"] == []


@pytest.mark.parametrize(
    ("q", "warning", "resembles"),
    [
        ("ttttt.tdkt@gmail.com", "uses_centre_name", None),
        ("dienhinhtientien.tdkt@yahoo.com", "uses_centre_name", None),
        ("bantdkt.trunguong@gmail.com", "uses_centre_name", None),
        ("thiduakhenthuong.tw@outlook.com", "uses_centre_name", None),
        ("lienhe@tdkt-gov.vn", "lookalike_domain", "tdkt.gov.vn"),
        ("lienhe@tdkt.gov.vn.com", "lookalike_domain", "tdkt.gov.vn"),
        ("lienhe@tdkt.gov.com", "lookalike_domain", "tdkt.gov.vn"),
        ("https://thiduakhenthuongvn.org", "lookalike_domain", "thiduakhenthuongvn.org.vn"),
        ("https://thiduakhenthuonqvn.org.vn/bai-viet", "lookalike_domain", "thiduakhenthuongvn.org.vn"),
        ("thiduakhenthuong-vn.com", "lookalike_domain", "thiduakhenthuongvn.org.vn"),
        ("tđkt.gov.vn", "lookalike_domain", "tdkt.gov.vn"),
    ],
)
def test_lookalike_addresses_are_unknown_with_a_warning(client, registry_data, q, warning, resembles):
    body = ask(client, q).json
    assert body["answer"] == "unknown", body
    assert [w["code"] for w in body["warnings"]] == [warning]
    assert body["warnings"][0].get("resembles") == resembles


@pytest.mark.parametrize(
    "q",
    [
        "0999 888 777",
        "nobody@example.com",
        "btdkt@khanhhoa.gov.vn",
        "TTTT-999",
        "Hoàng Văn Không",
        "example.org",
        "0123456789",
    ],
)
def test_unknown_identifiers(client, registry_data, q):
    body = ask(client, q).json
    assert body["answer"] == "unknown"
    assert body["staff"] == []
    assert body["channel"] is None
    assert body["warnings"] == []
    assert body["message"] == (
        "Đây không phải cán bộ hay kênh liên hệ chính thức của Trung tâm. "
        "Không được tiếp tục, và hãy báo cáo cho Trung tâm."
    )
    assert [c["kind"] for c in body["official_contacts"]] == ["phone", "email", "url"]


def test_unknown_in_english(client, registry_data):
    body = ask(client, "0999 888 777", lang="en").json
    assert body["message"].startswith("This is not a staff member")


@pytest.mark.parametrize(
    ("q", "field"),
    [
        ("", "q"),
        ("   ", "q"),
        ("x" * 301, "q"),
        ("not an email@", "q"),
        ("a@b", "q"),
        ("https://", "q"),
        ("javascript:alert(1)/x", "q"),
        ("x", "q"),
        ("12-3", "q"),
        ("!!", "q"),
        ("abc\x00def", "q"),
        ("abc\u202edef", "q"),
    ],
)
def test_bad_queries_are_400(client, registry_data, q, field):
    resp = ask(client, q)
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "invalid_input"
    assert resp.json["error"]["field"] == field


def test_suspended_and_departed_staff(client, session, registry_data):
    from registry.staff.models import StaffStatus
    from registry.staff.service import change_status

    change_status(session, "TTTT-002", StaffStatus.SUSPENDED, actor="t", now=NOW, reason="test")
    change_status(session, "TTTT-005", StaffStatus.DEPARTED, actor="t", now=NOW, reason="test")
    session.commit()
    body = ask(client, "0987 654 321").json
    assert body["answer"] == "unknown"
    assert body["staff"][0]["status"] == "suspended"
    assert [w["code"] for w in body["warnings"]] == ["staff_suspended"]
    body = ask(client, "Nguyen Van Duc").json
    assert [s["code"] for s in body["staff"]] == ["TTTT-001"]  # departed namesake not listed
    assert ask(client, "0934 567 890").json["answer"] == "unknown"


def _confirmed_report(
    session: Any,
    *,
    phone: str | None = None,
    email: str | None = None,
    link: str | None = None,
    account: str | None = None,
    when: datetime = NOW,
) -> None:
    from verify.reports.identifiers import normalize_identifiers
    from verify.reports.models import Report, ReportChannel, ReportIdentifier, ReportStatus

    report = Report(
        reference=f"BC-2026-{session.query(Report).count() + 1:06d}",
        year=2026,
        seq=session.query(Report).count() + 1,
        status=ReportStatus.CONFIRMED,
        channel=ReportChannel.PHONE,
        phone=phone,
        email=email,
        social_link=link,
        bank_account=account,
        request_text="Đề nghị viết bài, yêu cầu chuyển khoản phí",
        reporter_agency="Sở Nội vụ",
        reporter_contact="vanthu@snv.gov.vn",
        source="form",
        occurred_at=when,
        created_at=when,
        updated_at=when,
    )
    session.add(report)
    session.flush()
    for kind, value in normalize_identifiers(phone=phone, email=email, link=link, account=account):
        session.add(ReportIdentifier(report_id=report.id, kind=kind, value=value))
    session.commit()


def test_reported_impostor(client, session, registry_data):
    _confirmed_report(session, phone="0966 123 456", when=NOW - timedelta(days=3))
    _confirmed_report(session, phone="+84966123456", email="BTDKT.TW@gmail.com")
    _confirmed_report(session, account="Vietcombank 0011 0022 33")
    body = ask(client, "84966123456").json
    assert body["answer"] == "reported_impostor"
    assert body["impostor"]["count"] == 2
    assert ask(client, "btdkt.tw@gmail.com").json["answer"] == "reported_impostor"
    assert ask(client, "0011002233").json["answer"] == "reported_impostor"
    page = client.get("/", query_string={"q": "0966 123 456"}).get_data(as_text=True)
    assert 'data-answer="reported_impostor"' in page
    assert f"2 báo cáo đã được xác nhận, gần nhất ngày {VN_TODAY:%d/%m/%Y}." in page
    # official data wins, but the officer is told
    _confirmed_report(session, phone="0912 345 678")
    body = ask(client, "0912345678").json
    assert body["answer"] == "official_staff"
    assert [w["code"] for w in body["warnings"]] == ["also_reported"]


def test_lookup_page_answers_without_js(client, registry_data):
    resp = client.get("/", query_string={"q": "84912345678"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-answer="official_staff"' in html
    assert "TTTT-001" in html
    assert "0912 345 678" in html
    resp = client.get("/", query_string={"q": "0999888777", "lang": "en"})
    html = resp.get_data(as_text=True)
    assert 'data-answer="unknown"' in html
    assert '<html lang="en">' in html
    assert "/report?phone=0999888777&amp;email=&amp;social_link=&amp;claimed_name=&amp;channel=phone&amp;lang=en" in (
        html
    )


def test_unknown_answer_links_to_a_prefilled_report(client: Any, registry_data: Any) -> None:
    import html as html_lib
    import re

    page = client.get("/", query_string={"q": "0999 888 777"}).get_data(as_text=True)
    link = re.search(r'href="(/report\?[^"]+)"', page)
    assert link is not None
    form = client.get(html_lib.unescape(link.group(1)))
    assert form.status_code == 200
    assert "0999 888 777" in form.get_data(as_text=True)


def test_lookup_page_bad_query(client, registry_data):
    resp = client.get("/", query_string={"q": "a@b"})
    assert resp.status_code == 400
    assert 'role="alert"' in resp.get_data(as_text=True)


def test_service_directly(session, registry_data):
    result = lookup(session, "Tran Thi Minh Hang", now=NOW)
    assert result.answer.value == "official_staff"
    assert result.checked_at == NOW


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True}], indirect=True)
def test_lookup_rate_limit_per_address(client: Any, registry_data: Any) -> None:
    statuses = [ask(client, "0999 888 777").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    assert client.get("/").status_code == 200  # the bare home page is never limited
    other = client.get("/api/v1/lookup?q=0999888777", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_namesakes_show_their_photo(client: Any, session: Any, registry_data: Any) -> None:
    import io

    from PIL import Image

    from registry.staff.photos import set_photo
    from registry.staff.service import get_staff

    buf = io.BytesIO()
    Image.new("RGB", (96, 128), "#777").save(buf, "JPEG")
    set_photo(get_staff(session, "TTTT-005"), buf.getvalue(), "image/jpeg")
    session.commit()
    body = ask(client, "Nguyen Van Duc").json
    photos = {s["code"]: s["photo_url"] for s in body["staff"]}
    assert photos == {"TTTT-001": None, "TTTT-005": "https://xacminh.thiduakhenthuong.vn/api/v1/staff/TTTT-005/photo"}
    page = client.get("/", query_string={"q": "Nguyen Van Duc"}).get_data(as_text=True)
    assert 'src="https://xacminh.thiduakhenthuong.vn/api/v1/staff/TTTT-005/photo"' in page
    assert client.get("/api/v1/staff/TTTT-005/photo").data == buf.getvalue()
