"""keys/: thumbprints, sealing under the master key, lifecycle, JWKS, status lists."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from datetime import timedelta

import pytest
from factories import MASTER_B64, NOW, TEST_ROOTS, add_person, issue, stored_bytes

from keys import jose, service, statuslist
from keys.crypto import MasterKey
from keys.errors import ActiveKeyExistsError, KeyStateError, MalformedTokenError, MasterKeyError, NoActiveKeyError
from keys.models import KeyPurpose, KeyState


def test_thumbprint_matches_rfc8037_example():
    # RFC 8037 appendix A.3: the thumbprint of the Ed25519 example key
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jose.thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_kid_is_rfc7638_thumbprint_of_stored_key(session, master):
    key = service.generate_key(session, master, now=NOW)
    members = json.dumps({k: key.public_jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"))
    expected = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
    assert key.kid == expected


def test_master_key_binds_blob_to_its_purpose():
    mk = MasterKey.from_b64(MASTER_B64)
    blob = mk.seal(b"secret", b"aad-1")
    assert mk.open(blob, b"aad-1") == b"secret"
    with pytest.raises(MasterKeyError):
        mk.open(blob, b"aad-2")
    with pytest.raises(MasterKeyError):
        MasterKey(bytes(32)).open(blob, b"aad-1")


@pytest.mark.parametrize("bad", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_master_key_refuses_bad_input(bad):
    with pytest.raises(MasterKeyError):
        MasterKey.from_b64(bad)


def test_lifecycle_rotate_and_revoke(session, master):
    with pytest.raises(NoActiveKeyError):
        service.active_key(session)
    first = service.generate_key(session, master, now=NOW)
    with pytest.raises(ActiveKeyExistsError):
        service.generate_key(session, master, now=NOW)
    second, retired = service.rotate_key(session, master, now=NOW)
    assert retired is first and first.state is KeyState.RETIRED and second.state is KeyState.ACTIVE
    service.revoke_key(session, first.kid, now=NOW, reason="test")
    assert str(first.state) == "revoked"
    with pytest.raises(KeyStateError):
        service.revoke_key(session, first.kid, now=NOW, reason="again")


def test_jwks_lists_active_and_covering_retired_keys_never_revoked(session, master, signing_key):
    add_person(session)
    issue(session, master)  # signed by the first key: it must stay published after rotation
    new, old = service.rotate_key(session, master, now=NOW)
    unused, used_retired = service.rotate_key(session, master, now=NOW)  # `new` retired having signed nothing
    assert old is not None and used_retired is new
    kids = {k["kid"] for k in service.jwks(session, now=NOW)["keys"]}
    assert kids == {old.kid, unused.kid}
    assert used_retired is new
    service.revoke_key(session, old.kid, now=NOW, reason="compromised")
    kids = {k["kid"] for k in service.jwks(session, now=NOW)["keys"]}
    assert kids == {unused.kid}
    # a retired key leaves the JWKS once everything it signed has expired
    later = NOW + timedelta(days=400)
    assert {k["kid"] for k in service.jwks(session, now=later)["keys"]} == {unused.kid}


def test_database_holds_no_private_key_or_secret_in_clear(app, session, master, signing_key):
    add_person(session)
    issue(session, master)
    root = service.active_key(session, KeyPurpose.ROOT)
    needles: list[bytes] = [base64.b64decode(MASTER_B64)]
    needles.append(service.private_key(signing_key, master).private_key.private_bytes_raw())  # type: ignore[union-attr]
    needles.append(TEST_ROOTS[root.kid].private_bytes_raw())
    forms: list[bytes] = []
    for raw in needles:
        forms += [
            raw,
            raw.hex().encode(),
            base64.b64encode(raw).rstrip(b"="),
            base64.urlsafe_b64encode(raw).rstrip(b"="),
        ]
    forms.append(MASTER_B64.encode())
    dump = stored_bytes(session)
    assert dump, "the dump must contain the rows"
    for form in forms:
        assert form not in dump


def test_status_list_bits_roundtrip_and_draft_example():
    buf = statuslist.empty(12)
    for idx, status in enumerate([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]):
        if status < 3:
            statuslist.set_entry(buf, idx, statuslist.EntryStatus(status))
        else:
            buf[idx // 4] |= 3 << ((idx % 4) * 2)
    # draft-ietf-oauth-status-list, 2-bit example: bytes c9 44 f9
    assert bytes(buf) == bytes([0xC9, 0x44, 0xF9])
    assert statuslist.decode_lst(statuslist.encode_lst(buf)) == bytes(buf)


def test_status_list_refuses_decompression_bomb():
    bomb = jose.b64url_encode(zlib.compress(bytes(statuslist.MAX_LIST_BYTES * 4), 9))
    with pytest.raises(MalformedTokenError):
        statuslist.decode_lst(bomb)
    with pytest.raises(MalformedTokenError):
        statuslist.decode_lst("!!!")


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "EdDSA", "typ": ["staff-credential+jwt"], "kid": "k" * 43},
        {"alg": "EdDSA", "typ": {"staff-credential+jwt": 1}, "kid": "k" * 43},
        {"alg": ["EdDSA"], "typ": "staff-credential+jwt", "kid": "k" * 43},
        {"alg": "EdDSA", "typ": "staff-credential+jwt", "kid": ["k" * 43]},
        {"alg": "EdDSA", "typ": None, "kid": "k" * 43},
    ],
)
def test_header_members_of_the_wrong_type_are_malformed(header):
    segment = jose.b64url_encode(json.dumps(header).encode())
    token = f"{segment}.{jose.b64url_encode(b'{}')}.{jose.b64url_encode(bytes(64))}"
    with pytest.raises(MalformedTokenError):
        jose.parse_token(token, typs=frozenset({"staff-credential+jwt"}))


@pytest.mark.parametrize("segment", ["header", "payload"])
def test_deeply_nested_json_in_a_token_is_malformed(segment):
    header = jose.b64url_encode(json.dumps({"alg": "EdDSA", "typ": "staff-credential+jwt", "kid": "k" * 43}).encode())
    nested = jose.b64url_encode(b"[" * 1400 + b"]" * 1400)
    parts = [nested, jose.b64url_encode(b"{}")] if segment == "header" else [header, nested]
    token = ".".join([*parts, jose.b64url_encode(bytes(64))])
    assert len(token) < jose.MAX_TOKEN_BYTES
    with pytest.raises(MalformedTokenError):
        jose.parse_token(token, typs=frozenset({"staff-credential+jwt"}))
