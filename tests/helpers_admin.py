"""Helpers for the admin console tests: accounts, signed-in clients, and a sample of
every kind of record the console shows (so every page has something to render)."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pyotp
import pytest
from argon2 import PasswordHasher
from factories import BASE_URL, NOW, PASSWORD, add_person, issue, make_admin, make_keys, make_report, png_bytes
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from keys.crypto import MasterKey
from registry.accounts import service as accounts
from registry.accounts import signin
from registry.accounts.auth import ABSOLUTE_TIMEOUT, COOKIE_DEV, IDLE_TIMEOUT
from registry.accounts.models import AdminRole, AdminUser
from registry.sessions import service as server_sessions

# the builders live in factories.py; their names stay importable from here
__all__ = [
    "PASSWORD",
    "XSS",
    "XSS_IMG",
    "Sample",
    "cheap_argon2",
    "client_as",
    "code_at",
    "jpeg_with_exif",
    "make_admin",
    "make_report",
    "must",
    "png_bytes",
    "sample_data",
    "sign_in_client",
    "url_of",
]
XSS = '<script>alert("x")</script>'
XSS_IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture()
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with test-sized parameters: many tests hash a password, and the
    production cost (64 MiB, 3 passes) is measured where it matters, in
    test_auth_timing.py."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(signin, "_dummy_hash", None)


def code_at(secret: str, at: datetime, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(int(at.timestamp()) + steps * 30)


def start_session(app: Flask, user: AdminUser, *, at: datetime | None = None, address: str = "127.0.0.1") -> str:
    """A server session for ``user`` started at ``at`` (committed); returns the
    cookie's value (what ``login`` does after checking password and code; those are
    tested separately over HTTP)."""
    maker = app.extensions["chinhdanh.sessionmaker"]
    with maker() as s:
        fresh = s.get(AdminUser, user.id)
        assert fresh is not None
        raw = server_sessions.start(
            s,
            fresh,
            now=at or NOW,
            address=address,
            user_agent="pytest",
            timeouts=server_sessions.Timeouts(IDLE_TIMEOUT, ABSOLUTE_TIMEOUT),
        )
        s.commit()
    return raw


def sign_in_client(client: FlaskClient, user: AdminUser, *, at: datetime | None = None) -> FlaskClient:
    """Put a valid console session in ``client``'s cookie."""
    client.set_cookie(COOKIE_DEV, start_session(client.application, user, at=at))
    return client


def client_as(app: Flask, session: Session, master: MasterKey, role: AdminRole | None) -> FlaskClient:
    client = app.test_client()
    if role is not None:
        user = accounts.find_account(session, f"{role.value}-user")
        if user is None:
            user, _secret = make_admin(session, master, role)
        sign_in_client(client, user)
    return client


def jpeg_with_exif(size: tuple[int, int] = (1200, 1600)) -> bytes:
    img = Image.new("RGB", size, (200, 120, 80))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "GPS-leaking-software"  # Software
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


@dataclass
class Sample:
    staff_code: str
    credential_id: str
    token: str
    kid: str
    report_ref: str
    file_id: str
    assignment_id: str
    admin: AdminUser

    def route_values(self, **overrides: str) -> dict[str, str]:
        """A value for every argument of the app's routes, mostly this sample's records
        (``overrides`` where a test wants another), for ``url_of``."""
        return {
            "token": self.token,
            "code": self.staff_code,
            "credential_id": self.credential_id,
            "kid": self.kid,
            "reference": self.report_ref,
            "file_id": self.file_id,
            "assignment_id": self.assignment_id,
            "username": "reviewer-user",
            "list_id": "1",
            "filename": "site.css",
            "warning_id": "1",
            "receipt": self.token,  # not a receipt: the refusal page
            "session_id": "999999",  # no such session: 404 for whoever may end sessions
            **overrides,
        }


def url_of(rule: Rule, values: Mapping[str, str]) -> str:
    """``rule``'s path with each of its arguments given its value."""
    url = str(rule.rule)
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{arg}>", values[arg], url)
    return url


def sample_data(app: Flask, session: Session, master: MasterKey, *, name: str = "Nguyễn Văn Đức") -> Sample:
    """One of everything: staff with photo, credential, assignment, channel, report
    with an evidence file, every role's account, a live-code enrolment."""
    from keys import service as key_service
    from registry.assignments import service as assignments
    from registry.channels import service as channels
    from registry.channels.models import ChannelKind
    from registry.livecode import service as livecode

    if not key_service.list_keys(session):
        make_keys(session, master)
    person = add_person(session, name=name, title=f"Phóng viên {name}", unit=f"Ban {name}")
    person.photo = png_bytes()
    person.photo_mime = "image/png"
    session.commit()
    cred = issue(session, master, now=NOW)
    assignment = assignments.issue_assignment(
        session,
        master,
        staff_code=person.code,
        agency=f"Sở Nội vụ {name}",
        agency_domain=None,
        purpose=f"Bài viết {name}",
        base_url=BASE_URL,
        now=NOW,
        actor="test",
    )
    channels.add_channel(
        session, kind=ChannelKind.EMAIL, value="ttttt@tdkt.gov.vn", label=f"Hộp thư {name}", actor="test", now=NOW
    )
    livecode.enrol(session, master, person.code, actor="test", now=NOW)
    session.commit()
    report = make_report(app, session, name=name, text=f"Yêu cầu {name}")
    admin = None
    for role in AdminRole:
        user, _secret = make_admin(session, master, role)
        if role is AdminRole.ADMIN:
            admin = user
    assert admin is not None
    return Sample(
        staff_code=person.code,
        credential_id=cred.id,
        token=cred.token,
        kid=cred.key.kid,
        report_ref=report.reference,
        file_id=report.files[0].public_id,
        assignment_id=assignment.credential_id,
        admin=admin,
    )


def must(match: re.Match[str] | None) -> re.Match[str]:
    """A regex match the test relies on (fails clearly when the page lacks it)."""
    assert match is not None, "expected text not found in the page"
    return match
