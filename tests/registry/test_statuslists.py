"""Status lists: the draft's token format, ETag and caching, flips in the same
transaction as the change."""

from __future__ import annotations

import jwt
import pytest
from factories import BASE_URL, NOW, add_person, issue, pyjwt_leeway, sign_keys

from keys import service as key_service
from keys.statuslist import decode_lst, get_entry
from registry.credentials import service as credentials
from registry.credentials import statuslists
from registry.credentials.models import CredentialStatus, StatusList
from registry.staff import service as staff
from registry.staff.models import StaffStatus


def fetch_list(client, n=1):
    resp = client.get(f"/api/v1/status-lists/{n}")
    assert resp.status_code == 200
    return resp


def entries(client, session, cred):
    token = fetch_list(client, cred.status_list_id).get_data(as_text=True)
    jwk = {k["kid"]: k for k in client.get("/.well-known/jwks.json").json["keys"]}
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "statuslist+jwt"
    key = jwt.PyJWK(jwk[header["kid"]]).key
    claims = jwt.decode(
        token, key, algorithms=["EdDSA"], options={"verify_sub": False, "verify_iat": False}, leeway=pyjwt_leeway()
    )
    assert claims["sub"] == f"{BASE_URL}/api/v1/status-lists/{cred.status_list_id}"
    assert claims["iss"] == BASE_URL and claims["ttl"] > 0 and claims["exp"] > claims["iat"]
    assert claims["status_list"]["bits"] == 2
    return get_entry(decode_lst(claims["status_list"]["lst"]), cred.status_index)


def test_entries_follow_every_change(client, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    assert entries(client, session, cred) == 0
    credentials.change_status(session, cred.id, CredentialStatus.SUSPENDED, actor="t", now=NOW)
    session.commit()
    assert entries(client, session, cred) == 2
    credentials.change_status(session, cred.id, CredentialStatus.VALID, actor="t", now=NOW)
    staff.change_status(session, "TTTT-001", StaffStatus.SUSPENDED, actor="t", now=NOW)
    session.commit()
    assert entries(client, session, cred) == 2
    staff.change_status(session, "TTTT-001", StaffStatus.DEPARTED, actor="t", now=NOW)
    session.commit()
    assert entries(client, session, cred) == 1


def test_flip_rolls_back_with_the_change(client, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    credentials.change_status(session, cred.id, CredentialStatus.REVOKED, actor="t", now=NOW)
    session.rollback()
    assert entries(client, session, cred) == 0


def test_etag_and_cache_headers(client, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    first = fetch_list(client)
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    assert first.mimetype == "application/statuslist+jwt"
    assert client.get("/api/v1/status-lists/1", headers={"If-None-Match": etag}).status_code == 304
    credentials.change_status(session, cred.id, CredentialStatus.REVOKED, actor="t", now=NOW)
    session.commit()
    changed = client.get("/api/v1/status-lists/1", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


@pytest.mark.parametrize("path", ["/api/v1/status-lists/999", "/api/v1/status-lists/-1", "/api/v1/status-lists/x"])
def test_unknown_lists_are_404(client, signing_key, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"


def test_allocation_moves_to_a_new_list_when_full(session, master, signing_key, monkeypatch):
    monkeypatch.setattr(statuslists, "LIST_SIZE", 2)
    seen = {statuslists.allocate(session) for _ in range(5)}
    assert seen == {(1, 0), (1, 1), (2, 0), (2, 1), (3, 0)}


def test_keyset_is_signed_by_root_and_lists_states(client, session, master, signing_key):
    old, _ = key_service.active_key(session), None
    key_service.rotate_key(session, master, now=NOW)
    key_service.revoke_key(session, old.kid, now=NOW, reason="test")
    sign_keys(session)
    token = client.get("/api/v1/keyset").get_data(as_text=True)
    header = jwt.get_unverified_header(token)
    from keys.models import KeyPurpose

    root = key_service.active_key(session, KeyPurpose.ROOT)
    assert header["kid"] == root.kid and header["typ"] == "keyset+jwt"
    claims = jwt.decode(
        token, jwt.PyJWK({**root.public_jwk, "kid": root.kid}).key, algorithms=["EdDSA"], leeway=pyjwt_leeway()
    )
    states = {k["kid"]: k["state"] for k in claims["keys"]}
    assert states[old.kid] == "revoked" and list(states.values()).count("active") == 1


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
def test_scatter_is_a_permutation_that_hides_the_order():
    key = bytes(range(16))
    size = statuslists.LIST_SIZE
    out = [statuslists.scatter(n, key, size) for n in range(size)]
    assert sorted(out) == list(range(size))  # every entry once: no two credentials share one
    first = out[:100]
    assert first != sorted(first) and max(first) > 1000  # neither in order nor packed at the start
    assert out != [statuslists.scatter(n, bytes(16), size) for n in range(size)]  # the key matters
    assert [statuslists.scatter(n, None, size) for n in range(5)] == [0, 1, 2, 3, 4]
    assert statuslists.scatter(7, key, 1 << 15) == 7  # not 4**k: in order rather than wrong


def test_issued_credentials_get_scattered_distinct_entries(session, master, signing_key):
    for n in range(40):
        add_person(session, f"TTTT-{n + 100:03d}", f"Nhân viên {n}", phone=None, email=None)
    session.commit()
    creds = [issue(session, master, f"TTTT-{n + 100:03d}") for n in range(40)]
    indexes = [c.status_index for c in creds]
    assert len(set(indexes)) == 40 and indexes != sorted(indexes)
    row = session.get(StatusList, 1)
    assert row is not None and row.index_key is not None and row.next_index == 40
    assert all(credentials.get_credential(session, c.id).status_index == i for c, i in zip(creds, indexes, strict=True))


def test_a_list_made_before_scattering_goes_on_in_order(session, master, signing_key):
    session.add(StatusList(id=1, size=statuslists.LIST_SIZE, next_index=3, bits=bytes(1 << 14), version=1))
    session.commit()
    assert [statuslists.allocate(session)[1] for _ in range(3)] == [3, 4, 5]
    session.rollback()
