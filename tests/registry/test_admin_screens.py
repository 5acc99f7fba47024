"""The console's screens doing their work: staff (search, add, edit, photo, status),
credentials (issue, suspend, revoke with reason and confirmation, the card), keys,
official channels, live codes, assignments, report triage and evidence, the
dashboard; and every console action lands in the audit log under the admin's name."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from conftest import NOW, add_person, issue
from helpers_admin import (  # noqa: F401 - fixture
    XSS,
    cheap_argon2,
    client_as,
    jpeg_with_exif,
    make_admin,
    make_report,
    must,
    png_bytes,
    sample_data,
    sign_in_client,
)
from PIL import Image
from sqlalchemy import select

from keys import service as key_service
from keys.models import KeyState
from registry.accounts.models import AdminRole
from registry.audit.models import AuditEntry
from registry.credentials.models import Credential, CredentialStatus
from registry.staff.models import Staff, StaffStatus
from verify.reports.models import Report, ReportStatus

pytestmark = pytest.mark.usefixtures("cheap_argon2", "signing_key")


@pytest.fixture()
def issuer(app, session, master):
    user, _ = make_admin(session, master, AdminRole.ISSUER, "issuer-ann")
    return sign_in_client(app.test_client(), user)


@pytest.fixture()
def admin(app, session, master):
    user, _ = make_admin(session, master, AdminRole.ADMIN, "admin-bao")
    return sign_in_client(app.test_client(), user)


def audit_log(session: Any) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def verdict(client: Any, token: str) -> str:
    return str(client.get(f"/v/{token}", headers={"Accept": "application/json"}).json["verdict"])


STAFF_FORM = {
    "code": "tttt-010",
    "name": "Lê  Quang Huy",
    "title": "Phóng viên ảnh",
    "unit": "Trung tâm Thông tin - Truyền thông",
    "phone": "0903 111 222",
    "email": "Huy.LQ@tdkt.gov.vn",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "x"),
        ("code", "TTTT 010"),
        ("name", ""),
        ("name", "a" * 201),
        ("title", "\x07bell"),
        ("phone", "12"),
        ("email", "not-an-email"),
        ("unit", "u" * 201),
    ],
)
def test_staff_add_refuses_bad_fields(issuer, session, field, value):
    resp = issuer.post("/admin/staff/new", data={**STAFF_FORM, field: value})
    assert resp.status_code == 400
    assert f'data-field="{field}"'.encode() in resp.data
    assert session.scalar(select(Staff.id)) is None


def test_staff_add_edit_and_search(issuer, client, session):
    resp = issuer.post("/admin/staff/new", data=STAFF_FORM)
    assert resp.status_code == 302 and resp.location == "/admin/staff/TTTT-010"
    person = session.scalars(select(Staff)).one()
    assert (person.name, person.phone, person.email) == ("Lê Quang Huy", "+84903111222", "huy.lq@tdkt.gov.vn")
    resp = issuer.post("/admin/staff/TTTT-010/edit", data={**STAFF_FORM, "code": "HACK-1", "title": "Trưởng ban"})
    assert resp.status_code == 302
    session.expire_all()
    assert session.scalars(select(Staff)).one().title == "Trưởng ban"
    assert session.scalars(select(Staff.code)).one() == "TTTT-010"  # the code never changes
    add_person(session, code="TTTT-001", name="Nguyễn Văn Đức")

    def found(query: str) -> list[str]:
        return re.findall(r'data-staff="([^"]+)"', issuer.get("/admin/staff" + query).data.decode())

    assert found("") == ["TTTT-001", "TTTT-010"]
    assert found("?q=nguyen van duc") == ["TTTT-001"]
    assert found("?q=ĐỨC") == ["TTTT-001"]
    assert found("?q=%2B84%20903%20111%20222") == ["TTTT-010"]
    assert found("?q=tttt-01") == ["TTTT-010"]
    assert found("?q=huy.lq@TDKT.gov.vn") == ["TTTT-010"]
    assert found("?q=%25") == []  # LIKE wildcards are literal
    assert found("?status=suspended") == []
    assert found("?status=active&q=huy") == ["TTTT-010"]
    actions = [(e.actor, e.action) for e in audit_log(session)]
    assert ("issuer-ann", "staff.add") in actions and ("issuer-ann", "staff.update") in actions


def test_photo_upload_resizes_and_strips_exif(issuer, session):
    add_person(session)
    original = jpeg_with_exif((1200, 1600))
    assert b"SecretCam" in original
    resp = issuer.post(
        "/admin/staff/TTTT-001/photo",
        data={"photo": (io.BytesIO(original), "me.jpg")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    session.expire_all()
    person = session.scalars(select(Staff)).one()
    stored = person.photo
    assert person.photo_mime == "image/jpeg"
    assert b"SecretCam" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert img.size == (480, 640)
        assert not img.getexif()
    served = issuer.get("/admin/staff/TTTT-001/photo")
    assert served.status_code == 200 and served.data == stored
    assert audit_log(session)[-1].action == "staff.photo"


def _bomb_png() -> bytes:
    """A tiny PNG that declares 60000 x 60000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"%PDF-1.4 not an image",
        b"<html><script>alert(1)</script></html>",
        b"GIF89a" + b"\x00" * 100,
        png_bytes()[:40],  # truncated
        _bomb_png(),
        b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024 + 10),  # over 5 MB
    ],
    ids=["empty", "pdf", "html", "gif", "truncated-png", "pixel-bomb", "over-5mb"],
)
def test_photo_upload_refuses_junk(issuer, session, payload):
    add_person(session)
    resp = issuer.post(
        "/admin/staff/TTTT-001/photo",
        data={"photo": (io.BytesIO(payload), "photo.jpg")},
        content_type="multipart/form-data",
    )
    assert resp.status_code in (400, 413)
    session.expire_all()
    assert session.scalars(select(Staff)).one().photo is None


def test_issue_revoke_and_public_verdict(issuer, client, session):
    add_person(session)
    assert issuer.post("/admin/staff/TTTT-001/credentials", data={"days": "30"}).status_code == 400  # unconfirmed
    assert session.scalar(select(Credential.id)) is None
    for days in ("0", "abc", "99999"):
        assert (
            issuer.post("/admin/staff/TTTT-001/credentials", data={"days": days, "confirm": "yes"}).status_code == 400
        )
    resp = issuer.post("/admin/staff/TTTT-001/credentials", data={"days": "30", "confirm": "yes"})
    assert resp.status_code == 302
    cred = session.scalars(select(Credential)).one()
    assert resp.location == f"/admin/credentials/{cred.id}"
    assert (cred.expires_at - cred.issued_at) == timedelta(days=30)
    assert cred.issued_by == "issuer-ann"
    assert verdict(client, cred.token) == "valid"
    page = issuer.get(f"/admin/credentials/{cred.id}").data.decode()
    assert f"/v/{cred.token}" in page
    card = issuer.get(f"/admin/credentials/{cred.id}/card")
    assert card.status_code == 200 and b"<svg" in card.data and b"card.css" in card.data
    assert issuer.post(f"/admin/credentials/{cred.id}/status", data={"to": "revoked"}).status_code == 400
    bogus = issuer.post(f"/admin/credentials/{cred.id}/status", data={"to": "bogus", "confirm": "yes"})
    assert bogus.status_code == 400 and "Trạng thái không hợp lệ" in bogus.get_data(as_text=True)  # the page's language
    resp = issuer.post(
        f"/admin/credentials/{cred.id}/status", data={"to": "suspended", "reason": "mất thẻ", "confirm": "yes"}
    )
    assert resp.status_code == 302 and verdict(client, cred.token) == "suspended"
    issuer.post(f"/admin/credentials/{cred.id}/status", data={"to": "revoked", "reason": "nghỉ việc", "confirm": "yes"})
    assert verdict(client, cred.token) == "revoked"
    again = issuer.post(f"/admin/credentials/{cred.id}/status", data={"to": "valid", "reason": "x", "confirm": "yes"})
    assert again.status_code == 409  # revoked is final
    actions = [(e.actor, e.action, e.details.get("reason")) for e in audit_log(session)]
    assert ("issuer-ann", "credential.issue", None) in actions
    assert ("issuer-ann", "staff.suspend", "mất thẻ") in actions or (
        "issuer-ann",
        "credential.suspend",
        "mất thẻ",
    ) in actions
    assert ("issuer-ann", "credential.revoke", "nghỉ việc") in actions


def test_staff_status_follows_to_credentials(issuer, client, session, master):
    add_person(session)
    cred = issue(session, master)
    assert issuer.post("/admin/staff/TTTT-001/status", data={"to": "suspended", "reason": "x"}).status_code == 400
    resp = issuer.post("/admin/staff/TTTT-001/status", data={"to": "suspended", "reason": "điều tra", "confirm": "yes"})
    assert resp.status_code == 302
    assert verdict(client, cred.token) == "suspended"
    issuer.post("/admin/staff/TTTT-001/status", data={"to": "departed", "reason": "nghỉ hưu", "confirm": "yes"})
    assert verdict(client, cred.token) == "revoked"
    assert issuer.post("/admin/staff/TTTT-001/status", data={"to": "active", "confirm": "yes"}).status_code == 409
    session.expire_all()
    assert session.scalars(select(Staff)).one().status is StaffStatus.DEPARTED


def test_keys_rotate_and_revoke_by_typing_the_kid(admin, client, session, master):
    add_person(session)
    cred = issue(session, master)
    old_kid = cred.key.kid
    assert admin.post("/admin/keys/rotate").status_code == 400  # unconfirmed
    assert admin.post("/admin/keys/rotate", data={"confirm": "yes"}).status_code == 302
    session.expire_all()
    states = {k.kid: k.state for k in key_service.list_keys(session)}
    assert states[old_kid] is KeyState.RETIRED
    assert verdict(client, cred.token) == "valid"  # rotation never breaks a credential
    for typed in ("", old_kid[:-1], old_kid.lower() + "x", " " + old_kid[1:]):
        resp = admin.post(f"/admin/keys/{old_kid}/revoke", data={"confirm_kid": typed, "reason": "lộ khóa"})
        assert resp.status_code == 400
    assert verdict(client, cred.token) == "valid"
    resp = admin.post(f"/admin/keys/{old_kid}/revoke", data={"confirm_kid": old_kid, "reason": "lộ khóa"})
    assert resp.status_code == 302
    assert verdict(client, cred.token) == "key_revoked"
    # an unknown key is not found, whatever family the error comes from (issue 12)
    assert admin.post("/admin/keys/nope/revoke", data={"confirm_kid": "nope"}).status_code == 404
    assert admin.post(f"/admin/keys/{old_kid}/revoke", data={"confirm_kid": old_kid}).status_code == 409
    page = admin.get("/admin/keys").data.decode()
    assert old_kid in page and "revoked" in page
    actions = [(e.actor, e.action, e.target) for e in audit_log(session)]
    assert ("admin-bao", "key.revoke", old_kid) in actions
    assert any(a == ("admin-bao", "key.rotate") for a in [(x, y) for x, y, _t in actions])


def test_channels_add_and_remove(admin, client, session):
    resp = admin.post("/admin/channels", data={"kind": "email", "value": "TTTTT@tdkt.gov.vn", "label": "Hộp thư"})
    assert resp.status_code == 302
    assert 'data-channel="email:ttttt@tdkt.gov.vn"' in admin.get("/admin/channels").data.decode()
    assert admin.post("/admin/channels", data={"kind": "fax", "value": "1", "label": "x"}).status_code == 400
    dup = admin.post("/admin/channels", data={"kind": "email", "value": "ttttt@tdkt.gov.vn", "label": "again"})
    assert dup.status_code == 409
    assert admin.post("/admin/channels/remove", data={"kind": "email", "value": "ttttt@tdkt.gov.vn"}).status_code == 400
    resp = admin.post("/admin/channels/remove", data={"kind": "email", "value": "ttttt@tdkt.gov.vn", "confirm": "yes"})
    assert resp.status_code == 302
    assert "data-channel=" not in admin.get("/admin/channels").data.decode()
    assert [e.action for e in audit_log(session) if e.actor == "admin-bao"] == ["channel.add", "channel.remove"]


def test_live_code_enrolment(issuer, session, master):
    import pyotp

    from registry.livecode import service as livecode

    add_person(session)
    assert b'data-enrolled="no"' in issuer.get("/admin/staff/TTTT-001/live-code").data
    assert issuer.post("/admin/staff/TTTT-001/live-code").status_code == 400
    page = issuer.post("/admin/staff/TTTT-001/live-code", data={"confirm": "yes"}).data.decode()
    uri = must(re.search(r"data-otpauth>([^<]+)<", page)).group(1).replace("&amp;", "&")
    secret = pyotp.parse_uri(uri).secret
    now = NOW
    result = livecode.check_code(session, master, "TTTT-001", pyotp.TOTP(secret).at(now), at=now)
    assert result.answer.value == "valid"
    assert b'data-enrolled="yes"' in issuer.get("/admin/staff/TTTT-001/live-code").data
    assert ("issuer-ann", "live_code.enrol") in [(e.actor, e.action) for e in audit_log(session)]


def test_assignment_issue_and_revoke(issuer, client, session):
    add_person(session)
    form = {"agency": "Sở Nội vụ Hà Nội", "purpose": "Bài viết điển hình tiên tiến", "days": "14"}
    assert issuer.post("/admin/staff/TTTT-001/assignments", data=form).status_code == 400  # unconfirmed
    resp = issuer.post("/admin/staff/TTTT-001/assignments", data={**form, "confirm": "yes"})
    assert resp.status_code == 302
    assignment_id = resp.location.rsplit("/", 1)[1]
    detail = issuer.get(resp.location).data.decode()
    token = must(re.search(r'/v/([A-Za-z0-9_.-]+)/letter"', detail)).group(1)
    assert verdict(client, token) == "valid"
    assert "Sở Nội vụ Hà Nội" in issuer.get("/admin/assignments").data.decode()
    resp = issuer.post(
        f"/admin/assignments/{assignment_id}/status", data={"to": "revoked", "reason": "hủy", "confirm": "yes"}
    )
    assert resp.status_code == 302
    assert verdict(client, token) == "revoked"
    # a staff credential's status form does not touch assignments, nor the reverse
    assert issuer.post(
        f"/admin/credentials/{assignment_id}/status", data={"to": "valid", "confirm": "yes"}
    ).status_code in (
        404,
        409,
    )


def test_report_triage_and_evidence(app, session, master):
    reviewer, _ = make_admin(session, master, AdminRole.REVIEWER, "rev-chi")
    client = sign_in_client(app.test_client(), reviewer)
    report = make_report(app, session, text=f"Yêu cầu nộp phí {XSS}")
    ref = report.reference
    queue = client.get("/admin/reports").data.decode()
    assert ref in queue
    assert re.findall(r'data-report="([^"]+)"', client.get("/admin/reports?status=confirmed").data.decode()) == []
    detail = client.get(f"/admin/reports/{ref}").data.decode()
    assert "Yêu cầu nộp phí &lt;script&gt;" in detail
    assert client.post(f"/admin/reports/{ref}/triage", data={"to": "confirmed", "note": "x"}).status_code == 409
    assert client.post(f"/admin/reports/{ref}/triage", data={"to": "reviewing"}).status_code == 302
    assert client.post(f"/admin/reports/{ref}/triage", data={"to": "confirmed"}).status_code == 400  # note required
    assert client.post(f"/admin/reports/{ref}/triage", data={"to": "nope"}).status_code == 400
    resp = client.post(f"/admin/reports/{ref}/triage", data={"to": "confirmed", "note": "Đã xác minh với Sở"})
    assert resp.status_code == 302
    session.expire_all()
    stored = session.scalars(select(Report)).one()
    assert stored.status is ReportStatus.CONFIRMED and stored.triaged_by == "rev-chi"
    file_id = stored.files[0].public_id
    served = client.get(f"/admin/reports/{ref}/files/{file_id}")
    assert served.status_code == 200 and served.data == png_bytes()
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/admin/reports/{ref}/files/nope").status_code == 404
    assert client.get("/admin/reports/BC-2026-999999").status_code == 404
    assert app.test_client().get(f"/admin/reports/{ref}/files/{file_id}").status_code == 302  # signed out
    triaged = [(e.actor, e.details["to"]) for e in audit_log(session) if e.action == "report.triage"]
    assert triaged == [("rev-chi", "reviewing"), ("rev-chi", "confirmed")]


def test_dashboard_counts_and_weekly_chart(app, session, master):
    from verify.reports.chart import CHART_WEEKS, weekly_report_counts

    add_person(session)
    add_person(session, code="TTTT-002", name="Trần Thị Minh Hằng")
    add_person(session, code="TTTT-003", name="Lê Quang Huy")
    c1 = issue(session, master, "TTTT-001")
    issue(session, master, "TTTT-002")
    from registry.credentials import service as credentials
    from registry.staff import service as staff

    credentials.change_status(session, c1.id, CredentialStatus.REVOKED, actor="t", now=NOW)
    staff.change_status(session, "TTTT-003", StaffStatus.SUSPENDED, actor="t", now=NOW)
    session.commit()
    now = NOW
    for _ in range(3):
        make_report(app, session)
    old = make_report(app, session)
    old.created_at = now - timedelta(weeks=10)
    ancient = make_report(app, session)
    ancient.created_at = now - timedelta(weeks=40)  # outside the six months
    session.commit()
    weeks = weekly_report_counts(session, at=now)
    assert len(weeks) == CHART_WEEKS
    assert weeks[-1][1] == 3
    assert weeks[-11][1] == 1
    assert sum(c for _, c in weeks) == 4
    user, _ = make_admin(session, master, AdminRole.REVIEWER)
    page = sign_in_client(app.test_client(), user).get("/admin/").data.decode()
    assert re.search(r'data-count="active_staff"><span class="tile-n">2<', page)
    assert re.search(r'data-count="valid"><span class="tile-n">1<', page)
    assert re.search(r'data-count="revoked"><span class="tile-n">1<', page)
    assert page.count('class="bar"') == CHART_WEEKS
    assert re.search(r'data-report-status="new">.*?<strong>5</strong>', page)
    counts = [int(n) for n in re.findall(r'class="bar" data-week="[^"]+" data-count="(\d+)"', page)]
    assert counts[-1] == 3 and sum(counts) == 4


def test_pages_answer_in_english_too(app, session, master):
    sample_data(app, session, master)
    client = client_as(app, session, master, AdminRole.ADMIN)
    vi = client.get("/admin/").data.decode()
    assert "Tổng quan" in vi and 'lang="vi"' in vi
    en = client.get("/admin/?lang=en").data.decode()
    assert "Dashboard" in en and 'lang="en"' in en


def test_console_context_does_not_break_renders_outside_requests(runner, session, master, tmp_path):
    """The console's template globals are app-wide; the CLI renders the card without a request."""
    add_person(session)
    cred = issue(session, master)
    out = tmp_path / "card.html"
    result = runner.invoke(args=["credential", "card", cred.id, "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert "Nguyễn Văn Đức" in out.read_text(encoding="utf-8")


def test_registry_errors_are_shown_in_the_page_language(issuer, session):
    """Service errors carry an English template; pages translate it and its words,
    the API and the command line keep the English."""
    resp = issuer.post("/admin/staff/new", data={**STAFF_FORM, "phone": "12"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Trường số điện thoại không phải số điện thoại hợp lệ" in page
    add_person(session, code="TTTT-001", name="Nguyễn Văn Đức")
    session.commit()
    resp = issuer.post("/admin/staff/new", data={**STAFF_FORM, "code": "TTTT-001"})
    assert "Mã cán bộ TTTT-001 đã tồn tại" in resp.get_data(as_text=True)
    resp = issuer.get("/admin/staff/NOPE-9")
    assert resp.status_code == 404 and "Không có cán bộ mang mã NOPE-9" in resp.get_data(as_text=True)
    resp = issuer.post("/admin/staff/new?lang=en", data={**STAFF_FORM, "phone": "12", "lang": "en"})
    assert "phone is not a valid phone number" in resp.get_data(as_text=True)
