"""The offline client against the app through a test-client transport (no server):
the same verdicts as the server for hostile tokens, trust on first use and a changed
root, inputs (URL, image, text file), and the library API."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from factories import BASE_URL, NOW, add_person, issue, make_root, sign_keys
from helpers_client import CHECK_JSON_KEYS, altered_payload, flask_fetcher, foreign_key, resign
from sqlalchemy.orm import Session

from keys import jose
from keys import service as key_service
from keys.contract import STAFF_TYP
from keys.crypto import MasterKey
from keys.models import KeyPurpose, KeyState
from registry import qr
from registry.channels import service as channels
from registry.staff.models import StaffStatus
from verify.client import (
    InputError,
    NoServerError,
    NotSyncedError,
    RootChangedError,
    Verdict,
    VerificationResult,
    Verifier,
)
from verify.client import documents as docs
from verify.client import verifier as client_verifier
from verify.client.errors import ClientError
from verify.core.keyset import KEY_STATES
from verify.verification import service as tokens


def app_now() -> datetime:
    moment: datetime = NOW  # where the app's clock stands
    return moment


@pytest.fixture()
def transport(app):
    return flask_fetcher(app, BASE_URL)


@pytest.fixture()
def make_verifier(transport, tmp_path):
    fetcher, _adapter = transport

    def build(**kw: Any) -> Verifier:
        kw.setdefault("cache_dir", tmp_path / "cache")
        if "trust" not in kw:
            kw.setdefault("tofu", True)  # these tests pin the root on first use, explicitly
        kw.setdefault("clock", lambda: NOW)  # the app's clock stands there too
        return Verifier(BASE_URL, fetcher=fetcher, **kw)

    return build


def _claims(token: str) -> dict[str, Any]:
    return dict(json.loads(jose.b64url_decode(token.split(".")[1])))


def _signed(session: Session, master: MasterKey, claims: dict[str, Any], typ: str = STAFF_TYP) -> str:
    token, _key = key_service.sign_with_active(session, master, typ=typ, claims=claims)
    session.commit()
    return token


def test_constants_match_the_server():
    """The client and the server read the wire contract from one place, keys.contract;
    what each side keeps of its own still agrees."""
    from keys import contract
    from keys import root as key_root
    from verify.client import sync as client_sync
    from verify.documents import roster
    from verify.documents.service import STATUS_LIST_MAX_AGE

    shared = {
        client_verifier: ("STAFF_TYP", "ASSIGNMENT_TYP", "MAX_PRESENTED_CHARS"),
        tokens: ("MAX_PRESENTED_CHARS", "STAFF_TYP", "ASSIGNMENT_TYP"),
        docs: ("KEYSET_TYP", "ROSTER_TYP", "STATUS_LIST_TYP"),
        key_root: ("KEYSET_TYP",),
        client_sync: ("ROSTER_PATH", "ROOT_KEY_PATH", "KEYSET_PATH", "JWKS_PATH", "STATUS_LIST_PATH"),
        roster: ("ROSTER_TYP", "ROSTER_PATH"),
    }
    for module, names in shared.items():
        for name in names:
            assert vars(module)[name] is getattr(contract, name), (module.__name__, name)
    assert {s.value for s in StaffStatus} == docs.STAFF_STATES
    assert {s.value for s in KeyState} == KEY_STATES
    assert {k.value for k in channels.CONTACT_ORDER} == docs.CHANNEL_KINDS
    assert (docs.MAX_CHANNEL_VALUE, docs.MAX_CHANNEL_LABEL) == (channels.MAX_STORED, channels.MAX_LABEL)
    assert STATUS_LIST_MAX_AGE > 0


@pytest.mark.parametrize(
    "text",
    [
        "  abc.def.ghi  ",
        f"{BASE_URL}/v/abc.def.ghi",
        f"{BASE_URL}/v/abc.def.ghi?lang=en#x",
        "https://mao-danh.example/v/abc.def.ghi",
        "http://x/v/%61bc.def",
        "/v/",
        "xin chào /v/ abc",
        "https://x/y/v/a/b",
        "",
    ],
)
def test_token_extraction_matches_the_server(text):
    # one rule for both sides: the client calls the server's own function
    from verify.core import claims

    assert client_verifier.extract_token is claims.extract_token
    assert claims.extract_token(text) == claims.extract_token(f"  {text}  ")


CLAIM_CHANGES: list[tuple[str, dict[str, Any] | None, list[str]]] = [
    ("unchanged", None, []),
    ("foreign issuer", {"iss": "https://mao-danh.example"}, []),
    ("issuer with a trailing slash", {"iss": BASE_URL + "/"}, []),
    ("sub missing", None, ["sub"]),
    ("sub a number", {"sub": 1}, []),
    ("jti missing", None, ["jti"]),
    ("name missing", None, ["name"]),
    ("iat a string", {"iat": "1763600000"}, []),
    ("exp a float", {"exp": 1.5e9}, []),
    ("exp true", {"exp": True}, []),
    ("nbf a string", {"nbf": "tomorrow"}, []),
    ("nbf in the future", {"nbf": int((NOW + timedelta(days=3650)).timestamp())}, []),
    ("exp in the past", {"exp": int((NOW - timedelta(days=1)).timestamp())}, []),
    ("status missing", None, ["status"]),
    ("status not an object", {"status": "valid"}, []),
    ("status list idx a string", {"status": {"status_list": {"idx": "0", "uri": "x"}}}, []),
    ("status list uri missing", {"status": {"status_list": {"idx": 0}}}, []),
]


@pytest.mark.parametrize(("label", "changes", "drop"), CLAIM_CHANGES, ids=[c[0] for c in CLAIM_CHANGES])
def test_client_and_server_agree_on_every_claim_shape(
    session, master, signing_key, make_verifier, label, changes, drop
):
    add_person(session)
    base = _claims(issue(session, master, now=app_now()).token)
    claims = {**base, **(changes or {})}
    for name in drop:
        claims.pop(name)
    token = _signed(session, master, claims)
    server = tokens.verify_token(session, token, issuer=BASE_URL, now=app_now())
    client = make_verifier().verify(token)
    assert client.verdict is server.verdict, label
    if label == "unchanged":
        assert client.verdict is Verdict.VALID


HOSTILE = [
    ("empty", ""),
    ("spaces", "   "),
    ("two segments", "abc.def"),
    ("four segments", "a.b.c.d"),
    ("not base64", "!!!.???.***"),
    ("header not JSON", jose.b64url_encode(b"not json") + ".e30.AAAA"),
    ("alg none", jose.b64url_encode(b'{"alg":"none","typ":"staff-credential+jwt"}') + ".e30."),
    ("alg HS256", jose.b64url_encode(b'{"alg":"HS256","typ":"staff-credential+jwt","kid":"x"}') + ".e30.AAAA"),
    ("far too long", "a" * 10_000),
    ("non-ASCII", "ờ.ờ.ờ"),
    ("NUL byte", "abc\x00.def.ghi"),
]


@pytest.mark.parametrize(("label", "text"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_malformed_without_touching_the_network(tmp_path, label, text):
    verifier = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=tmp_path, offline=True)
    result = verifier.verify(text)
    assert result.verdict is Verdict.MALFORMED, label
    assert result.exit_code == 1
    assert result.claims is None


def test_header_tricks_never_fetch_keys_from_the_token(session, master, signing_key, make_verifier, transport):
    add_person(session)
    token = issue(session, master, now=app_now()).token
    head, payload, sig = token.split(".")
    header = json.loads(jose.b64url_decode(head))
    for extra in ({"jku": "https://mao-danh.example/jwks.json"}, {"x5u": "https://mao-danh.example/c.pem"}):
        forged = ".".join([jose.b64url_encode(jose.compact_json({**header, **extra})), payload, sig])
        assert make_verifier().verify(forged).verdict is Verdict.MALFORMED
    _fetcher, adapter = transport
    assert all("mao-danh" not in call for call in adapter.calls)
    private, kid = foreign_key()
    assert make_verifier().verify(resign(token, private, kid)).verdict is Verdict.UNKNOWN_KEY
    assert make_verifier().verify(altered_payload(token, sub="TTTT-999")).verdict is Verdict.BAD_SIGNATURE


def test_trust_on_first_use_then_a_changed_root_is_refused(session, master, signing_key, make_verifier):
    add_person(session)
    token = issue(session, master, now=app_now()).token
    first = make_verifier()
    report = first.sync()
    root = key_service.active_key(session, KeyPurpose.ROOT)
    assert report.root_thumbprint == root.kid and report.newly_pinned and report.root_source == "tofu"
    assert "TRUST ON FIRST USE" in first.notices[0][0]
    again = make_verifier()
    assert again.sync().newly_pinned is False
    assert again.notices == []

    new_root = make_root(session, now=app_now(), rotate=True)
    sign_keys(session, now=app_now())
    with pytest.raises(RootChangedError) as refused:
        make_verifier().sync()
    assert refused.value.code == "root_changed"
    with pytest.raises(RootChangedError):  # online checks refresh the key set, and refuse it too
        make_verifier(clock=lambda: app_now() + timedelta(minutes=10)).verify(token)
    assert make_verifier(offline=True).verify(token).verdict is Verdict.VALID  # the cache stays trusted

    # the Board's new letter gives the new thumbprint: the pin moves, and says so
    moved = make_verifier(trust=new_root.kid)
    assert moved.sync().root_source == "trust"
    assert "is replaced by" in moved.notices[0][0]
    assert make_verifier().verify(token).verdict is Verdict.VALID


def test_a_wrong_trusted_thumbprint_refuses_the_first_sync(session, master, signing_key, make_verifier, tmp_path):
    add_person(session)
    token = issue(session, master, now=app_now()).token
    _private, other = foreign_key()
    with pytest.raises(RootChangedError):
        make_verifier(trust=other).sync()
    with pytest.raises(RootChangedError):
        make_verifier(trust=other).verify(token)
    with pytest.raises(ClientError) as bad:
        make_verifier(trust="not a thumbprint")
    assert bad.value.code == "bad_input"
    root = key_service.active_key(session, KeyPurpose.ROOT)
    spaced = " ".join(root.kid[i : i + 4] for i in range(0, len(root.kid), 4))  # as printed in a letter
    assert make_verifier(trust=spaced).verify(token).verdict is Verdict.VALID


def test_inputs_url_card_image_and_text_file(session, master, signing_key, make_verifier, tmp_path):
    add_person(session)
    token = issue(session, master, now=app_now()).token
    url = f"{BASE_URL}/v/{token}"
    card = tmp_path / "card.png"
    card.write_bytes(qr.png(url))
    text_file = tmp_path / "qr.txt"
    text_file.write_text(url + "\n")
    verifier = make_verifier()
    for given in (token, url, card, str(card), str(text_file)):
        result = verifier.verify(given)
        assert result.verdict is Verdict.VALID, given
        assert result.staff is not None and result.staff.name == "Nguyễn Văn Đức"
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("L", (200, 200), 255).save(blank)
    with pytest.raises(InputError) as no_qr:
        verifier.verify(blank)
    assert "No QR code" in no_qr.value.message
    with pytest.raises(InputError):
        verifier.verify(str(tmp_path / "the-card.JPG"))  # mistyped: no such file
    binary = tmp_path / "noise.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError):
        verifier.verify(binary)


def test_library_result_and_json_are_stable(session, master, signing_key, make_verifier):
    add_person(session)
    token = issue(session, master, now=app_now()).token
    result = make_verifier().verify(token)
    assert isinstance(result, VerificationResult)
    assert result.valid and result.exit_code == 0 and result.kind == "staff"
    assert result.claims is not None and result.claims["sub"] == "TTTT-001"
    data = result.as_json()
    assert list(data) == CHECK_JSON_KEYS
    assert list(data["credential"]) == [
        "id",
        "kind",
        "subject",
        "name",
        "issued_at",
        "not_before",
        "expires_at",
    ]
    assert list(data["staff"]) == ["code", "name", "title", "unit", "status", "phone", "email"]
    assert list(data["data"]) == [
        "keyset_fetched_at",
        "keyset_expires_at",
        "status_list",
        "status_list_fetched_at",
        "status_list_expires_at",
        "roster_fetched_at",
        "stale",
    ]
    assert data["mode"] == "online" and data["error"] is None and data["staff"]["phone"] == "+84912345678"
    assert data["official_contacts"] == []  # the person's own contacts are the ones to call back on


def test_online_refreshes_only_what_is_out_of_date(session, master, signing_key, make_verifier, transport, tmp_path):
    add_person(session)
    token = issue(session, master, now=app_now()).token
    _fetcher, adapter = transport
    make_verifier().sync()
    adapter.calls.clear()
    assert make_verifier().verify(token).verdict is Verdict.VALID
    # the key set and roster are younger than their refresh interval; the status list
    # is revalidated on every check, and has not changed
    assert adapter.calls == ["/api/v1/status-lists/1"]
    # as if everything had been fetched two hours ago
    (state_file,) = (tmp_path / "cache" / "servers").glob("*.json")
    state = json.loads(state_file.read_text())
    for entry in [state["keyset"], state["roster"], state["jwks"], *state["status_lists"].values()]:
        entry["fetched_at"] -= 7200
    state_file.write_text(json.dumps(state))
    adapter.calls.clear()
    assert make_verifier().verify(token).verdict is Verdict.VALID
    assert adapter.calls == ["/api/v1/keyset", "/api/v1/roster", "/api/v1/status-lists/1"]


def test_a_new_list_or_key_is_fetched_online_but_not_offline(session, master, signing_key, make_verifier):
    add_person(session)
    make_verifier().sync()
    key_service.rotate_key(session, master, now=app_now())
    sign_keys(session, now=app_now() + timedelta(seconds=1))
    # signed by a key made after the sync (iat has a one-second grain)
    token = issue(session, master, now=app_now() + timedelta(seconds=2)).token
    with pytest.raises(NotSyncedError):
        make_verifier(offline=True).verify(token)  # a key unknown offline, the token newer than the key set...
    private, kid = foreign_key()
    older = resign(token, private, kid, iat=_claims(token)["iat"] - 3600)
    assert make_verifier(offline=True).verify(older).verdict is Verdict.UNKNOWN_KEY  # ...but not an older one
    assert make_verifier().verify(token).verdict is Verdict.VALID  # online asks again once


def test_without_a_server_or_a_sync_it_says_so(tmp_path, monkeypatch):
    with pytest.raises(NoServerError):
        Verifier(None, cache_dir=tmp_path)
    with pytest.raises(NoServerError):
        Verifier("ftp://example.org", cache_dir=tmp_path)
    with pytest.raises(NotSyncedError) as exc:
        Verifier(BASE_URL, clock=lambda: NOW, cache_dir=tmp_path, offline=True).sync()
    assert exc.value.code == "not_synced"


def test_a_cache_edited_by_hand_proves_nothing(session, master, signing_key, make_verifier, tmp_path):
    add_person(session)
    token = issue(session, master, now=app_now()).token
    make_verifier().sync()
    (state_file,) = (tmp_path / "cache" / "servers").glob("*.json")
    state = json.loads(state_file.read_text())
    state["status_lists"]["1"]["body"] = altered_payload(state["status_lists"]["1"]["body"], iat=0)
    state_file.write_text(json.dumps(state))
    with pytest.raises(NotSyncedError):
        make_verifier(offline=True).verify(token)
    state_file.write_text("{not json")
    with pytest.raises(NotSyncedError):
        make_verifier(offline=True).verify(token)
    assert make_verifier().verify(token).verdict is Verdict.VALID  # online re-syncs from the pin... or TOFU


def test_an_unwritable_cache_is_a_clear_error(session, master, signing_key, make_verifier, tmp_path):
    from verify.client.errors import CacheError

    add_person(session)
    issue(session, master, now=app_now())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError) as exc:
        make_verifier(cache_dir=blocker / "cache").sync()
    assert exc.value.code == "cache_error" and str(blocker) in exc.value.message
