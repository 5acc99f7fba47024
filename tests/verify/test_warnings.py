"""Public warnings (issue 15): a confirmed report published without its reporter, on
/warnings and its Atom feed, linked from lookups and the verdict page; withdrawn from
both; an unconfirmed report refused."""

from __future__ import annotations

import json
import re
from typing import Any

import feedparser
import pytest
from factories import NOW, add_person, issue
from flask.testing import FlaskClient, FlaskCliRunner
from helpers_admin import client_as
from helpers_reports import valid_report
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.accounts.models import AdminRole
from registry.audit.models import AuditEntry
from registry.audit.service import verify_chain
from verify.errors import ConflictError, TransitionError, ValidationError
from verify.reports import triage
from verify.reports.models import Report, ReportStatus
from verify.warnings import service
from verify.warnings.models import PublicWarning

# A warning's number is public ("No. 1", /warnings/1) and these tests read it: they run
# on emptied tables, whose identities restart, not in a rolled-back transaction
# (PostgreSQL's sequences do not roll back).
pytestmark = pytest.mark.e2e

REPORTER_NAME = "Trần Thị Lan"
REPORTER_PHONE_SPELLINGS = ("0239 385 5555", "02393855555", "+842393855555", "239 385 5555")
AGENCY = "Sở Nội vụ tỉnh Hà Tĩnh"
WARNING_TEXT = "Đối tượng giả danh phóng viên Trung tâm, đề nghị chuyển tiền phí đăng bài. Không chuyển tiền."


def submit(client: FlaskClient, **overrides: Any) -> str:
    resp = client.post("/api/v1/reports", json=valid_report(**overrides))
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["reference"])


def confirm(session: Session, ref: str) -> None:
    triage.triage(session, ref, ReportStatus.REVIEWING, note=None, actor="reviewer", now=NOW)
    triage.triage(session, ref, ReportStatus.CONFIRMED, note="Đã xác minh với đơn vị", actor="reviewer", now=NOW)
    session.commit()


def published(client: FlaskClient, session: Session, runner: FlaskCliRunner, **overrides: Any) -> dict[str, Any]:
    ref = submit(client, **overrides)
    confirm(session, ref)
    out = runner.invoke(args=["warnings", "publish", ref, "--text", WARNING_TEXT, "--json"])
    assert out.exit_code == 0, out.output
    body: dict[str, Any] = json.loads(out.stdout)
    return body


def assert_no_reporter(text: str) -> None:
    assert REPORTER_NAME not in text
    for spelling in REPORTER_PHONE_SPELLINGS:
        assert spelling not in text
    digits = re.sub(r"\D", "", text)
    assert "2393855555" not in digits


# ---------------------------------------------------------------- publish → page and feed


def test_published_warning_is_on_the_page_and_in_the_feed_without_the_reporter(client, session, runner):
    body = published(client, session, runner)
    assert body["id"] == 1 and body["url"].endswith("/warnings/1")
    page = client.get("/warnings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-warning-id="1"') == 1
    assert WARNING_TEXT in html
    assert "0987 654 321" in html  # the impostor's phone, written the Vietnamese way
    assert "kegia.tdkt@gmail.com" in html
    assert "Đề nghị đơn vị chuyển 5.000.000 đồng phí đăng bài" in html  # what they asked for
    assert "18/11/2026" in html  # the period starts on the day of the contact
    assert "Đối tượng mạo danh lấy tên Nguyễn Văn Đức" in html
    assert "<script" not in html  # readable without JavaScript
    assert_no_reporter(html)
    assert AGENCY not in html  # the reporter did not agree to be named

    feed = client.get("/warnings.atom")
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(feed.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == 1
    entry = parsed.entries[0]
    assert entry.link == "http://localhost/warnings/1" or entry.link.endswith("/warnings/1")
    assert entry.title == "Đối tượng mạo danh lấy tên Nguyễn Văn Đức"
    assert "0987 654 321" in entry.content[0].value and WARNING_TEXT in entry.content[0].value
    assert_no_reporter(feed.get_data(as_text=True))
    assert AGENCY not in feed.get_data(as_text=True)

    detail = client.get("/warnings/1?lang=en")
    assert detail.status_code == 200 and "Impostor using the name Nguyễn Văn Đức" in detail.get_data(as_text=True)


def test_the_agency_is_named_only_when_the_reporter_agreed(client, session, runner):
    published(client, session, runner, publish_agency=True)
    html = client.get("/warnings").get_data(as_text=True)
    assert AGENCY in html
    assert_no_reporter(html)
    assert AGENCY in client.get("/warnings.atom").get_data(as_text=True)


def test_the_feed_answers_if_none_match_and_changes_with_every_publication(client, session, runner):
    empty = client.get("/warnings.atom")
    assert feedparser.parse(empty.data).bozo == 0 and feedparser.parse(empty.data).entries == []
    published(client, session, runner)
    first = client.get("/warnings.atom")
    etag = first.headers["ETag"]
    assert etag and etag != empty.headers["ETag"]
    again = client.get("/warnings.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert first.headers["Cache-Control"] == "no-cache"
    runner.invoke(args=["warnings", "withdraw", "1", "--reason", "Nhầm số"])
    after = client.get("/warnings.atom", headers={"If-None-Match": etag})
    assert after.status_code == 200 and feedparser.parse(after.data).entries == []


def test_the_list_is_newest_first_and_paginated(client, session, runner):
    for i in range(service.PAGE_SIZE + 1):
        ref = submit(client, phone=f"0912 000 {i:03d}", claimed_name=f"Người thứ {i}")
        confirm(session, ref)
        service.publish(session, ref, text=f"Cảnh báo {i}", actor="reviewer", now=NOW.replace(minute=i))
        session.commit()
    first = client.get("/warnings").get_data(as_text=True)
    ids = [int(x) for x in re.findall(r'data-warning-id="(\d+)"', first)]
    assert ids == list(range(service.PAGE_SIZE + 1, 1, -1))
    assert 'rel="next"' in first
    second = client.get("/warnings?page=2").get_data(as_text=True)
    assert re.findall(r'data-warning-id="(\d+)"', second) == ["1"]
    assert client.get("/warnings?page=99").status_code == 200
    assert client.get("/warnings?page=abc").status_code == 200


# ---------------------------------------------------------------- lookups and the verdict page


def test_a_lookup_of_a_warned_identifier_links_to_the_warning(client, session, runner):
    published(client, session, runner)
    for q in ("0987654321", "+84 987 654 321", "kegia.tdkt@GMAIL.com", "0123456789", "fb.com/ke.gia.tdkt"):
        answer = client.get("/api/v1/lookup", query_string={"q": q}).get_json()
        assert answer["answer"] == "reported_impostor", q
        assert [w["id"] for w in answer["public_warnings"]] == [1], q
        assert answer["public_warnings"][0]["url"].endswith("/warnings/1")
    html = client.get("/", query_string={"q": "0987 654 321"}).get_data(as_text=True)
    assert 'class="public-warning-link" data-warning-id="1"' in html and 'href="/warnings/1?lang=vi"' in html
    by_code = client.get("/api/v1/lookup", query_string={"q": "TTTT-999"}).get_json()
    assert [w["id"] for w in by_code["public_warnings"]] == [1]
    other = client.get("/api/v1/lookup", query_string={"q": "0912 111 222"}).get_json()
    assert other["public_warnings"] == []


def test_the_verdict_page_links_to_a_warning_naming_the_cards_staff_code(client, session, runner, master, signing_key):
    add_person(session, code="TTTT-999", name="Nguyễn Văn Đức", phone="0903 222 333")
    token = issue(session, master, "TTTT-999").token
    add_person(session, code="TTTT-002", name="Lê Thị Hoa")
    other = issue(session, master, "TTTT-002").token
    session.commit()
    before = client.get(f"/v/{token}").get_data(as_text=True)
    assert 'data-verdict="valid"' in before and "data-public-warnings" not in before
    published(client, session, runner)  # the report names staff code TTTT-999
    html = client.get(f"/v/{token}").get_data(as_text=True)
    assert 'data-public-warnings="1"' in html and 'data-warning-id="1"' in html
    assert "data-public-warnings" not in client.get(f"/v/{other}").get_data(as_text=True)
    api = client.get("/api/v1/verify", query_string={"token": token}).get_json()
    assert "public_warnings" not in api  # the verify API's answer is unchanged


def test_a_warning_naming_the_holders_own_phone_is_linked_too(client, session, runner, master, signing_key):
    add_person(session, code="TTTT-010", name="Phạm Văn Nam", phone="0987 654 321")
    token = issue(session, master, "TTTT-010").token
    session.commit()
    published(client, session, runner, staff_code="")  # the impostor used Nam's real number
    assert 'data-public-warnings="1"' in client.get(f"/v/{token}").get_data(as_text=True)


# ---------------------------------------------------------------- withdraw, refusals


def test_withdraw_removes_it_from_the_page_the_feed_and_the_lookups(client, session, runner):
    published(client, session, runner)
    out = runner.invoke(args=["warnings", "withdraw", "1", "--reason", "Báo cáo nhầm", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["withdrawn_at"] is not None
    html = client.get("/warnings").get_data(as_text=True)
    assert 'data-warning-id="1"' not in html and 'data-warnings="none"' in html
    assert feedparser.parse(client.get("/warnings.atom").data).entries == []
    gone = client.get("/warnings/1")
    assert gone.status_code == 410 and "Trung tâm đã rút cảnh báo này." in gone.get_data(as_text=True)
    assert client.get("/warnings/2").status_code == 404
    assert client.get("/warnings/99999999999999999999").status_code == 404  # past any integer column
    assert client.get("/api/v1/lookup", query_string={"q": "0987654321"}).get_json()["public_warnings"] == []
    again = runner.invoke(args=["warnings", "withdraw", "1"])
    assert again.exit_code == 1 and "conflict" in again.stderr
    assert runner.invoke(args=["warnings", "withdraw", "7"]).exit_code == 1
    listed = json.loads(runner.invoke(args=["warnings", "list", "--json"]).stdout)
    assert listed["count"] == 1 and listed["warnings"][0]["withdrawn_at"] is not None


def test_an_unconfirmed_report_cannot_be_published(client, session, runner):
    ref = submit(client)
    for status in (None, ReportStatus.REVIEWING, ReportStatus.NOT_IMPERSONATION):
        if status is not None:
            note = "Không phải mạo danh" if status is ReportStatus.NOT_IMPERSONATION else None
            triage.triage(session, ref, status, note=note, actor="reviewer", now=NOW)
            session.commit()
        out = runner.invoke(args=["warnings", "publish", ref, "--text", WARNING_TEXT])
        assert out.exit_code == 1 and "invalid_transition" in out.stderr, (status, out.output)
        with pytest.raises(TransitionError):
            service.publish(session, ref, text=WARNING_TEXT, actor="reviewer", now=NOW)
    assert session.scalar(select(PublicWarning.id)) is None
    assert client.get("/warnings").get_data(as_text=True).count("data-warning-id") == 0


def test_a_warning_whose_report_is_reopened_is_hidden_until_confirmed_again(client, session, runner):
    body = published(client, session, runner)
    ref = body["report"]
    triage.triage(session, ref, ReportStatus.REVIEWING, note=None, actor="reviewer", now=NOW)
    session.commit()
    assert client.get("/warnings/1").status_code == 410
    assert 'data-warning-id="1"' not in client.get("/warnings").get_data(as_text=True)
    triage.triage(session, ref, ReportStatus.CONFIRMED, note="Xác nhận lại", actor="reviewer", now=NOW)
    session.commit()
    assert client.get("/warnings/1").status_code == 200


def test_refusals_publishing(client, session, runner):
    ref = submit(client)
    confirm(session, ref)
    with pytest.raises(ValidationError) as empty:
        service.publish(session, ref, text="  ", actor="r", now=NOW)
    assert empty.value.field == "text"
    with pytest.raises(ValidationError) as hidden:
        service.publish(session, ref, text="Cảnh báo\u202ekhẩn", actor="r", now=NOW)
    assert hidden.value.code == "format_characters"
    for leak in ("Liên hệ chị tran thi lan để biết thêm", "Do Sở Nội vụ tỉnh Hà Tĩnh báo cáo"):
        with pytest.raises(ValidationError) as names:
            service.publish(session, ref, text=leak, actor="r", now=NOW)
        assert names.value.field == "text"
    with pytest.raises(ValidationError):
        service.publish(session, ref, text=WARNING_TEXT, asked="Gọi cho Trần Thị Lan", actor="r", now=NOW)
    service.publish(session, ref, text=WARNING_TEXT, actor="r", now=NOW)
    session.commit()
    with pytest.raises(ConflictError):
        service.publish(session, ref, text=WARNING_TEXT, actor="r", now=NOW)
    out = runner.invoke(args=["warnings", "publish", "BC-2026-999999", "--text", "x"])
    assert out.exit_code == 1 and "not_found" in out.stderr


# ---------------------------------------------------------------- the console


def test_a_reviewer_publishes_and_withdraws_from_the_console(app, client, session, master):
    ref = submit(client)
    confirm(session, ref)
    reviewer = client_as(app, session, master, AdminRole.REVIEWER)
    detail = reviewer.get(f"/admin/reports/{ref}").get_data(as_text=True)
    assert f'href="/admin/reports/{ref}/warning"' in detail
    form = reviewer.get(f"/admin/reports/{ref}/warning")
    assert form.status_code == 200 and "Đề nghị đơn vị chuyển 5.000.000 đồng" in form.get_data(as_text=True)
    resp = reviewer.post(f"/admin/reports/{ref}/warning", data={"text": WARNING_TEXT, "asked": "Phí đăng bài"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/warnings")
    listing = reviewer.get("/admin/warnings").get_data(as_text=True)
    assert 'data-warning="1"' in listing and 'data-state="published"' in listing
    assert "Phí đăng bài" in client.get("/warnings/1").get_data(as_text=True)
    refused = reviewer.post("/admin/warnings/1/withdraw", data={"reason": "Nhầm"})  # no confirmation box
    assert refused.status_code == 400
    resp = reviewer.post("/admin/warnings/1/withdraw", data={"reason": "Nhầm", "confirm": "yes"})
    assert resp.status_code == 302
    assert 'data-state="withdrawn"' in reviewer.get("/admin/warnings").get_data(as_text=True)
    actions = [(e.action, e.target) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert ("warning.publish", "1") in actions and ("warning.withdraw", "1") in actions
    assert verify_chain(session).ok


def test_the_console_refuses_to_publish_an_unconfirmed_report_and_an_issuer(app, client, session, master):
    ref = submit(client)
    reviewer = client_as(app, session, master, AdminRole.REVIEWER)
    page = reviewer.get(f"/admin/reports/{ref}/warning")
    assert page.status_code == 200 and 'name="text"' not in page.get_data(as_text=True)
    resp = reviewer.post(f"/admin/reports/{ref}/warning", data={"text": WARNING_TEXT})
    assert resp.status_code == 409
    confirm(session, ref)
    issuer = client_as(app, session, master, AdminRole.ISSUER)
    assert issuer.post(f"/admin/reports/{ref}/warning", data={"text": WARNING_TEXT}).status_code == 403
    assert session.scalar(select(PublicWarning.id)) is None


# ---------------------------------------------------------------- the reporter's consent


def test_the_reporters_consent_is_read_from_the_form_and_the_api(client, session):
    ref = submit(client, publish_agency=True)
    assert session.scalar(select(Report.publish_agency).where(Report.reference == ref)) is True
    assert session.scalar(select(Report.publish_agency).where(Report.reference == submit(client))) is False
    bad = client.post("/api/v1/reports", json=valid_report(publish_agency="maybe"))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "publish_agency"
    form = {k: str(v) for k, v in valid_report().items()}
    resp = client.post("/report", data={**form, "publish_agency": "1"})
    assert resp.status_code == 303
    newest = session.scalars(select(Report).order_by(Report.id.desc())).first()
    assert newest is not None and newest.publish_agency is True
    assert 'name="publish_agency"' in client.get("/report").get_data(as_text=True)
