"""Helpers for the offline client's tests: a real server on 127.0.0.1, a tampering
proxy in front of it, and a registry holding a credential in every state."""

from __future__ import annotations

import http.server
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import requests.adapters
import requests.structures
from factories import MASTER_B64, ROOT, add_person, sign_keys
from helpers_server import serve_handler
from sqlalchemy.orm import Session

from keys import jose
from keys import service as key_service
from keys.contract import ASSIGNMENT_TYP, STAFF_TYP
from keys.crypto import MasterKey
from registry.credentials.models import CredentialStatus
from registry.credentials.service import change_status, issue_credential
from registry.staff.models import StaffStatus
from registry.staff.service import change_status as change_staff_status

SERVER_START_TIMEOUT = 120.0  # seconds; importing the app takes one or two, past 30 on a machine shared 8 ways
# the keys of a check's ``--json`` object, in their documented order (docs/offline-client.md)
CHECK_JSON_KEYS = [
    "verdict",
    "exit_code",
    "server",
    "mode",
    "checked_at",
    "kind",
    "credential",
    "staff",
    "official_contacts",
    "foreign_host",
    "data",
    "warnings",
    "error",
]
AGENCY = "UBND tỉnh Nghệ An"
AGENCY_DOMAIN = "nghean.gov.vn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def server_env(database_url: str, tmp: Path, public_url: str) -> dict[str, str]:
    """The environment of the app as a live server (or its admin's CLI) runs it."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PUBLIC_BASE_URL": public_url,
        "RATELIMIT_ENABLED": "false",
        "CHINHDANH_INSTANCE": str(tmp / "instance"),
    }


def flask_cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``flask --app app ARGS`` in a child process, as the server's admin runs it."""
    return subprocess.run(  # our own virtualenv's flask
        [str(ROOT / ".venv/bin/flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def live_server(database_url: str, tmp: Path, *, public_url: str | None = None) -> Iterator[LiveServer]:
    """``flask run`` on a free port of 127.0.0.1, with PUBLIC_BASE_URL its own URL
    (or ``public_url``: a proxy in front of it)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_env(database_url, tmp, public_url or url)
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/flask"), "--app", "app", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=url, process=process, log=log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited:\n" + log.read_text())
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + log.read_text())
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


Mutator = Callable[[str, int, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


@contextmanager
def tampering_proxy(
    upstream: Callable[[], str], mutate: Mutator, *, conditional: Callable[[], bool] = lambda: True
) -> Iterator[str]:
    """An HTTP proxy on 127.0.0.1 that forwards GETs to ``upstream()`` and lets
    ``mutate(path, status, headers, body)`` change each answer. While ``conditional()``
    is false it drops If-None-Match, so that every answer has a body to tamper with."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            forwarded = ("if-none-match", "accept") if conditional() else ("accept",)
            headers = {k: v for k, v in self.headers.items() if k.lower() in forwarded}
            resp = requests.get(upstream() + self.path, headers=headers, timeout=10, allow_redirects=False)
            keep = {k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "etag", "cache-control")}
            status, out_headers, body = mutate(self.path, resp.status_code, keep, resp.content)
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_handler(Handler) as url:
        yield url


def flip_byte(token: bytes, segment: int) -> bytes:
    """Change one character in the middle of a JWS segment (still base64url)."""
    parts = token.split(b".")
    seg = bytearray(parts[segment])
    i = len(seg) // 2
    seg[i] = ord("B") if seg[i] != ord("B") else ord("C")
    parts[segment] = bytes(seg)
    return b".".join(parts)


def foreign_key() -> tuple[Any, str]:
    private = jose.generate_private()
    public = {k: str(v) for k, v in private.as_dict(private=False).items() if k in ("kty", "crv", "x")}
    return private, jose.thumbprint(public)


def public_jwk_of(private: Any) -> dict[str, str]:
    return {k: str(v) for k, v in private.as_dict(private=False).items() if k in ("kty", "crv", "x")}


def resign(token: str, private: Any, kid: str, **changes: Any) -> str:
    """The same header and claims (with ``changes``), signed by another key."""
    header = json.loads(jose.b64url_decode(token.split(".")[0]))
    claims = json.loads(jose.b64url_decode(token.split(".")[1]))
    claims.update(changes)
    return jose.sign({**header, "kid": kid}, claims, private)


def altered_payload(token: str, **changes: Any) -> str:
    """The claims changed, the original signature kept: a forgery."""
    head, payload, sig = token.split(".")
    claims = json.loads(jose.b64url_decode(payload))
    claims.update(changes)
    return ".".join([head, jose.b64url_encode(jose.compact_json(claims)), sig])


@dataclass(frozen=True)
class Case:
    token: str
    expected: str
    agency: str | None = None


def _person(session: Session, n: int, name: str) -> str:
    code = f"TTTT-{n:03d}"
    add_person(
        session,
        code,
        name,
        title="Phóng viên",
        unit="Trung tâm Thông tin - Truyền thông, Ban Thi đua - Khen thưởng Trung ương",
        phone=f"0912 345 {n:03d}",
        email=f"cb{n}@tdkt.gov.vn",
    )
    return code


def _assignment(session: Session, master: MasterKey, code: str, base: str, *, now: datetime) -> str:
    """A letter of introduction through issue 7's service, as of ``now``."""
    from registry.assignments.service import issue_assignment

    assignment = issue_assignment(
        session,
        master,
        staff_code=code,
        agency=AGENCY,
        agency_domain=AGENCY_DOMAIN,
        purpose="Viết bài về điển hình tiên tiến",
        days=5,
        base_url=base,
        now=now,
        actor="test",
    )
    session.commit()
    return str(assignment.credential.token)


def every_state(session: Session, master: MasterKey, base: str, *, now: datetime) -> dict[str, Case]:
    """A credential in every state of DESIGN.md, issued through the services for the
    server at ``base`` whose clock says ``now``. Needs an active root and signing key
    (``signing_key``)."""
    now = now.replace(microsecond=0)
    cases: dict[str, Case] = {}

    def issue(code: str, **kw: Any) -> str:
        token = issue_credential(session, master, staff_code=code, base_url=base, actor="test", **kw).token
        session.commit()
        return token

    # first, while the first signing key is active: a credential whose key is then revoked
    old = issue(_person(session, 1, "Đỗ Thị Lan"), now=now)
    new_key, retired = key_service.rotate_key(session, master, now=now)
    assert retired is not None
    key_service.revoke_key(session, retired.kid, now=now, reason="test: the key leaked")
    sign_keys(session, issuer=base, now=now)  # as `keys revoke --root FILE` does
    cases["key_revoked"] = Case(old, "key_revoked")

    valid_code = _person(session, 2, "Nguyễn Văn Đức")
    valid = issue(valid_code, now=now)
    cases["valid"] = Case(valid, "valid")
    cases["valid_qr_url"] = Case(f"{base}/v/{valid}", "valid")

    token = issue(_person(session, 3, "Trần Thị Minh Hằng"), now=now)
    change_status(session, _jti(token), CredentialStatus.SUSPENDED, actor="test", now=now, reason="kiểm tra")
    session.commit()
    cases["suspended"] = Case(token, "suspended")

    token = issue(_person(session, 4, "Lê Quang Huy"), now=now)
    change_status(session, _jti(token), CredentialStatus.REVOKED, actor="test", now=now, reason="mất thẻ")
    session.commit()
    cases["revoked"] = Case(token, "revoked")

    code = _person(session, 5, "Phạm Thu Trang")
    token = issue(code, now=now)
    change_staff_status(session, code, StaffStatus.SUSPENDED, actor="test", now=now, reason="tạm đình chỉ")
    session.commit()
    cases["staff_suspended"] = Case(token, "suspended")

    code = _person(session, 6, "Vũ Minh Tuấn")
    token = issue(code, now=now)
    change_staff_status(session, code, StaffStatus.DEPARTED, actor="test", now=now, reason="nghỉ việc")
    session.commit()
    cases["staff_departed"] = Case(token, "revoked")

    cases["expired"] = Case(issue(_person(session, 7, "Hoàng Văn Nam"), now=now - timedelta(days=3), days=1), "expired")

    code = _person(session, 8, "Bùi Thị Thu")
    cases["not_yet_valid"] = Case(
        _assignment(session, master, code, base, now=now + timedelta(days=2)), "not_yet_valid"
    )
    letter = _assignment(session, master, valid_code, base, now=now)
    withdrawn = _assignment(session, master, valid_code, base, now=now)
    from registry.assignments.service import change_status as change_assignment

    change_assignment(session, _jti(withdrawn), CredentialStatus.REVOKED, actor="test", now=now, reason="hủy")
    session.commit()
    cases["assignment_revoked"] = Case(withdrawn, "revoked")
    holder = _person(session, 9, "Đặng Văn Hải")
    holder_suspended = _assignment(session, master, holder, base, now=now)
    change_staff_status(session, holder, StaffStatus.SUSPENDED, actor="test", now=now, reason="tạm đình chỉ")
    session.commit()
    cases["assignment_holder_suspended"] = Case(holder_suspended, "suspended", agency=AGENCY)
    holder = _person(session, 10, "Ngô Thị Lan")
    holder_card = issue(holder, now=now)
    card_suspended = _assignment(session, master, holder, base, now=now)
    change_status(session, _jti(holder_card), CredentialStatus.SUSPENDED, actor="test", now=now, reason="thẻ bị giữ")
    session.commit()
    cases["assignment_holder_card_suspended"] = Case(card_suspended, "suspended", agency=AGENCY)
    cases["assignment_valid"] = Case(letter, "valid")
    cases["assignment_own_agency_name"] = Case(letter, "valid", agency="ubnd tinh nghe an")
    cases["assignment_own_agency_domain"] = Case(letter, "valid", agency="NGHEAN.GOV.VN")
    cases["wrong_agency_name"] = Case(letter, "wrong_agency", agency="Sở Văn hóa và Thể thao Hà Nội")
    cases["wrong_agency_domain"] = Case(letter, "wrong_agency", agency="hanoi.gov.vn")
    cases["agency_ignored_for_a_card"] = Case(valid, "valid", agency="hanoi.gov.vn")

    private, kid = foreign_key()
    cases["unknown_key"] = Case(resign(valid, private, kid), "unknown_key")
    cases["forged_with_our_kid"] = Case(resign(valid, private, new_key.kid), "bad_signature")
    cases["bad_signature"] = Case(altered_payload(valid, name="Kẻ Mạo Danh"), "bad_signature")
    cases["altered_status_index"] = Case(
        altered_payload(valid, status={"status_list": {"idx": 0, "uri": f"{base}/api/v1/status-lists/1"}}),
        "bad_signature",
    )
    cases["malformed_text"] = Case("xin chào", "malformed")
    cases["malformed_truncated"] = Case(valid[: len(valid) // 2], "malformed")
    cases["malformed_url"] = Case(f"{base}/v/abc.def.ghi", "malformed")
    signed_elsewhere, _key = key_service.sign_with_active(
        session,
        master,
        typ=STAFF_TYP,
        claims={**_claims(valid), "iss": "https://mao-danh.example"},
    )
    session.commit()
    cases["foreign_issuer"] = Case(signed_elsewhere, "malformed")
    wrong_typ, _key = key_service.sign_with_active(session, master, typ="statuslist+jwt", claims=_claims(valid))
    session.commit()
    cases["wrong_typ"] = Case(wrong_typ, "malformed")
    assert ASSIGNMENT_TYP != STAFF_TYP
    return cases


def _claims(token: str) -> dict[str, Any]:
    return dict(json.loads(jose.b64url_decode(token.split(".")[1])))


def _jti(token: str) -> str:
    return str(_claims(token)["jti"])


def run_cli(
    *args: str | bytes, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m verify`` in a child process, as a user runs it (an argument given
    as bytes reaches it as such: a name that is not UTF-8)."""
    return subprocess.run(  # our own interpreter and module
        [sys.executable, "-m", "verify", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        errors="backslashreplace",  # what a console would show of bytes that are not UTF-8
        timeout=timeout,
        check=False,
    )


class FlaskAdapter(requests.adapters.BaseAdapter):
    """Routes a requests session to a Flask app's test client: the client's whole
    HTTP path (status codes, ETags, 304s, bodies) without starting a server."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.client = app.test_client()
        self.calls: list[str] = []
        self.conditions: list[tuple[str, str | None]] = []  # (path, If-None-Match sent)

    def send(  # type: ignore[override]  # a test transport ignores timeouts, TLS and proxies
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        from urllib.parse import urlsplit

        url = urlsplit(str(request.url))
        path = url.path + (f"?{url.query}" if url.query else "")
        self.calls.append(url.path)
        self.conditions.append((url.path, request.headers.get("If-None-Match")))
        resp = self.client.open(path, method=str(request.method), headers=dict(request.headers))
        out = requests.Response()
        out.status_code = resp.status_code
        out.headers = requests.structures.CaseInsensitiveDict(dict(resp.headers))
        out.raw = io.BytesIO(resp.get_data())
        out.url = str(request.url)
        out.request = request
        return out

    def close(self) -> None:
        pass


def flask_fetcher(app: Any, base: str) -> tuple[Any, FlaskAdapter]:
    from verify.client.http import Fetcher

    session = requests.Session()
    adapter = FlaskAdapter(app)
    session.mount(base, adapter)
    return Fetcher(session=session, retries=0), adapter
