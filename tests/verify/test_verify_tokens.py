"""Every verdict of the contract, and the attacks of issue 2, through the service,
the JSON API and the HTML page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from factories import BASE_URL, NOW, add_person, issue

from keys import jose
from keys import service as key_service
from registry.credentials import service as credentials
from registry.credentials.models import CredentialKind, CredentialStatus
from registry.staff import service as staff
from registry.staff.models import StaffStatus
from verify.core.claims import extract_token
from verify.core.verdicts import Verdict
from verify.verification.service import verify_token

LATER = NOW + timedelta(minutes=5)


def b64(data: bytes) -> str:
    return jose.b64url_encode(data)


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    h, p, s = token.split(".")
    return json.loads(jose.b64url_decode(h)), json.loads(jose.b64url_decode(p)), s


def forge(header: dict[str, Any], claims: dict[str, Any], signature: str) -> str:
    return ".".join([b64(jose.compact_json(header)), b64(jose.compact_json(claims)), signature])


def check(session: Any, token: Any, now: datetime = LATER) -> Verdict:
    return verify_token(session, token, issuer=BASE_URL, now=now).verdict


@pytest.fixture()
def cred(session, master, signing_key):
    add_person(session)
    return issue(session, master)


def test_valid(session, cred):
    result = verify_token(session, cred.token, issuer=BASE_URL, now=LATER)
    assert result.verdict is Verdict.VALID
    assert result.credential is not None and result.credential.staff.name == "Nguyễn Văn Đức"


def test_token_shape_is_the_contract(cred):
    header, claims, _ = split(cred.token)
    assert header == {"alg": "EdDSA", "typ": "staff-credential+jwt", "kid": cred.key.kid}
    assert set(claims) == {"iss", "sub", "jti", "iat", "exp", "name", "status"}
    assert claims["iss"] == BASE_URL and claims["sub"] == "TTTT-001" and claims["name"] == "Nguyễn Văn Đức"
    assert len(jose.b64url_decode(claims["jti"])) * 8 >= 96
    assert claims["status"] == {
        "status_list": {"idx": cred.status_index, "uri": f"{BASE_URL}/api/v1/status-lists/{cred.status_list_id}"}
    }
    payload = jose.b64url_decode(cred.token.split(".")[1])
    assert b'", "' not in payload and b'": ' not in payload and b"\\u" not in payload  # compact, raw UTF-8
    assert "Nguyễn".encode() in payload


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("credential.suspend", Verdict.SUSPENDED),
        ("credential.revoke", Verdict.REVOKED),
        ("staff.suspend", Verdict.SUSPENDED),
        ("staff.depart", Verdict.REVOKED),
        ("superseded", Verdict.REVOKED),
        ("key.revoke", Verdict.KEY_REVOKED),
    ],
)
def test_status_verdicts(session, master, cred, action, expected):
    if action == "credential.suspend":
        credentials.change_status(session, cred.id, CredentialStatus.SUSPENDED, actor="t", now=NOW)
    elif action == "credential.revoke":
        credentials.change_status(session, cred.id, CredentialStatus.REVOKED, actor="t", now=NOW)
    elif action == "staff.suspend":
        staff.change_status(session, "TTTT-001", StaffStatus.SUSPENDED, actor="t", now=NOW)
    elif action == "staff.depart":
        staff.change_status(session, "TTTT-001", StaffStatus.DEPARTED, actor="t", now=NOW)
    elif action == "superseded":
        newer = issue(session, master)
        assert check(session, newer.token) is Verdict.VALID
        assert session.get(type(cred), cred.id).status_reason == "superseded"
    else:
        key_service.revoke_key(session, cred.key.kid, now=NOW, reason="compromised")
    session.commit()
    assert check(session, cred.token) is expected


def test_reinstating_staff_restores_credential(session, cred):
    staff.change_status(session, "TTTT-001", StaffStatus.SUSPENDED, actor="t", now=NOW)
    assert check(session, cred.token) is Verdict.SUSPENDED
    staff.change_status(session, "TTTT-001", StaffStatus.ACTIVE, actor="t", now=NOW)
    assert check(session, cred.token) is Verdict.VALID


def test_expired_and_not_yet_valid(session, master, signing_key):
    person = add_person(session)
    old = issue(session, master, now=NOW - timedelta(days=40), days=30)
    assert check(session, old.token) is Verdict.EXPIRED
    future = credentials.sign_credential(
        session,
        master,
        staff=person,
        kind=CredentialKind.STAFF,
        base_url=BASE_URL,
        now=NOW,
        expires_at=NOW + timedelta(days=30),
        not_before=NOW + timedelta(days=2),
        actor="t",
    )
    session.commit()
    assert check(session, future.token) is Verdict.NOT_YET_VALID
    assert check(session, future.token, now=NOW + timedelta(days=3)) is Verdict.VALID


def test_rotation_keeps_earlier_credentials_valid(session, master, cred):
    key_service.rotate_key(session, master, now=NOW)
    key_service.rotate_key(session, master, now=NOW)
    session.commit()
    assert check(session, cred.token) is Verdict.VALID
    add_person(session, code="TTTT-002", name="Trần Thị Minh Hằng", phone="0987654321", email="h@tdkt.gov.vn")
    newer = issue(session, master, code="TTTT-002")
    assert split(newer.token)[0]["kid"] != cred.key.kid
    assert check(session, newer.token) is Verdict.VALID


def test_revoking_a_key_revokes_all_it_signed(session, master, cred):
    add_person(session, code="TTTT-002", name="Trần Thị Minh Hằng", phone="0987654321", email="h@tdkt.gov.vn")
    second = issue(session, master, code="TTTT-002")
    key_service.rotate_key(session, master, now=NOW)
    add_person(session, code="TTTT-003", name="Lê Quang Huy", phone="0903111222", email="huy@tdkt.gov.vn")
    third = issue(session, master, code="TTTT-003")
    key_service.revoke_key(session, cred.key.kid, now=NOW, reason="stolen laptop")
    session.commit()
    assert check(session, cred.token) is Verdict.KEY_REVOKED
    assert check(session, second.token) is Verdict.KEY_REVOKED
    assert check(session, third.token) is Verdict.VALID


def test_unknown_key(session, cred):
    foreign = jose.generate_private()
    header, claims, _ = split(cred.token)
    other_kid = jose.thumbprint(
        {k: str(v) for k, v in foreign.as_dict(private=False).items() if k in ("kty", "crv", "x")}
    )
    token = jose.sign({**header, "kid": other_kid}, claims, foreign)
    assert check(session, token) is Verdict.UNKNOWN_KEY


def test_foreign_key_under_real_kid_is_bad_signature(session, cred):
    header, claims, _ = split(cred.token)
    assert check(session, jose.sign(header, claims, jose.generate_private())) is Verdict.BAD_SIGNATURE


@pytest.mark.parametrize("edit", ["name", "exp", "sub", "idx"])
def test_claims_edited_after_signing(session, cred, edit):
    header, claims, signature = split(cred.token)
    if edit == "name":
        claims["name"] = "Kẻ Mạo Danh"
    elif edit == "exp":
        claims["exp"] += 10 * 365 * 86400
    elif edit == "sub":
        claims["sub"] = "TTTT-999"
    else:
        claims["status"]["status_list"]["idx"] += 1
    assert check(session, forge(header, claims, signature)) is Verdict.BAD_SIGNATURE


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{b64(jose.compact_json(header))}.{b64(jose.compact_json(claims))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def malformed_cases(token: str, public_x: str) -> dict[str, str | bytes]:
    header, claims, signature = split(token)
    return {
        "alg none": forge({**header, "alg": "none"}, claims, ""),
        "alg none with signature": forge({**header, "alg": "none"}, claims, signature),
        "HS256 with the public key as secret": _hs256(
            {**header, "alg": "HS256"}, claims, base64.urlsafe_b64decode(public_x + "=")
        ),
        "HS256 with the JWK text as secret": _hs256({**header, "alg": "HS256"}, claims, public_x.encode()),
        "kid with path characters": forge({**header, "kid": "../../../../etc/passwd"}, claims, signature),
        "kid with SQL": forge({**header, "kid": "x' OR '1'='1"}, claims, signature),
        "kid not a string": forge({**header, "kid": 7}, claims, signature),
        "jku header": forge({**header, "jku": "https://evil.example/jwks"}, claims, signature),
        "embedded jwk": forge({**header, "jwk": {"kty": "OKP"}}, claims, signature),
        "wrong typ": forge({**header, "typ": "JWT"}, claims, signature),
        "1 MB token": "a" * (1 << 20),
        "1 MB of dots": "." * (1 << 20),
        "not UTF-8": b"\xff\xfe\xfd." + token.encode(),
        "not UTF-8 text": "\udcff" + token,
        "two segments": ".".join(token.split(".")[:2]),
        "four segments": token + ".AAAA",
        "empty": "",
        "spaces": "   ",
        "padding in base64": token.split(".")[0] + "==." + ".".join(token.split(".")[1:]),
        "payload not JSON": f"{token.split('.')[0]}.{b64(b'not json')}.{signature}",
        "payload a list": f"{token.split('.')[0]}.{b64(b'[1,2]')}.{signature}",
        "short signature": f"{'.'.join(token.split('.')[:2])}.{b64(b'x' * 10)}",
        "unicode": "Nguyễn Văn Đức",
    }


def test_malformed_and_attacks_never_valid(session, cred):
    x = cred.key.public_jwk["x"]
    for name, token in malformed_cases(cred.token, x).items():
        verdict = check(session, token)
        assert verdict is Verdict.MALFORMED, name


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_a_signature_spelled_another_way_is_malformed(session, cred):
    """86 characters carry 64 bytes: the last one has 4 unused bits, and a lenient
    decoder reads 16 spellings as the same signature, which would then verify."""
    head, payload, signature = cred.token.split(".")
    last = B64URL.index(signature[-1])
    spellings = [signature[:-1] + B64URL[last ^ bits] for bits in range(1, 16)]
    for spelling in spellings:
        assert base64.urlsafe_b64decode(spelling + "==") == base64.urlsafe_b64decode(signature + "==")
        assert check(session, f"{head}.{payload}.{spelling}") is Verdict.MALFORMED, spelling


def test_wrong_issuer_is_not_valid(session, master, cred):
    header, claims, _ = split(cred.token)
    private = key_service.private_key(cred.key, master)
    token = jose.sign(header, {**claims, "iss": "https://evil.example"}, private)
    assert check(session, token) is Verdict.MALFORMED


def test_genuine_signature_but_not_in_registry_is_not_valid(session, master, cred):
    header, claims, _ = split(cred.token)
    private = key_service.private_key(cred.key, master)
    token = jose.sign(header, {**claims, "jti": "AAAAAAAAAAAAAAAA"}, private)
    assert check(session, token) is Verdict.REVOKED


def test_credential_typ_cannot_pose_as_another_kind(session, master, cred):
    header, claims, _ = split(cred.token)
    private = key_service.private_key(cred.key, master)
    token = jose.sign({**header, "typ": "assignment+jwt"}, claims, private)
    assert check(session, token) is Verdict.REVOKED  # no assignment with that id exists


@pytest.mark.parametrize(
    "text",
    [
        "{token}",
        f"{BASE_URL}/v/{{token}}",
        f"  {BASE_URL}/v/{{token}}?lang=en  ",
        "http://other.host:8000/v/{token}#x",
    ],
)
def test_extract_token_from_url_forms(cred, text):
    assert extract_token(text.format(token=cred.token)) == cred.token


# ---------------------------------------------------------------- over HTTP


def test_api_get_post_json_form_and_url(client, cred):
    url = f"{BASE_URL}/v/{cred.token}"
    answers = [
        client.get("/api/v1/verify", query_string={"token": cred.token}),
        client.get("/api/v1/verify", query_string={"token": url}),
        client.post("/api/v1/verify", json={"token": url}),
        client.post("/api/v1/verify", data={"token": cred.token}),
        client.get(f"/v/{cred.token}", headers={"Accept": "application/json"}),
    ]
    for resp in answers:
        assert resp.status_code == 200
        assert resp.json["verdict"] == "valid"
        assert resp.json["staff"]["code"] == "TTTT-001"
        assert resp.json["staff"]["phone_display"] == "0912 345 678"
        assert set(resp.json) == {"verdict", "foreign_host", "credential", "staff", "official_contacts", "checked_at"}
        assert resp.json["foreign_host"] is None


def test_api_attacks_answer_200_with_verdict_never_500(client, cred):
    for name, token in malformed_cases(cred.token, cred.key.public_jwk["x"]).items():
        if isinstance(token, bytes) or len(token) > 8192:
            continue
        resp = client.post("/api/v1/verify", json={"token": token})
        if name == "not UTF-8 text":  # a lone surrogate: the JSON body itself is not well-formed text
            assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_json", name
            continue
        assert resp.status_code == 200, name
        assert resp.json["verdict"] == "malformed", name


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"token": "a" * (1 << 20)}}, 413, "request_entity_too_large"),
        ({"data": b"\xff\xfe" * 10, "content_type": "application/json"}, 400, "invalid_json"),
        ({"json": {"token": 12}}, 200, "malformed"),
        ({"json": ["token"]}, 400, "invalid_json"),
        ({"data": {"token": "x" * 9000}}, 413, "request_entity_too_large"),
    ],
)
def test_api_bad_bodies(client, cred, kwargs, status, code):
    resp = client.post("/api/v1/verify", **kwargs)
    assert resp.status_code == status
    if status == 200:
        assert resp.json["verdict"] == code
    else:
        assert resp.json["error"]["code"] == code


def test_page_puts_verdict_first_in_words_and_colour(client, cred):
    html = client.get(f"/v/{cred.token}").get_data(as_text=True)
    assert 'data-verdict="valid"' in html and "verdict-ok" in html
    assert html.index("data-verdict") < html.index("Nguyễn Văn Đức")
    assert "0912 345 678" in html and '<html lang="vi">' in html
    english = client.get(f"/v/{cred.token}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "VALID" in english


def test_page_for_a_forgery(client, cred):
    header, claims, signature = split(cred.token)
    claims["name"] = "<script>alert(1)</script>"
    resp = client.get(f"/v/{forge(header, claims, signature)}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'data-verdict="bad_signature"' in html and "verdict-bad" in html
    assert "<script>alert(1)" not in html
    assert "/report?" in html


def test_page_for_non_utf8_path(client):
    resp = client.get("/v/%FF%FE%FD")
    assert resp.status_code == 200
    assert 'data-verdict="malformed"' in resp.get_data(as_text=True)
