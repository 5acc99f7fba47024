"""Issue 11: evidence uploads have a per-network daily byte quota and a global one.
A refusal is a clear 4xx naming the evidence field; the report is not lost: the form
keeps what was typed and says to send it without the files, and a report without
files is still accepted. The count is shared by every instance on one database,
and the database never holds the address."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, app_config
from flask import Flask
from helpers_reports import form_data, stored_evidence, valid_report
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import create_app
from keys.contract import VN_TZ
from registry.platform.db import dispose_engines
from verify.errors import EvidenceError
from verify.reports import evidence
from verify.reports import quota as evidence_quota
from verify.reports.evidence import Upload
from verify.reports.intake import submit_report
from verify.reports.models import EvidenceQuota, Report, ReportFile
from verify.reports.validation import validate_report

KB = 1024
ONE_MB_QUOTA = {"EVIDENCE_QUOTA_PER_ADDRESS_MB": 1}
HANOI = "10.1.1.1"


def pdf_of(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes: what matters here is only how many."""
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    return head + b"%" * (size - len(head) - len(tail)) + tail


def _multipart(size: int | None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = form_data(**overrides)
    if size is not None:
        data["evidence"] = [(io.BytesIO(pdf_of(size)), "cong-van.pdf")]
    return data


def post_report(client: Any, size: int | None, *, address: str = HANOI, path: str = "/api/v1/reports") -> Any:
    return client.post(
        path, data=_multipart(size), content_type="multipart/form-data", environ_base={"REMOTE_ADDR": address}
    )


def _files(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(ReportFile)) or 0)


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_per_address_quota_refuses_the_files_with_429_and_retry_after(
    app: Flask, client: Any, session: Session
) -> None:
    assert post_report(client, 600 * KB).status_code == 201
    resp = post_report(client, 600 * KB)
    assert resp.status_code == 429
    error = resp.json["error"]
    assert error["code"] == "evidence_quota_exceeded"
    assert error["field"] == "evidence"
    assert "hôm nay còn 0,4 MB" in error["message"]  # 1 MB less 600 KB, in Vietnamese by default
    assert 0 < int(resp.headers["Retry-After"]) <= 24 * 3600
    assert _files(session) == 1
    assert len(stored_evidence(session)) == 1  # nothing of the refused report stored
    assert session.scalar(select(func.count()).select_from(Report)) == 1
    # what fits is still accepted, and so is a report without files
    assert post_report(client, 300 * KB).status_code == 201
    assert post_report(client, None).status_code == 201
    # another network has its own allowance
    assert post_report(client, 600 * KB, address="10.2.2.2").status_code == 201


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_one_request_above_the_whole_allowance_is_refused(client: Any, session: Session) -> None:
    resp = post_report(client, 1100 * KB)
    assert resp.status_code == 429
    assert resp.json["error"]["code"] == "evidence_quota_exceeded"
    assert _files(session) == 0


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_the_form_keeps_what_was_typed_and_says_to_send_without_files(client: Any, session: Session) -> None:
    assert post_report(client, 900 * KB, path="/report").status_code == 303
    resp = post_report(client, 900 * KB, path="/report")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert "Retry-After" in resp.headers
    assert 'id="evidence-error"' in html
    assert "Hãy gửi báo cáo không kèm tệp" in html  # Vietnamese by default
    assert "hãy gửi lại mà không kèm tệp" in html
    assert "vui lòng đính kèm lại" not in html  # not the usual "attach them again"
    assert 'value="Nguyễn Văn Đức"' in html
    assert "Đề nghị đơn vị chuyển 5.000.000 đồng" in html
    # sent again as it came back, without the files: accepted
    resent = client.post(
        "/report", data=_multipart(None), content_type="multipart/form-data", environ_base={"REMOTE_ADDR": HANOI}
    )
    assert resent.status_code == 303
    assert session.scalar(select(func.count()).select_from(Report)) == 2


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_the_form_in_english(client: Any) -> None:
    assert post_report(client, 900 * KB).status_code == 201
    html = post_report(client, 900 * KB, path="/report?lang=en").get_data(as_text=True)
    assert "limited to 1 MB a day, and 0.1 MB are left today" in html
    assert "send it again without the files" in html


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_the_allowance_is_new_each_day_in_viet_nam(client: Any, clock: Any) -> None:
    clock.at = datetime(2026, 12, 5, 16, 59, tzinfo=UTC)  # 23:59
    assert post_report(client, 900 * KB).status_code == 201
    refused = post_report(client, 900 * KB)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    clock.at = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)  # 00:00
    assert post_report(client, 900 * KB).status_code == 201


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_past_days_are_forgotten(client: Any, session: Session, clock: Any) -> None:
    clock.at = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    post_report(client, 100 * KB)
    clock.at = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    post_report(client, 100 * KB, address="10.9.9.9")
    session.expire_all()
    assert [str(d) for d in session.scalars(select(EvidenceQuota.day))] == ["2026-12-05"]


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_the_database_holds_a_keyed_hash_not_the_address(client: Any, session: Session, db_engine: Any) -> None:
    post_report(client, 100 * KB)
    with db_engine.connect() as conn:
        rows = [tuple(str(v) for v in row) for row in conn.execute(text("SELECT * FROM evidence_quota"))]
    assert len(rows) == 1
    assert not any(HANOI in value for value in rows[0])
    key = rows[0][0]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    day = NOW.astimezone(VN_TZ).date()
    assert key == evidence_quota.network_key(b"test-secret-key-not-for-production", HANOI, day)
    assert key != evidence_quota.network_key(b"another secret", HANOI, day)


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_one_ipv6_subscriber_is_one_network(client: Any) -> None:
    assert post_report(client, 600 * KB, address="2001:db8:1:2::1").status_code == 201
    assert post_report(client, 600 * KB, address="2001:db8:1:2:ffff::9").status_code == 429  # same /64
    assert post_report(client, 600 * KB, address="2001:db8:1:3::1").status_code == 201  # the next /64


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("10.1.1.1", "10.1.1.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:10.1.1.1", "10.1.1.1"),
        ("", ""),
    ],
)
def test_client_network(address: str, network: str) -> None:
    assert evidence_quota.client_network(address) == network


@pytest.fixture()
def second_instance(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Another app instance on the same database, as behind nginx in production."""
    other = create_app(app_config(database_url, tmp_path / "other-instance", **ONE_MB_QUOTA))
    yield other
    dispose_engines(other)


@pytest.mark.parametrize("app", [ONE_MB_QUOTA], indirect=True)
def test_the_count_is_shared_by_every_instance(client: Any, second_instance: Flask) -> None:
    assert post_report(client, 600 * KB).status_code == 201
    resp = post_report(second_instance.test_client(), 600 * KB)
    assert resp.status_code == 429
    assert resp.json["error"]["code"] == "evidence_quota_exceeded"


@pytest.mark.parametrize("app", [{"EVIDENCE_QUOTA_TOTAL_MB": 1}], indirect=True)
def test_global_quota_counts_the_evidence_rows(app: Flask, client: Any, session: Session) -> None:
    assert post_report(client, 600 * KB).status_code == 201
    resp = post_report(client, 600 * KB, address="10.3.3.3")
    assert resp.status_code == 413
    assert resp.json["error"]["code"] == "evidence_storage_full"
    assert resp.json["error"]["field"] == "evidence"
    assert "Retry-After" not in resp.headers
    assert _files(session) == 1
    assert post_report(client, None, address="10.3.3.3").status_code == 201  # the report itself still goes in
    page = post_report(client, 600 * KB, address="10.3.3.3", path="/report")
    assert page.status_code == 413
    assert "kho lưu tệp chứng cứ của Trung tâm đã đầy" in page.get_data(as_text=True)


@pytest.mark.parametrize("app", [{"EVIDENCE_QUOTA_TOTAL_MB": 0}], indirect=True)
def test_total_zero_refuses_every_file(client: Any) -> None:
    assert post_report(client, 10 * KB).status_code == 413
    assert client.post("/api/v1/reports", json=valid_report()).status_code == 201


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("EVIDENCE_QUOTA_PER_ADDRESS_MB", "25")
    application = create_app(app_config(database_url, tmp_path / "instance"))
    try:
        assert application.config["EVIDENCE_QUOTA_PER_ADDRESS_MB"] == 25
        assert application.config["EVIDENCE_QUOTA_TOTAL_MB"] == 10 * 1024
    finally:
        dispose_engines(application)


def test_two_reports_at_once_cannot_both_squeeze_under_the_limit(app: Flask, tmp_path: Path) -> None:
    """The quota is charged in the report's transaction, after the reference number
    has been taken: a second report waits for the first to commit, then sees its bytes."""
    moment = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    quota = evidence_quota.Quota(network=HANOI, secret=b"k", per_address_bytes=1024 * KB, total_bytes=10**9)
    files = evidence.check_files([Upload("a.pdf", pdf_of(600 * KB))])
    data = validate_report(valid_report(), now=moment)
    make_session = app.extensions["chinhdanh.sessionmaker"]
    first_charged, outcomes = threading.Event(), {}

    def first() -> None:
        with make_session() as session:
            submit_report(session, data, files, source="api", now=moment, quota=quota)
            first_charged.set()
            time.sleep(0.5)  # the second report is now waiting on the reference row
            session.commit()
            outcomes["first"] = "stored"

    def second() -> None:
        first_charged.wait(10)
        with make_session() as session:
            try:
                submit_report(session, data, files, source="api", now=moment, quota=quota)
                session.commit()
                outcomes["second"] = "stored"
            except EvidenceError as exc:
                session.rollback()
                outcomes["second"] = exc.code

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {"first": "stored", "second": "evidence_quota_exceeded"}
