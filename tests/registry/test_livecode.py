"""Live codes: codes from implementations that are not ours are accepted (RFC 6238
vectors, the cryptography package's TOTP); drift, replay refusal, the lock, the lock
shared by two app instances on one database, the API, the page and the CLI."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from factories import MASTER_B64, NOW, add_person, app_config
from sqlalchemy import func, select

from app import create_app
from registry.errors import ValidationError
from registry.livecode import service as livecode
from registry.livecode.models import LiveCodeFailure, LiveCodeSecret
from registry.platform.db import dispose_engines

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238 appendix B, SHA-1
# (Unix time, the RFC's 8-digit value). Six digits are the same HOTP truncated mod 10^6.
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
Answer = livecode.LiveCodeAnswer


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def foreign_code(secret_b32: str, when: datetime) -> str:
    """A code made by pyca/cryptography's TOTP, not by pyotp, which we use."""
    totp = TOTP(base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8)), 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303  RFC 6238's own hash
    return totp.generate(int(when.timestamp())).decode()


def secret_of(uri: str) -> str:
    return parse_qs(urlsplit(uri).query)["secret"][0]


@pytest.fixture()
def staff(session: Any) -> Any:
    add_person(session, "TTTT-001", "Nguyễn Văn Đức")
    return session


@pytest.mark.parametrize(("unix", "eight"), RFC_VECTORS)
def test_rfc6238_vectors_are_accepted(staff: Any, master: Any, unix: int, eight: str) -> None:
    livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW, secret=RFC_SECRET)
    staff.commit()
    result = livecode.check_code(staff, master, "tttt-001", eight[-6:], at=at(unix))
    assert result.answer is Answer.VALID
    assert result.staff is not None and result.staff.code == "TTTT-001"


def test_code_from_another_implementation_and_the_otpauth_uri(staff: Any, master: Any) -> None:
    enrolment = livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW)
    staff.commit()
    uri = urlsplit(enrolment.otpauth_uri)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    params = parse_qs(uri.query)
    assert params["issuer"] == ["Ban TĐKT Trung ương"]
    assert len(base64.b32decode(params["secret"][0] + "=" * (-len(params["secret"][0]) % 8))) == 20
    code = foreign_code(secret_of(enrolment.otpauth_uri), NOW)
    assert livecode.check_code(staff, master, "TTTT-001", code, at=NOW).answer is Answer.VALID


def test_secret_is_sealed_and_bound_to_the_staff_code(staff: Any, master: Any) -> None:
    enrolment = livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW)
    staff.commit()
    row = staff.scalars(select(LiveCodeSecret)).one()
    secret = secret_of(enrolment.otpauth_uri)
    assert secret.encode() not in row.secret_sealed
    assert master.open(row.secret_sealed, b"live-code-secret:TTTT-001") == secret.encode()
    from keys.errors import MasterKeyError

    with pytest.raises(MasterKeyError):
        master.open(row.secret_sealed, b"live-code-secret:TTTT-002")


OATHTOOL = shutil.which("oathtool")


@pytest.mark.skipif(OATHTOOL is None, reason="Debian's oathtool is not installed (apt-get install oathtool)")
@pytest.mark.parametrize("moment", [NOW, NOW + timedelta(seconds=29), NOW + timedelta(days=400, seconds=17)])
def test_codes_from_debian_oathtool_are_accepted(staff: Any, master: Any, moment: datetime) -> None:
    enrolment = livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW)
    staff.commit()
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    secret = secret_of(enrolment.otpauth_uri)
    code = subprocess.run(
        [str(OATHTOOL), "--totp", "--base32", "--digits=6", "--time-step-size=30s", f"--now={stamp}", secret],
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout.strip()
    assert len(code) == 6
    assert livecode.check_code(staff, master, "TTTT-001", code, at=moment).answer is Answer.VALID
    assert livecode.check_code(staff, master, "TTTT-001", code, at=moment).answer is Answer.INVALID  # replay


@pytest.mark.parametrize(
    ("offset_steps", "answer"), [(-2, "invalid"), (-1, "valid"), (0, "valid"), (1, "valid"), (2, "invalid")]
)
def test_drift_of_one_step(staff: Any, master: Any, offset_steps: int, answer: str) -> None:
    livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW, secret=RFC_SECRET)
    code = foreign_code(RFC_SECRET, NOW + timedelta(seconds=30 * offset_steps))
    assert livecode.check_code(staff, master, "TTTT-001", code, at=NOW).answer.value == answer


def test_replay_is_refused(staff: Any, master: Any) -> None:
    livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW, secret=RFC_SECRET)
    code = foreign_code(RFC_SECRET, NOW)
    assert livecode.check_code(staff, master, "TTTT-001", code, at=NOW).answer is Answer.VALID
    assert livecode.check_code(staff, master, "TTTT-001", code, at=NOW + timedelta(seconds=5)).answer is Answer.INVALID
    # an older code (still within drift) cannot be used after a newer one
    newer = foreign_code(RFC_SECRET, NOW + timedelta(seconds=30))
    older = foreign_code(RFC_SECRET, NOW - timedelta(seconds=30))
    later = NOW + timedelta(seconds=31)
    assert livecode.check_code(staff, master, "TTTT-001", newer, at=later).answer is Answer.VALID
    assert livecode.check_code(staff, master, "TTTT-001", older, at=NOW).answer is Answer.INVALID


def test_five_wrong_codes_lock_even_the_right_one(staff: Any, master: Any) -> None:
    livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW, secret=RFC_SECRET)
    right = foreign_code(RFC_SECRET, NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    moments = [NOW + timedelta(minutes=m) for m in (0, 3, 6, 9, 12)]
    for moment in moments:
        assert livecode.check_code(staff, master, "TTTT-001", wrong, at=moment).answer is Answer.INVALID
    check_at = moments[-1] + timedelta(seconds=20)
    result = livecode.check_code(staff, master, "TTTT-001", foreign_code(RFC_SECRET, check_at), at=check_at)
    assert result.answer is Answer.LOCKED
    assert result.locked_until == moments[-1] + timedelta(minutes=15)
    just_before = moments[-1] + timedelta(minutes=15, seconds=-1)
    assert (
        livecode.check_code(staff, master, "TTTT-001", foreign_code(RFC_SECRET, just_before), at=just_before).answer
        is Answer.LOCKED
    )
    after = moments[-1] + timedelta(minutes=15)
    assert (
        livecode.check_code(staff, master, "TTTT-001", foreign_code(RFC_SECRET, after), at=after).answer is Answer.VALID
    )
    from registry.audit.models import AuditEntry

    assert [e.action for e in staff.scalars(select(AuditEntry).where(AuditEntry.action.like("live_code.%")))] == [
        "live_code.enrol",
        "live_code.locked",
    ]


def test_failures_spread_over_more_than_the_window_do_not_lock(staff: Any, master: Any) -> None:
    livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW, secret=RFC_SECRET)
    for minute in (0, 4, 8, 12, 16, 20):
        moment = NOW + timedelta(minutes=minute)
        assert livecode.check_code(staff, master, "TTTT-001", "000000", at=moment).answer is Answer.INVALID
    moment = NOW + timedelta(minutes=20, seconds=10)
    assert (
        livecode.check_code(staff, master, "TTTT-001", foreign_code(RFC_SECRET, moment), at=moment).answer
        is Answer.VALID
    )
    # old failures are pruned as new ones arrive
    assert staff.scalar(select(func.count()).select_from(LiveCodeFailure)) <= 6


@pytest.mark.parametrize(
    ("staff_code", "code", "field"),
    [
        ("TTTT-001", "12345", "code"),
        ("TTTT-001", "1234567", "code"),
        ("TTTT-001", "12a456", "code"),
        ("TTTT-001", "١٢٣٤٥٦", "code"),
        ("T", "123456", "code"),
        ("bad code!", "123456", "code"),
        ("", "123456", "code"),
    ],
)
def test_malformed_input_is_refused_before_counting(
    staff: Any, master: Any, staff_code: str, code: str, field: str
) -> None:
    livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW, secret=RFC_SECRET)
    with pytest.raises(ValidationError) as info:
        livecode.check_code(staff, master, staff_code, code, at=NOW)
    assert info.value.field == field
    assert staff.scalar(select(func.count()).select_from(LiveCodeFailure)) == 0


def test_unknown_unenrolled_and_suspended_staff(staff: Any, master: Any) -> None:
    from registry.staff.models import StaffStatus
    from registry.staff.service import change_status

    assert livecode.check_code(staff, master, "TTTT-404", "123456", at=NOW).answer is Answer.UNKNOWN_STAFF
    assert livecode.check_code(staff, master, "TTTT-001", "123456", at=NOW).answer is Answer.UNKNOWN_STAFF
    livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW, secret=RFC_SECRET)
    change_status(staff, "TTTT-001", StaffStatus.SUSPENDED, actor="t", now=NOW)
    code = foreign_code(RFC_SECRET, NOW)
    assert livecode.check_code(staff, master, "TTTT-001", code, at=NOW).answer is Answer.UNKNOWN_STAFF
    with pytest.raises(ValidationError):
        livecode.enrol(staff, master, "TTTT-001", actor="test", now=NOW)


# ------------------------------------------------------------------ HTTP


def enrolled(session: Any, master: Any) -> str:
    add_person(session, "TTTT-001", "Nguyễn Văn Đức")
    enrolment = livecode.enrol(session, master, "TTTT-001", actor="test", now=NOW)
    session.commit()
    return secret_of(enrolment.otpauth_uri)


def now_code(secret: str) -> str:
    return foreign_code(secret, NOW)


def test_api_valid_then_replay(client: Any, session: Any, master: Any) -> None:
    secret = enrolled(session, master)
    code = now_code(secret)
    first = client.post("/api/v1/live-code", json={"staff_code": "tttt-001", "code": code})
    assert first.status_code == 200
    assert first.json["answer"] == "valid"
    assert first.json["staff"]["name"] == "Nguyễn Văn Đức"
    assert first.json["locked_until"] is None
    again = client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": code})
    assert again.json["answer"] == "invalid"


def test_api_lock_message_says_until_when_and_what_to_do(client: Any, session: Any, master: Any) -> None:
    secret = enrolled(session, master)
    right = now_code(secret)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        assert (
            client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong}).json["answer"] == "invalid"
        )
    body = client.post("/api/v1/live-code?lang=en", json={"staff_code": "TTTT-001", "code": right}).json
    assert body["answer"] == "locked"
    until = datetime.fromisoformat(body["locked_until"])
    assert timedelta(minutes=14) < until - NOW <= timedelta(minutes=15)
    assert "call back on the official number" in body["message"]
    assert until.astimezone(livecode_tz()).strftime("%H:%M %d/%m/%Y") in body["message"]


def livecode_tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"staff_code": "TTTT-001"}, "code"),
        ({"code": "123456"}, "staff_code"),
        ({"staff_code": "TTTT-001", "code": 123456}, "code"),
        ({"staff_code": ["TTTT-001"], "code": "123456"}, "staff_code"),
        ({"staff_code": "TTTT-001", "code": "1" * 17}, "code"),
        ({"staff_code": "T" * 65, "code": "123456"}, "staff_code"),
        ({"staff_code": "TTTT-001", "code": "abcdef"}, "code"),
        ([1, 2], "body"),
    ],
)
def test_api_bad_bodies(client: Any, session: Any, master: Any, body: Any, field: str) -> None:
    enrolled(session, master)
    resp = client.post("/api/v1/live-code", json=body)
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == ("invalid_json" if field == "body" else "invalid_input")
    assert resp.json["error"]["field"] == field


def test_api_non_json_body(client: Any, session: Any, master: Any) -> None:
    enrolled(session, master)
    resp = client.post("/api/v1/live-code", data=b"{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "invalid_json"


def test_page_form_without_js(client: Any, session: Any, master: Any) -> None:
    secret = enrolled(session, master)
    resp = client.post("/live-code", data={"staff_code": "TTTT-001", "code": now_code(secret)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'data-live-code="valid"' in html
    assert "MÃ ĐÚNG" in html
    resp = client.post("/live-code", data={"staff_code": "TTTT-001", "code": "12"})
    assert resp.status_code == 400
    assert "6 chữ số" in resp.get_data(as_text=True)


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True}], indirect=True)
def test_per_ip_rate_limit(client: Any, session: Any, master: Any) -> None:
    enrolled(session, master)
    codes = [
        client.post("/api/v1/live-code", json={"staff_code": "TTTT-404", "code": "123456"}).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    assert client.get("/api/v1/lookup?q=0912345678").status_code == 200  # separate budget


def test_lock_holds_on_two_instances_sharing_one_database(
    app: Any, session: Any, master: Any, database_url: str, tmp_path: Path
) -> None:
    """Two app instances (separate engines, pools and limiters) on one database: failures
    on one lock the other, and a code used on one is refused on the other."""
    secret = enrolled(session, master)
    other = create_app(app_config(database_url, tmp_path / "other-instance"))
    try:
        one: Any = app.test_client()
        two: Any = other.test_client()
        code = now_code(secret)
        assert one.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": code}).json["answer"] == "valid"
        assert two.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": code}).json["answer"] == "invalid"
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        # the refused replay was failure 1; failures 2-4 alternate between instances
        for i in range(3):
            client = one if i % 2 else two
            assert (
                client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong}).json["answer"]
                == "invalid"
            )
        # the fifth wrong code goes to the first instance; the second is then locked too
        assert one.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong}).json["answer"] == "invalid"
        for client in (two, one):  # type: Any
            body = client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": now_code(secret)}).json
            assert body["answer"] == "locked"
            assert body["locked_until"]
    finally:
        dispose_engines(other)


# ------------------------------------------------------------------ CLI


def test_cli_enrol_json_and_png(runner: Any, session: Any, tmp_path: Path) -> None:
    add_person(session, "TTTT-001", "Nguyễn Văn Đức")
    png = tmp_path / "enrol.png"
    result = runner.invoke(args=["live-code", "enrol", "tttt-001", "--png", str(png), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["staff_code"] == "TTTT-001"
    assert payload["otpauth_uri"].startswith("otpauth://totp/")
    from verify.core.qrdecode import decode_qr

    assert decode_qr(png.read_bytes()) == payload["otpauth_uri"]
    code = foreign_code(secret_of(payload["otpauth_uri"]), NOW)
    from keys.crypto import MasterKey

    check = livecode.check_code(session, MasterKey.from_b64(MASTER_B64), "TTTT-001", code, at=NOW)
    assert check.answer is Answer.VALID


def test_cli_enrol_unknown_staff(runner: Any) -> None:
    result = runner.invoke(args=["live-code", "enrol", "TTTT-404", "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "invalid_input" in result.stderr
