"""Alerts to the genuine staff member (issue 15), against a real SMTP server on
loopback (aiosmtpd): a wrong live code and a report naming them each give one mail
after ``outbox deliver``, a server failing twice then accepting gets each message
exactly once, nobody else receives anything, and no reporter appears in any mail."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from factories import NOW, VN_TODAY, FrozenClock, add_person, app_config, issue
from fixtures.database import empty_tables
from flask import Flask
from helpers_smtp import Recorder, smtp_server
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import create_app
from keys.contract import VN_TZ
from keys.crypto import MasterKey
from registry.alerts import service as alerts
from registry.alerts.models import AlertKind
from registry.audit.models import AuditEntry
from registry.livecode import service as livecode
from registry.outbox.models import OutboxMessage, OutboxStatus
from registry.platform.config import ConfigError
from registry.platform.db import dispose_engines

MAIL_FROM = "canhbao@xacminh.tdkt.gov.vn"
STAFF_EMAIL = "duc.nv@tdkt.gov.vn"
OTHER_EMAIL = "hoa.lt@tdkt.gov.vn"
REPORTER = "Trần Thị Lan, 0239 385 5555"
AGENCY = "Sở Nội vụ tỉnh Hà Tĩnh"


@pytest.fixture()
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture()
def smtp_url(recorder: Recorder) -> Iterator[str]:
    with smtp_server(recorder) as url:
        yield url


@pytest.fixture()
def mail_app(
    database_url: str, db_engine: Engine, tmp_path: Path, clock: FrozenClock, smtp_url: str
) -> Iterator[Flask]:
    """The app with SMTP configured; alerts wait for ``outbox deliver`` (no background thread)."""
    config = app_config(
        database_url,
        tmp_path / "instance",
        CLOCK=clock,
        SMTP_URL=smtp_url,
        MAIL_FROM=MAIL_FROM,
        MAIL_SEND_AT_ONCE=False,
    )
    application = create_app(config)
    yield application
    dispose_engines(application)
    empty_tables(db_engine)


@pytest.fixture()
def db(mail_app: Flask) -> Iterator[Session]:
    s: Session = mail_app.extensions["chinhdanh.sessionmaker"]()
    yield s
    s.close()


def vn(moment: Any) -> str:
    """A moment as the mails write it (Viet Nam time)."""
    return str(moment.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y"))


def enrolled(db: Session, master: MasterKey, code: str = "TTTT-001", **fields: Any) -> str:
    add_person(db, code=code, **fields)
    uri = livecode.enrol(db, master, code, actor="test", now=NOW).otpauth_uri
    db.commit()
    return str(pyotp.parse_uri(uri).secret)


def wrong_code(secret: str, clock: FrozenClock) -> str:
    right = pyotp.TOTP(secret).at(int(clock.at.timestamp()))
    return f"{(int(right) + 500_000) % 1_000_000:06d}"


def deliver(app: Flask) -> dict[str, Any]:
    out = app.test_cli_runner().invoke(args=["outbox", "deliver", "--json"])
    assert out.exit_code == 0, out.output
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def all_text(recorder: Recorder) -> str:
    return "\n".join(r.raw.decode("utf-8", "replace") + "\n" + r.text for r in recorder.received)


def assert_no_reporter(recorder: Recorder) -> None:
    text = all_text(recorder)
    digits = re.sub(r"\D", "", text)
    assert "Trần Thị Lan" not in text and "2393855555" not in digits and AGENCY not in text


# ---------------------------------------------------------------- live codes


def test_wrong_live_codes_give_one_mail_an_hour_with_the_count(mail_app, db, master, clock, recorder):
    secret = enrolled(db, master, email=STAFF_EMAIL)
    enrolled(db, master, code="TTTT-002", name="Lê Thị Hoa", email=OTHER_EMAIL, phone="0913 000 111")
    client = mail_app.test_client()
    for minute in (0, 1, 2):
        clock.at = NOW + timedelta(minutes=minute)
        resp = client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong_code(secret, clock)})
        assert resp.get_json()["answer"] == "invalid"
    assert recorder.received == []  # nothing is sent before the outbox is delivered
    assert deliver(mail_app)["delivered"] == 1
    assert len(recorder.received) == 1
    mail = recorder.received[0]
    assert mail.rcpt_tos == [STAFF_EMAIL] and mail.mail_from == MAIL_FROM
    assert mail.message["To"] == STAFF_EMAIL and mail.message["From"] == MAIL_FROM
    assert mail.message["Subject"] == "[Cảnh báo] Mã xác minh của cán bộ TTTT-001 bị nhập sai 3 lần"
    assert mail.message["Message-ID"].endswith("@alerts.chinhdanh>")
    assert "3 lần nhập sai mã xác minh trực tiếp" in mail.text
    assert f"từ {vn(NOW)} đến {vn(NOW + timedelta(minutes=2))}" in mail.text  # Viet Nam time
    assert "báo ngay cho Trung tâm" in mail.text  # what to do

    # within the hour: counted, not mailed; the next hour's mail tells of it
    clock.at = NOW + timedelta(minutes=30)
    client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong_code(secret, clock)})
    assert deliver(mail_app)["delivered"] == 0 and len(recorder.received) == 1
    clock.at = NOW + timedelta(minutes=65)
    client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong_code(secret, clock)})
    assert deliver(mail_app)["delivered"] == 1
    second = recorder.received[1]
    assert second.message["Subject"].endswith("bị nhập sai 2 lần")
    assert f"từ {vn(NOW + timedelta(minutes=30))} đến {vn(NOW + timedelta(minutes=65))}" in second.text
    assert second.message["Message-ID"] != mail.message["Message-ID"]
    assert {r for m in recorder.received for r in m.rcpt_tos} == {STAFF_EMAIL}  # nobody else
    audited = db.scalars(select(AuditEntry.target).where(AuditEntry.action == "alert.queued")).all()
    assert audited == ["TTTT-001", "TTTT-001"]


def test_the_right_code_and_other_answers_send_nothing(mail_app, db, master, clock, recorder):
    secret = enrolled(db, master, email=STAFF_EMAIL)
    client = mail_app.test_client()
    right = pyotp.TOTP(secret).at(int(clock.at.timestamp()))
    assert client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": right}).get_json()["answer"] == (
        "valid"
    )
    client.post("/api/v1/live-code", json={"staff_code": "TTTT-404", "code": "123456"})
    assert deliver(mail_app)["delivered"] == 0 and recorder.received == []


# ---------------------------------------------------------------- reports


def report(client: Any, **fields: Any) -> str:
    body = {
        "channel": "phone",
        "claimed_name": "Nguyễn Văn A",
        "phone": "0912.345.678",
        "request_text": "Đề nghị chuyển 3.000.000 đồng phí đăng bài.",
        "reporter_agency": AGENCY,
        "reporter_contact": REPORTER,
        **fields,
    }
    resp = client.post("/api/v1/reports", json=body)
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["reference"])


def test_a_report_naming_the_staff_members_phone_mails_them_never_the_reporter(mail_app, db, master, recorder):
    add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
    add_person(db, code="TTTT-002", name="Lê Thị Hoa", phone="0913 000 111", email=OTHER_EMAIL)
    ref = report(mail_app.test_client())
    assert deliver(mail_app)["delivered"] == 1
    assert len(recorder.received) == 1
    mail = recorder.received[0]
    assert mail.rcpt_tos == [STAFF_EMAIL]
    assert mail.message["Subject"] == f"[Cảnh báo] Một báo cáo mạo danh nêu thông tin của anh/chị ({ref})"
    assert f"số {ref}" in mail.text and "có nêu số điện thoại của anh/chị (mã cán bộ TTTT-001)" in mail.text
    assert "Họ tên tự xưng: Nguyễn Văn A" in mail.text
    assert_no_reporter(recorder)


def test_a_report_naming_email_or_name_mails_each_person_once(mail_app, db, master, recorder):
    add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
    add_person(db, code="TTTT-002", name="Lê Thị Hoa", phone="0913 000 111", email=OTHER_EMAIL)
    add_person(db, code="TTTT-003", name="Phạm Văn Nam", phone="0914 000 222", email=None)  # no email: no mail
    report(mail_app.test_client(), phone="0912 345 678", email="Hoa.LT@tdkt.gov.vn", claimed_name="Phạm Văn Nam")
    assert deliver(mail_app)["delivered"] == 2
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == [STAFF_EMAIL, OTHER_EMAIL]
    hoa = next(r for r in recorder.received if r.rcpt_tos == [OTHER_EMAIL])
    assert "có nêu địa chỉ email của anh/chị" in hoa.text
    assert_no_reporter(recorder)


# ---------------------------------------------------------------- retries


def test_a_server_failing_twice_then_accepting_gets_each_message_exactly_once(mail_app, db, master, clock, recorder):
    recorder.fail_first = 2
    add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
    report(mail_app.test_client())
    first = deliver(mail_app)
    assert (first["delivered"], first["retrying"]) == (0, 1) and recorder.received == []
    assert deliver(mail_app)["delivered"] == 0  # not due yet: the backoff holds it
    clock.at = NOW + timedelta(seconds=30)
    assert deliver(mail_app)["retrying"] == 1
    clock.at = NOW + timedelta(seconds=90)
    assert deliver(mail_app)["delivered"] == 1
    clock.at = NOW + timedelta(hours=7)
    assert deliver(mail_app)["delivered"] == 0
    assert recorder.refused == 2 and len(recorder.received) == 1
    message = db.scalars(select(OutboxMessage).where(OutboxMessage.event == "mail.report")).one()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.DELIVERED, 3, None)


def test_an_unreachable_server_keeps_the_mail_for_later(mail_app, db, master, clock):
    add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
    mail_app.extensions["chinhdanh.smtp_server"] = type(mail_app.extensions["chinhdanh.smtp_server"])(
        scheme="smtp", host="127.0.0.1", port=9
    )
    report(mail_app.test_client())
    result = deliver(mail_app)
    assert (result["delivered"], result["retrying"]) == (0, 1)
    message = db.scalars(select(OutboxMessage).where(OutboxMessage.event == "mail.report")).one()
    assert message.status is OutboxStatus.PENDING and message.attempts == 1
    assert message.last_error and "ConnectionRefusedError" in message.last_error


def test_no_password_goes_in_clear_to_a_server_without_starttls(database_url, db_engine, tmp_path, clock):
    recorder = Recorder()
    with smtp_server(recorder, host="127.0.0.2") as url:  # loopback, but not named as this machine
        config = app_config(
            database_url,
            tmp_path / "instance",
            CLOCK=clock,
            SMTP_URL=url.replace("smtp://", "smtp://alerts:s3cret@"),
            MAIL_FROM=MAIL_FROM,
            MAIL_SEND_AT_ONCE=False,
        )
        app = create_app(config)
        try:
            db = app.extensions["chinhdanh.sessionmaker"]()
            add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
            report(app.test_client())
            assert deliver(app)["retrying"] == 1
            message = db.scalars(select(OutboxMessage).where(OutboxMessage.event == "mail.report")).one()
            assert message.last_error == "the SMTP server offers no STARTTLS: the password is not sent in clear"
            assert recorder.received == []
            db.close()
        finally:
            dispose_engines(app)
            empty_tables(db_engine)


def test_the_background_sender_mails_at_once(database_url, db_engine, tmp_path, clock, recorder, smtp_url):
    app = create_app(
        app_config(database_url, tmp_path / "instance", CLOCK=clock, SMTP_URL=smtp_url, MAIL_FROM=MAIL_FROM)
    )
    try:
        db = app.extensions["chinhdanh.sessionmaker"]()
        add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
        report(app.test_client())
        for _ in range(100):
            if recorder.received:
                break
            time.sleep(0.05)
        assert [r.rcpt_tos for r in recorder.received] == [[STAFF_EMAIL]]
        db.close()
    finally:
        dispose_engines(app)
        empty_tables(db_engine)


# ---------------------------------------------------------------- digest, opt-out, configuration


def test_the_daily_digest_lists_the_agencies_that_checked_and_is_queued_once(
    mail_app, db, master, clock, recorder, signing_key
):
    add_person(db, email=STAFF_EMAIL)
    token = issue(db, master).token
    client = mail_app.test_client()
    client.get(f"/v/{token}", query_string={"agency": "UBND tỉnh Nghệ An"})
    client.get("/api/v1/verify", query_string={"token": token, "agency": "Sở Nội vụ Hà Nội"})
    client.get(f"/v/{token}")  # no agency given: not in the digest
    runner = mail_app.test_cli_runner()
    clock.at = NOW + timedelta(days=1)
    first = runner.invoke(args=["alerts", "digest", "--json"])
    assert json.loads(first.stdout) == {"day": VN_TODAY.isoformat(), "queued": 1}
    assert json.loads(runner.invoke(args=["alerts", "digest", "--json"]).stdout)["queued"] == 0
    assert deliver(mail_app)["delivered"] == 1
    mail = recorder.received[0]
    assert mail.rcpt_tos == [STAFF_EMAIL]
    assert mail.message["Subject"] == f"Các lượt kiểm tra thẻ của cán bộ TTTT-001 ngày {VN_TODAY:%d/%m/%Y}"
    assert "2 lượt kiểm tra" in mail.text
    assert "UBND tỉnh Nghệ An (kết quả: valid)" in mail.text and "Sở Nội vụ Hà Nội (kết quả: valid)" in mail.text


def test_a_staff_member_can_turn_each_kind_off(mail_app, db, master, clock, recorder):
    secret = enrolled(db, master, email=STAFF_EMAIL, phone="0912 345 678")
    runner = mail_app.test_cli_runner()
    assert runner.invoke(args=["alerts", "off", "TTTT-001", "live_code"]).exit_code == 0
    client = mail_app.test_client()
    client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong_code(secret, clock)})
    report(client)
    assert deliver(mail_app)["delivered"] == 1
    assert recorder.received[0].message["Subject"].startswith("[Cảnh báo] Một báo cáo mạo danh")
    shown = json.loads(runner.invoke(args=["alerts", "show", "TTTT-001", "--json"]).stdout)
    assert shown["alerts"] == {"live_code": False, "report": True, "digest": True}
    assert runner.invoke(args=["alerts", "off", "TTTT-001", "sms"]).exit_code == 2
    assert runner.invoke(args=["alerts", "off", "TTTT-404", "report"]).exit_code == 1
    settings = db.scalars(select(AuditEntry.details).where(AuditEntry.action == "alert.settings")).all()
    assert settings == [{"kind": "live_code", "on": False}]


def test_the_console_shows_and_saves_the_settings(mail_app, db, master):
    from helpers_admin import client_as

    from registry.accounts.models import AdminRole

    add_person(db, email=STAFF_EMAIL)
    issuer = client_as(mail_app, db, master, AdminRole.ISSUER)
    page = issuer.get("/admin/staff/TTTT-001").get_data(as_text=True)
    assert page.count('data-alert="') == 3 and page.count(" checked") >= 3
    resp = issuer.post("/admin/staff/TTTT-001/alerts", data={"report": "on"})
    assert resp.status_code == 302
    db.expire_all()
    assert alerts.alert_settings(db, "TTTT-001") == {
        AlertKind.LIVE_CODE: False,
        AlertKind.REPORT: True,
        AlertKind.DIGEST: False,
    }
    reviewer = client_as(mail_app, db, master, AdminRole.REVIEWER)
    assert reviewer.post("/admin/staff/TTTT-001/alerts", data={}).status_code == 403


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"SMTP_URL": "smtp://127.0.0.1:2525"}, "MAIL_FROM"),
        ({"SMTP_URL": "http://mail.example", "MAIL_FROM": MAIL_FROM}, "smtp://host"),
        ({"SMTP_URL": "smtp://127.0.0.1:notaport", "MAIL_FROM": MAIL_FROM}, "not a valid URL"),
    ],
)
def test_a_wrong_smtp_configuration_refuses_to_start(tmp_path, settings, says):
    with pytest.raises(ConfigError, match=says):
        create_app(app_config("sqlite://", tmp_path / "instance", **settings))


def test_departed_people_get_no_alert(mail_app, db, master, recorder):
    from registry.staff.models import StaffStatus
    from registry.staff.service import change_status

    add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
    change_status(db, "TTTT-001", StaffStatus.DEPARTED, actor="test", now=NOW)
    db.commit()
    report(mail_app.test_client())
    assert deliver(mail_app)["delivered"] == 0 and recorder.received == []


def test_what_anyone_can_cause_is_bounded(mail_app, db, master, clock, recorder, signing_key):
    """The agency name is typed by whoever checks (no account) and reports are
    anonymous: a flood neither fills the table nor the person's mailbox."""
    from sqlalchemy import func

    from registry.alerts.models import CardCheck

    add_person(db, phone="0912 345 678", email=STAFF_EMAIL)
    token = issue(db, master).token
    client = mail_app.test_client()
    client.get(f"/v/{token}", query_string={"agency": "UBND\u202e tỉnh\u200b Nghệ An\u0007"})
    with mail_app.extensions["chinhdanh.sessionmaker"]() as s:  # a transaction of its own, ended here
        stored = s.scalars(select(CardCheck.agency)).one()
    assert stored == "UBND tỉnh Nghệ An"  # no control or format character reaches a mail
    for i in range(alerts.MAX_CHECKS_PER_DAY + 20):
        client.get("/api/v1/verify", query_string={"token": token, "agency": f"Cơ quan {i}"})
    with mail_app.extensions["chinhdanh.sessionmaker"]() as s:
        assert s.scalar(select(func.count(CardCheck.id))) == alerts.MAX_CHECKS_PER_DAY
    for _ in range(alerts.MAX_REPORT_ALERTS_PER_HOUR + 3):
        report(client)
    assert deliver(mail_app)["delivered"] == alerts.MAX_REPORT_ALERTS_PER_HOUR
    clock.at = NOW + timedelta(minutes=61)  # the next hour: alerts again
    report(client)
    assert deliver(mail_app)["delivered"] == 1
