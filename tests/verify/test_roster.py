"""The signed public roster and the root key endpoint (server side of the offline client)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from factories import BASE_URL, NOW, add_official_channels, add_person
from sqlalchemy.orm import Session

from keys import jose
from keys import service as key_service
from keys.models import KeyPurpose
from registry.channels.models import ChannelKind
from registry.staff.models import StaffStatus
from registry.staff.service import get_staff
from verify.documents import roster


def _verify(token: str, session: Session) -> dict[str, Any]:
    parsed = jose.ParsedToken(raw=token, header=_header(token), claims=_claims(token))
    key = key_service.find_key(session, parsed.kid)
    assert key is not None and key.purpose is KeyPurpose.SIGNING
    jose.verify_signature(parsed, jose.import_public(key.public_jwk))
    return parsed.claims


def _header(token: str) -> dict[str, Any]:
    return dict(json.loads(jose.b64url_decode(token.split(".")[0])))


def _claims(token: str) -> dict[str, Any]:
    return dict(json.loads(jose.b64url_decode(token.split(".")[1])))


def test_roster_lists_staff_signed_by_the_signing_key(client, session, signing_key):
    add_person(session, "TTTT-002", "Trần Thị Minh Hằng", title="Biên tập viên")
    add_person(session, "TTTT-001", phone="0912 345 678")
    resp = client.get("/api/v1/roster")
    assert resp.status_code == 200
    assert resp.mimetype == "application/jwt"
    assert "must-revalidate" in resp.headers["Cache-Control"]
    token = resp.get_data(as_text=True)
    assert _header(token) == {"alg": "EdDSA", "typ": "roster+jwt", "kid": signing_key.kid}
    claims = _verify(token, session)
    assert claims["iss"] == BASE_URL
    assert claims["sub"] == BASE_URL + "/api/v1/roster"
    assert claims["exp"] - claims["iat"] == int(roster.ROSTER_VALIDITY.total_seconds())
    assert [s["code"] for s in claims["staff"]] == ["TTTT-001", "TTTT-002"]
    first = claims["staff"][0]
    assert first == {
        "code": "TTTT-001",
        "name": "Nguyễn Văn Đức",
        "title": "Phóng viên",
        "unit": "Trung tâm Thông tin - Truyền thông",
        "status": "active",
        "phone": "+84912345678",
        "email": "duc.nv@tdkt.gov.vn",
    }


def test_roster_etag_answers_304_until_the_roster_changes(client, session, signing_key):
    add_person(session)
    first = client.get("/api/v1/roster")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/roster", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.get_data() == b""
    add_person(session, "TTTT-003", "Lê Quang Huy")
    changed = client.get("/api/v1/roster", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
def test_departed_staff_stay_listed_without_contacts(client, session, signing_key):
    from registry.staff.service import change_status

    add_person(session)
    change_status(session, "TTTT-001", StaffStatus.DEPARTED, actor="test", now=NOW, reason="nghỉ việc")
    session.commit()
    claims = _claims(client.get("/api/v1/roster").get_data(as_text=True))
    assert claims["staff"] == [
        {
            "code": "TTTT-001",
            "name": "Nguyễn Văn Đức",
            "title": "Phóng viên",
            "unit": "Trung tâm Thông tin - Truyền thông",
            "status": "departed",
        }
    ]
    assert get_staff(session, "TTTT-001").status is StaffStatus.DEPARTED


def test_only_active_staff_keep_their_contacts_beside_the_centres_channels(client, session, signing_key):
    """A suspended or departed person's old phone and email are theirs, not the
    Centre's: the roster holds none of them, in any spelling, and carries the
    Centre's official channels, signed with the rest (phones first, as the server
    shows them)."""
    from registry.channels import service as channels
    from registry.demo.data import DEMO_CHANNELS
    from registry.staff.service import change_status

    add_official_channels(session)
    add_person(session, "TTTT-001", phone="0912 345 678", email="duc.nv@tdkt.gov.vn")
    add_person(session, "TTTT-002", "Trần Thị Minh Hằng", phone="0983 456 712", email="hang.ttm@tdkt.gov.vn")
    add_person(session, "TTTT-003", "Lê Quang Huy", phone="0977 111 222", email="huy.lq@tdkt.gov.vn")
    change_status(session, "TTTT-001", StaffStatus.SUSPENDED, actor="test", now=NOW, reason="tạm đình chỉ")
    change_status(session, "TTTT-002", StaffStatus.DEPARTED, actor="test", now=NOW, reason="nghỉ việc")
    session.commit()
    token = client.get("/api/v1/roster").get_data(as_text=True)
    claims = _verify(token, session)
    text = json.dumps(claims, ensure_ascii=False)
    for spelling in ("0912 345 678", "0912345678", "+84912345678", "84912345678", "912345678", "983456712"):
        assert spelling not in text
    assert "duc.nv" not in text and "hang.ttm" not in text
    assert {s["code"]: s["status"] for s in claims["staff"]} == {
        "TTTT-001": "suspended",
        "TTTT-002": "departed",
        "TTTT-003": "active",
    }
    assert all(set(s) == {"code", "name", "title", "unit", "status"} for s in claims["staff"][:2])
    assert (claims["staff"][2]["phone"], claims["staff"][2]["email"]) == ("+84977111222", "huy.lq@tdkt.gov.vn")
    assert claims["official_contacts"] == [
        {"kind": "phone", "value": "+842438234567", "label": DEMO_CHANNELS[1][2]},
        {"kind": "email", "value": "dienhinhtientien.tdkt@gmail.com", "label": DEMO_CHANNELS[0][2]},
        {"kind": "url", "value": "thiduakhenthuongvn.org.vn", "label": DEMO_CHANNELS[3][2]},
    ]
    # a new channel is a new roster: its ETag changes
    etag = client.get("/api/v1/roster").headers["ETag"]
    channels.add_channel(session, kind=ChannelKind.PHONE, value="024 3823 9999", label="Văn phòng", actor="t", now=NOW)
    session.commit()
    assert client.get("/api/v1/roster", headers={"If-None-Match": etag}).status_code == 200


def test_roster_is_deterministic_within_a_period_and_never_stretches_key_expiry(session, master, signing_key):
    add_person(session)
    before = signing_key.last_expiry
    a = roster.roster_token(session, master, issuer=BASE_URL, now=NOW)
    b = roster.roster_token(session, master, issuer=BASE_URL, now=NOW + timedelta(minutes=5))
    assert a == b
    later = roster.roster_token(session, master, issuer=BASE_URL, now=NOW + roster.ROSTER_RESIGN_EVERY)
    assert later != a
    assert _claims(later)["iat"] > _claims(a)["iat"]
    found = key_service.find_key(session, signing_key.kid)
    assert found is not None and found.last_expiry == before


def test_root_key_endpoint_serves_the_pinned_thumbprint(client, session, signing_key):
    resp = client.get("/api/v1/keyset/root")
    assert resp.status_code == 200
    jwk = resp.get_json()
    root = key_service.active_key(session, KeyPurpose.ROOT)
    assert jwk["kid"] == root.kid
    assert jose.thumbprint({k: jwk[k] for k in ("kty", "crv", "x")}) == root.kid
    assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
    keyset = client.get("/api/v1/keyset").get_data(as_text=True)
    assert _header(keyset)["kid"] == jwk["kid"]


@pytest.mark.parametrize(
    ("path", "code"), [("/api/v1/roster", "no_signing_key"), ("/api/v1/keyset/root", "no_root_key")]
)
def test_without_keys_the_documents_answer_503(client, path, code):
    resp = client.get(path)
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == code
