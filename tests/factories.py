"""What the tests build again and again, as plain functions: the tests' moment and
settings, staff, credentials, assignments, accounts and reports; and every stored
value as bytes, for the tests that look for what must never be stored.

Test modules import from here (``from factories import NOW, add_person, issue``),
never from conftest.py, which only registers the fixture plugins (tests/fixtures/).
Every builder commits what it made, as the views and commands do, so a test can go on
to read it over HTTP in the same test.

The tests' moment: NOW, 2026-11-20 03:00 UTC, unless ``CHINHDANH_TEST_NOW`` gives
another (an ISO 8601 time with its offset, e.g. ``2030-01-01T00:00:00+07:00``). The
app's clock in the tests (the ``clock`` fixture) stands at NOW, cards are issued at
it, and so nothing a test checks depends on the day it runs (docs/testing.md).
"""

from __future__ import annotations

import base64
import io
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from keys.contract import VN_TZ
from keys.crypto import MasterKey
from registry.accounts.models import AdminRole, AdminUser

TEST_NOW_ENV = "CHINHDANH_TEST_NOW"
DEFAULT_NOW = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
BASE_URL = "https://xacminh.thiduakhenthuong.vn"  # 35 characters, as the QR budget assumes
MASTER_B64 = base64.b64encode(bytes(range(32))).decode()
ROOT = Path(__file__).resolve().parent.parent
TEST_OUTPUT = ROOT / "test-output"  # screenshots a run leaves behind (CI may collect them)
PASSWORD = "correct horse battery staple"


def test_now(environ: dict[str, str] | os._Environ[str] = os.environ) -> datetime:
    """The tests' moment: ``CHINHDANH_TEST_NOW`` (aware, turned to UTC) or DEFAULT_NOW."""
    given = environ.get(TEST_NOW_ENV, "").strip()
    if not given:
        return DEFAULT_NOW
    moment = datetime.fromisoformat(given)
    if moment.tzinfo is None:
        raise ValueError(f"{TEST_NOW_ENV} needs an offset (e.g. +07:00 or Z): {given!r}")
    return moment.astimezone(UTC)


test_now.__test__ = False  # type: ignore[attr-defined]  # a function, not a test pytest should collect

NOW = test_now()
VN_TODAY = NOW.astimezone(VN_TZ).date()  # NOW's day on the Centre's calendar


def end_of_vn_day(day: date) -> datetime:
    """The last second of ``day`` in Viet Nam, in UTC: where letters and cards end."""
    return datetime.combine(day, time(23, 59, 59), VN_TZ).astimezone(UTC)


class FrozenClock:
    """The app's clock in tests: it stands at ``at`` (the tests' NOW) until a test
    moves it, so that nothing a test checks depends on today's date."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def pyjwt_leeway() -> timedelta:
    """PyJWT judges ``exp``, ``nbf`` and ``iat`` by the wall clock, and the tests' tokens
    are issued at NOW: with this leeway it judges them as of NOW, whatever today is."""
    return abs(datetime.now(UTC) - NOW) + timedelta(days=1)  # tokens a test signs a little after NOW too


def app_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    """The configuration of a test app (the ``app`` fixture's, or one a test builds)."""
    return {
        "TESTING": True,
        "CLOCK": FrozenClock(NOW),
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PUBLIC_BASE_URL": BASE_URL,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


# ------------------------------------------------------------------ staff and credentials


def count_views(application: Any, endpoint: str) -> list[str]:
    """The requests that the Flask view ``endpoint`` answers in ``application`` from now
    (one entry each): what a fast path below Flask left to it."""
    calls: list[str] = []
    view = application.view_functions[endpoint]

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(endpoint)
        return view(*args, **kwargs)

    application.view_functions[endpoint] = counted
    return calls


def add_person(session: Session, code: str = "TTTT-001", name: str = "Nguyễn Văn Đức", **fields: Any) -> Any:
    """A staff member (committed); ``fields`` may set title, unit, phone, email."""
    from registry.staff.service import add_staff, validate_staff

    data = validate_staff(
        code=code,
        name=name,
        title=fields.get("title", "Phóng viên"),
        unit=fields.get("unit", "Trung tâm Thông tin - Truyền thông"),
        phone=fields.get("phone", "0912 345 678"),
        email=fields.get("email", "duc.nv@tdkt.gov.vn"),
    )
    person = add_staff(session, data, actor="test", now=NOW)
    session.commit()
    return person


def issue(session: Session, master: MasterKey, code: str = "TTTT-001", *, now: datetime = NOW, days: int = 365) -> Any:
    """A staff card for ``code`` (committed), issued at ``now`` for ``days``."""
    from registry.credentials.service import issue_credential

    cred = issue_credential(session, master, staff_code=code, base_url=BASE_URL, now=now, actor="test", days=days)
    session.commit()
    return cred


def add_official_channels(session: Session) -> None:
    """The Centre's official channels of the demo (committed): what every answer but a
    valid one shows to call back on."""
    from registry.channels import service as channels
    from registry.demo.data import DEMO_CHANNELS

    for kind, value, label in DEMO_CHANNELS:
        channels.add_channel(session, kind=kind, value=value, label=label, actor="test", now=NOW)
    session.commit()


# The tests' offline roots, by kid: in production the private key is in the operator's
# file; here the test process holds it, as the operator's machine would.
TEST_ROOTS: dict[str, Any] = {}


def make_root(session: Session, *, now: datetime = NOW, rotate: bool = False) -> Any:
    """An active root key (its public half in the database, the private one in
    TEST_ROOTS), flushed."""
    from keys import root

    key, private = root.new_root(session, now=now, rotate=rotate)
    TEST_ROOTS[key.kid] = private
    return key


def sign_keys(session: Session, *, issuer: str = BASE_URL, now: datetime = NOW, days: int = 30) -> Any:
    """Sign the current key set with the active root, as `keys root sign` does, and
    commit: the server serves it from then on."""
    from keys import root, service
    from keys.models import KeyPurpose

    active = service.active_key(session, KeyPurpose.ROOT)
    document = root.sign_keyset(session, TEST_ROOTS[active.kid], issuer=issuer, now=now, days=days)
    session.commit()
    return document


def make_keys(session: Session, master: MasterKey, *, issuer: str = BASE_URL, now: datetime = NOW) -> Any:
    """A root, an active signing key and a key set signed for ``issuer``, committed;
    returns the signing key."""
    from keys import service

    make_root(session, now=now)
    key = service.generate_key(session, master, now=now)
    sign_keys(session, issuer=issuer, now=now)
    return key


signing_keys = make_keys  # the name the fixtures and the older tests use


# ------------------------------------------------------------------ assignments

AGENCY = "Sở Nội vụ tỉnh Khánh Hòa"
DOMAIN = "khanhhoa.gov.vn"
PURPOSE = "Viết bài giới thiệu điển hình tiên tiến của tỉnh Khánh Hòa cho Đặc san Thi đua Khen thưởng, số 12/2026"


def assign(
    session: Session,
    master: MasterKey,
    code: str = "TTTT-001",
    *,
    now: datetime | None = None,
    agency: str = AGENCY,
    agency_domain: str | None = DOMAIN,
    purpose: str = PURPOSE,
    days: int = 14,
    channels: tuple[str, ...] = (),
) -> Any:
    """An assignment letter for ``code`` (committed), issued at ``now`` (NOW, the app's
    clock in the tests, by default); returns the Assignment row."""
    from registry.assignments.service import issue_assignment

    assignment = issue_assignment(
        session,
        master,
        staff_code=code,
        agency=agency,
        agency_domain=agency_domain,
        purpose=purpose,
        channels=channels,
        days=days,
        base_url=BASE_URL,
        now=now or NOW,
        actor="test-admin",
    )
    session.commit()
    return assignment


# ------------------------------------------------------------------ accounts


def make_admin(
    session: Session,
    master: MasterKey,
    role: AdminRole = AdminRole.ADMIN,
    username: str | None = None,
    *,
    password: str = PASSWORD,
    now: datetime = NOW,
) -> tuple[AdminUser, str]:
    """An active console account (committed) of ``role`` and its TOTP secret."""
    from registry.accounts import service as accounts

    user = accounts.create_account(
        session,
        master,
        username=username or f"{role.value}-user",
        role=role,
        password=password,
        actor="test",
        now=now,
    )
    session.commit()
    return user, accounts.totp_secret(master, user)


# ------------------------------------------------------------------ reports


def png_bytes(size: tuple[int, int] = (40, 40)) -> bytes:
    """A small real PNG (evidence files, staff photos)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (10, 90, 200)).save(out, format="PNG")
    return out.getvalue()


def make_report(
    app: Any, session: Session, *, name: str = "Nguyễn Văn Đức", text: str = "Xin viết bài, phí 5 triệu"
) -> Any:
    """A report of an impersonation (committed) with one PNG evidence file, as the form
    files it at NOW."""
    from verify.reports import evidence
    from verify.reports.intake import submit_report
    from verify.reports.validation import validate_report

    with app.test_request_context():
        data = validate_report(
            {
                "channel": "phone",
                "claimed_name": name,
                "phone": "0987 000 111",
                "request_text": text,
                "reporter_agency": "Sở Nội vụ Hà Nội",
                "reporter_contact": "Trần Văn B, 0243 111 222",
            },
            now=NOW,
        )
        files = evidence.check_files([evidence.Upload(name=f"{name}.png", data=png_bytes())])
        report = submit_report(session, data, files, source="form", now=NOW)
    session.commit()
    return report


# ------------------------------------------------------------------ reading back


def stored_bytes(session: Session) -> bytes:
    """Every value of every row of every table, as bytes, each followed by a NUL."""
    from sqlalchemy import text

    from app import load_models

    rows = b""
    for table in load_models().sorted_tables:
        for row in session.execute(text(f'SELECT * FROM "{table.name}"')):
            for value in row:
                if isinstance(value, memoryview):
                    value = value.tobytes()
                rows += (value if isinstance(value, bytes) else str(value).encode()) + b"\x00"
    return rows
