"""The client's checks of each signed document, without a server: a table of hostile
key sets, status lists and rosters, each refused with its exact error code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers_client import foreign_key, public_jwk_of

from keys import jose, statuslist
from verify.client import documents as docs
from verify.client.errors import ClientError

ISSUER = "https://xacminh.thiduakhenthuong.vn"
NOW = 1_795_300_000


def _keys() -> dict[str, Any]:
    root, root_kid = foreign_key()
    signer, signer_kid = foreign_key()
    revoked, revoked_kid = foreign_key()
    return {
        "root": root,
        "root_kid": root_kid,
        "signer": signer,
        "signer_kid": signer_kid,
        "revoked": revoked,
        "revoked_kid": revoked_kid,
    }


K = _keys()


def entry(private: Any, kid: str, state: str) -> dict[str, Any]:
    return {**public_jwk_of(private), "kid": kid, "use": "sig", "alg": "EdDSA", "state": state}


def keyset_claims() -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "iat": NOW,
        "exp": NOW + 7 * 86400,
        "keys": [entry(K["signer"], K["signer_kid"], "active"), entry(K["revoked"], K["revoked_kid"], "revoked")],
    }


def sign(typ: str, claims: dict[str, Any], private: Any, kid: str, **header: Any) -> str:
    return jose.sign({"alg": "EdDSA", "typ": typ, "kid": kid, **header}, claims, private)


def root() -> docs.RootKey:
    return docs.root_from_jwk(public_jwk_of(K["root"]))


def keyset() -> docs.KeySet:
    return docs.verify_keyset(sign("keyset+jwt", keyset_claims(), K["root"], K["root_kid"]), root(), issuer=ISSUER)


def list_claims(**changes: Any) -> dict[str, Any]:
    buf = statuslist.empty(64)
    statuslist.set_entry(buf, 3, statuslist.EntryStatus.REVOKED)
    claims = {
        "sub": f"{ISSUER}/api/v1/status-lists/1",
        "iss": ISSUER,
        "iat": NOW,
        "exp": NOW + 86400,
        "ttl": 3600,
        "status_list": {"bits": 2, "lst": statuslist.encode_lst(bytes(buf))},
    }
    claims.update(changes)
    return claims


def test_the_genuine_documents_verify():
    ks = keyset()
    assert set(ks.keys) == {K["signer_kid"], K["revoked_kid"]}
    assert ks.keys[K["revoked_kid"]].state == "revoked"
    sl = docs.verify_status_list(
        sign("statuslist+jwt", list_claims(), K["signer"], K["signer_kid"]), ks, issuer=ISSUER, number=1
    )
    assert statuslist.get_entry(sl.bits, 3) == 1 and sl.ttl_seconds == 3600
    roster = docs.verify_roster(
        sign(
            "roster+jwt",
            {
                "iss": ISSUER,
                "iat": NOW,
                "exp": NOW + 86400,
                "staff": [{"code": "TTTT-001", "name": "A", "title": "B", "unit": "C", "status": "active"}],
            },
            K["signer"],
            K["signer_kid"],
        ),
        ks,
        issuer=ISSUER,
    )
    assert roster.staff["TTTT-001"].phone is None


def _keyset_with(change: Callable[[dict[str, Any]], None]) -> str:
    claims = keyset_claims()
    change(claims)
    return sign("keyset+jwt", claims, K["root"], K["root_kid"])


KEYSETS: list[tuple[str, Callable[[], str], str]] = [
    (
        "signed by another root",
        lambda: sign("keyset+jwt", keyset_claims(), K["signer"], K["signer_kid"]),
        "root_changed",
    ),
    (
        "root's kid, another key's signature",
        lambda: sign("keyset+jwt", keyset_claims(), K["signer"], K["root_kid"]),
        "untrusted",
    ),
    ("another issuer", lambda: _keyset_with(lambda c: c.update(iss="https://mao-danh.example")), "invalid_response"),
    (
        "a kid that is not its key's",
        lambda: _keyset_with(lambda c: c["keys"][0].update(kid=K["revoked_kid"])),
        "invalid_response",
    ),
    ("an unknown state", lambda: _keyset_with(lambda c: c["keys"][0].update(state="trusted")), "invalid_response"),
    ("an RSA key", lambda: _keyset_with(lambda c: c["keys"][0].update(kty="RSA")), "invalid_response"),
    ("keys not a list", lambda: _keyset_with(lambda c: c.update(keys={"a": 1})), "invalid_response"),
    ("iat a string", lambda: _keyset_with(lambda c: c.update(iat="now")), "invalid_response"),
    (
        "typ of a status list",
        lambda: sign("statuslist+jwt", keyset_claims(), K["root"], K["root_kid"]),
        "invalid_response",
    ),
    (
        "a jku header",
        lambda: sign("keyset+jwt", keyset_claims(), K["root"], K["root_kid"], jku="https://x"),
        "invalid_response",
    ),
    ("not a JWS", lambda: "<html>portal</html>", "invalid_response"),
    ("two segments", lambda: "abc.def", "invalid_response"),
]


@pytest.mark.parametrize(("label", "token", "code"), KEYSETS, ids=[k[0] for k in KEYSETS])
def test_hostile_key_sets(label, token, code):
    with pytest.raises(ClientError) as exc:
        docs.verify_keyset(token(), root(), issuer=ISSUER)
    assert exc.value.code == code, label


STATUS_LISTS: list[tuple[str, Callable[[], str], str]] = [
    (
        "signed by a revoked key",
        lambda: sign("statuslist+jwt", list_claims(), K["revoked"], K["revoked_kid"]),
        "untrusted",
    ),
    ("signed by the root itself", lambda: sign("statuslist+jwt", list_claims(), K["root"], K["root_kid"]), "untrusted"),
    (
        "a listed kid, another key's signature",
        lambda: sign("statuslist+jwt", list_claims(), K["root"], K["signer_kid"]),
        "untrusted",
    ),
    (
        "another list's subject",
        lambda: sign(
            "statuslist+jwt", list_claims(sub=f"{ISSUER}/api/v1/status-lists/2"), K["signer"], K["signer_kid"]
        ),
        "invalid_response",
    ),
    (
        "another issuer",
        lambda: sign("statuslist+jwt", list_claims(iss="https://mao-danh.example"), K["signer"], K["signer_kid"]),
        "invalid_response",
    ),
    (
        "one bit per entry",
        lambda: sign(
            "statuslist+jwt", list_claims(status_list={"bits": 1, "lst": "eJwDAAAAAAE"}), K["signer"], K["signer_kid"]
        ),
        "invalid_response",
    ),
    (
        "lst not zlib",
        lambda: sign(
            "statuslist+jwt", list_claims(status_list={"bits": 2, "lst": "AAAA"}), K["signer"], K["signer_kid"]
        ),
        "invalid_response",
    ),
    (
        "a decompression bomb",
        lambda: sign(
            "statuslist+jwt",
            list_claims(status_list={"bits": 2, "lst": statuslist.encode_lst(bytes(2 << 20))}),
            K["signer"],
            K["signer_kid"],
        ),
        "invalid_response",
    ),
    ("ttl zero", lambda: sign("statuslist+jwt", list_claims(ttl=0), K["signer"], K["signer_kid"]), "invalid_response"),
    (
        "exp missing",
        lambda: sign(
            "statuslist+jwt", {k: v for k, v in list_claims().items() if k != "exp"}, K["signer"], K["signer_kid"]
        ),
        "invalid_response",
    ),
]


@pytest.mark.parametrize(("label", "token", "code"), STATUS_LISTS, ids=[s[0] for s in STATUS_LISTS])
def test_hostile_status_lists(label, token, code):
    with pytest.raises(ClientError) as exc:
        docs.verify_status_list(token(), keyset(), issuer=ISSUER, number=1)
    assert exc.value.code == code, label


def _roster(staff: Any) -> str:
    return sign(
        "roster+jwt", {"iss": ISSUER, "iat": NOW, "exp": NOW + 86400, "staff": staff}, K["signer"], K["signer_kid"]
    )


ROSTERS: list[tuple[str, Any, str]] = [
    ("staff not a list", {"TTTT-001": {}}, "invalid_response"),
    (
        "an unknown status",
        [{"code": "A", "name": "A", "title": "A", "unit": "A", "status": "boss"}],
        "invalid_response",
    ),
    ("a name missing", [{"code": "A", "title": "A", "unit": "A", "status": "active"}], "invalid_response"),
    ("an empty title", [{"code": "A", "name": "A", "title": "", "unit": "A", "status": "active"}], "invalid_response"),
    (
        "a huge unit",
        [{"code": "A", "name": "A", "title": "A", "unit": "x" * 5000, "status": "active"}],
        "invalid_response",
    ),
    (
        "a phone as a number",
        [{"code": "A", "name": "A", "title": "A", "unit": "A", "status": "active", "phone": 912}],
        "invalid_response",
    ),
]


@pytest.mark.parametrize(("label", "staff", "code"), ROSTERS, ids=[r[0] for r in ROSTERS])
def test_hostile_rosters(label, staff, code):
    with pytest.raises(ClientError) as exc:
        docs.verify_roster(_roster(staff), keyset(), issuer=ISSUER)
    assert exc.value.code == code, label


def _roster_with_channels(contacts: Any) -> str:
    staff = [{"code": "A", "name": "A", "title": "A", "unit": "A", "status": "active"}]
    claims = {"iss": ISSUER, "iat": NOW, "exp": NOW + 86400, "staff": staff, "official_contacts": contacts}
    return sign("roster+jwt", claims, K["signer"], K["signer_kid"])


def test_the_rosters_official_channels_in_the_servers_order():
    contacts = [
        {"kind": "phone", "value": "+842438234567", "label": "Đường dây nóng"},
        {"kind": "email", "value": "tttt@tdkt.gov.vn", "label": ""},
        {"kind": "fax", "value": "+842438230000", "label": "a kind a newer server may list"},
        {"kind": "url", "value": "tdkt.gov.vn/lien-he", "label": "Liên hệ"},
    ]
    roster = docs.verify_roster(_roster_with_channels(contacts), keyset(), issuer=ISSUER)
    assert [(c.kind, c.value, c.label, c.display) for c in roster.official_contacts] == [
        ("phone", "+842438234567", "Đường dây nóng", "024 3823 4567"),
        ("email", "tttt@tdkt.gov.vn", "", "tttt@tdkt.gov.vn"),
        ("url", "tdkt.gov.vn/lien-he", "Liên hệ", "tdkt.gov.vn/lien-he"),
    ]
    assert roster.official_contacts[0].as_json() == {
        "kind": "phone",
        "value": "+842438234567",
        "display": "024 3823 4567",
        "label": "Đường dây nóng",
    }
    # a roster signed before the server listed its channels still verifies, with none
    older = docs.verify_roster(
        _roster([{"code": "A", "name": "A", "title": "A", "unit": "A", "status": "active"}]), keyset(), issuer=ISSUER
    )
    assert older.official_contacts == ()


CHANNELS: list[tuple[str, Any]] = [
    ("null", None),
    ("not a list", {"phone": "+842438234567"}),
    ("an entry not an object", ["+842438234567"]),
    ("a kind missing", [{"value": "+842438234567", "label": "A"}]),
    ("a kind as a number", [{"kind": 1, "value": "+842438234567", "label": "A"}]),
    ("a value missing", [{"kind": "phone", "label": "A"}]),
    ("a value as a number", [{"kind": "phone", "value": 842438234567, "label": "A"}]),
    ("an empty value", [{"kind": "email", "value": "", "label": "A"}]),
    ("a huge value", [{"kind": "url", "value": "a" * 5000, "label": "A"}]),
    ("a label missing", [{"kind": "phone", "value": "+842438234567"}]),
    ("a huge label", [{"kind": "phone", "value": "+842438234567", "label": "x" * 5000}]),
    ("thousands of channels", [{"kind": "phone", "value": "+842438234567", "label": "A"}] * 5000),
    ("null inside", [None]),
]


@pytest.mark.parametrize(("label", "contacts"), CHANNELS, ids=[c[0] for c in CHANNELS])
def test_hostile_official_channels(label, contacts):
    with pytest.raises(ClientError) as exc:
        docs.verify_roster(_roster_with_channels(contacts), keyset(), issuer=ISSUER)
    assert exc.value.code == "invalid_response", label


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        {"kty": "OKP", "crv": "Ed448", "x": "A" * 43},
        {"kty": "OKP", "crv": "Ed25519", "x": "short"},
        {"kty": "EC"},
    ],
)
def test_hostile_root_keys(value):
    with pytest.raises(ClientError) as exc:
        docs.root_from_jwk(value)
    assert exc.value.code == "invalid_response"
