"""Acceptance 2 of the offline client: a status list past its expiry gives exit 2
unless --allow-stale, and answers tampered in transit (a proxy that flips bytes or
swaps in a foreign key) never turn a forged or revoked credential into ``valid``."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import TEST_ROOTS, add_person, sign_keys
from helpers_client import (
    altered_payload,
    flip_byte,
    foreign_key,
    live_server,
    public_jwk_of,
    resign,
    tampering_proxy,
)
from joserfc.jwk import OKPKey
from sqlalchemy.orm import Session

from keys import jose, statuslist
from keys import service as key_service
from keys.crypto import MasterKey
from keys.models import KeyPurpose
from registry.credentials.models import CredentialStatus
from registry.credentials.service import change_status, issue_credential
from verify.client import ClientError, Verifier
from verify.client.cli import main

pytestmark = pytest.mark.slow

Mutation = Callable[[str, int, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


def _claims(token: bytes | str) -> dict[str, Any]:
    text = token.decode() if isinstance(token, bytes) else token
    return dict(json.loads(jose.b64url_decode(text.split(".")[1])))


def _issue(session: Session, master: MasterKey, code: str, base: str) -> str:
    add_person(session, code, phone=None, email=None)
    token = issue_credential(session, master, staff_code=code, base_url=base, now=datetime.now(UTC), actor="test").token
    session.commit()
    return token


def _outcome(verifier: Verifier, token: str) -> str:
    try:
        return verifier.verify(token).verdict.value
    except ClientError as exc:
        return f"error:{exc.code}"


def test_tampered_answers_never_make_a_forged_or_revoked_credential_valid(
    app, session, master, signing_key, database_url, tmp_path
):
    upstream = {"url": ""}
    mode: dict[str, Mutation | None] = {"mutate": None}

    def mutate(path: str, status: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        change = mode["mutate"]
        return change(path, status, headers, body) if change else (status, headers, body)

    with (
        tampering_proxy(lambda: upstream["url"], mutate, conditional=lambda: mode["mutate"] is None) as proxy,
        live_server(database_url, tmp_path, public_url=proxy) as server,
    ):
        upstream["url"] = server.url
        from sqlalchemy import select

        from keys.models import SigningKey

        stolen = session.scalars(select(SigningKey).where(SigningKey.kid == signing_key.kid)).one()
        stolen_private = key_service.private_key(stolen, master)
        new_key, _retired = key_service.rotate_key(session, master, now=datetime.now(UTC))
        sign_keys(session, issuer=proxy, now=datetime.now(UTC))
        revoked = _issue(session, master, "TTTT-010", proxy)
        valid = _issue(session, master, "TTTT-011", proxy)
        import requests

        old_list = requests.get(proxy + "/api/v1/status-lists/1", timeout=10).content  # before the revocation
        # the same list as genuinely signed two hours ago, as an attacker may have recorded it
        two_hours_ago = int((datetime.now(UTC) - timedelta(hours=2)).timestamp())
        recorded = jose.sign(
            {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": new_key.kid},
            {**_claims(old_list), "iat": two_hours_ago, "exp": two_hours_ago + 86400},
            key_service.private_key(new_key, master),
        ).encode()
        change_status(session, _claims(revoked)["jti"], CredentialStatus.REVOKED, actor="test", now=datetime.now(UTC))
        key_service.revoke_key(session, stolen.kid, now=datetime.now(UTC), reason="test: stolen")
        sign_keys(session, issuer=proxy, now=datetime.now(UTC))
        root = key_service.active_key(session, KeyPurpose.ROOT)

        foreign, foreign_kid = foreign_key()
        forged_unknown = resign(valid, foreign, foreign_kid)
        forged_our_kid = altered_payload(valid, sub="TTTT-010", name="Kẻ Mạo Danh")
        forged_stolen = resign(valid, stolen_private, stolen.kid, name="Kẻ Mạo Danh")  # the thief signs
        all_valid = statuslist.encode_lst(bytes(statuslist.empty(1 << 16)))

        def resigned_list(body: bytes, private: Any, kid: str) -> bytes:
            claims = _claims(body)
            claims["status_list"]["lst"] = all_valid
            claims["iat"] += 1
            header = {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": kid}
            return jose.sign(header, claims, private).encode()

        def on(prefix: str, change: Callable[[bytes], bytes]) -> Mutation:
            def mutation(
                path: str, status: int, headers: dict[str, str], body: bytes
            ) -> tuple[int, dict[str, str], bytes]:
                matches = path.startswith(prefix) if prefix.endswith("/") else path == prefix
                if matches and status == 200:
                    return status, {k: v for k, v in headers.items() if k.lower() != "etag"}, change(body)
                return status, headers, body

            return mutation

        def foreign_keyset(body: bytes) -> bytes:
            claims = _claims(body)
            claims["keys"] = [
                {**public_jwk_of(foreign), "kid": foreign_kid, "use": "sig", "alg": "EdDSA", "state": "active"}
            ]
            return jose.sign({"alg": "EdDSA", "typ": "keyset+jwt", "kid": foreign_kid}, claims, foreign).encode()

        def recorded_keyset(body: bytes) -> bytes:
            # the genuine root's key set as recorded before the key was revoked (one version
            # earlier, two hours ago, still within its exp): it says "active"
            claims = _claims(body)
            claims["iat"] -= 7200
            claims["version"] -= 1
            for entry in claims["keys"]:
                if entry["kid"] == stolen.kid:
                    entry["state"], entry["revoked_at"] = "active", None
            header = {"alg": "EdDSA", "typ": "keyset+jwt", "kid": root.kid}
            return jose.sign(header, claims, OKPKey.import_key(TEST_ROOTS[root.kid])).encode()

        def foreign_jwks(body: bytes) -> bytes:
            return json.dumps(
                {"keys": [{**public_jwk_of(foreign), "kid": foreign_kid, "use": "sig", "alg": "EdDSA"}]}
            ).encode()

        scenarios: dict[str, Mutation | None] = {
            "clean": None,
            "status list signature flipped": on("/api/v1/status-lists/", lambda b: flip_byte(b, 2)),
            "status list payload flipped": on("/api/v1/status-lists/", lambda b: flip_byte(b, 1)),
            "status list all valid, foreign key": on(
                "/api/v1/status-lists/", lambda b: resigned_list(b, foreign, foreign_kid)
            ),
            "status list all valid, stolen revoked key": on(
                "/api/v1/status-lists/", lambda b: resigned_list(b, stolen_private, stolen.kid)
            ),
            "status list all valid, kid of the active key": on(
                "/api/v1/status-lists/", lambda b: resigned_list(b, foreign, new_key.kid)
            ),
            "status list replayed from before the revocation": on("/api/v1/status-lists/", lambda b: old_list),
            "status list recorded two hours ago": on("/api/v1/status-lists/", lambda b: recorded),
            "key set signature flipped": on("/api/v1/keyset", lambda b: flip_byte(b, 2)),
            "key set signed by a foreign root": on("/api/v1/keyset", foreign_keyset),
            "key set garbage": on("/api/v1/keyset", lambda b: b"<html>proxy error</html>"),
            "key set recorded two hours ago, stolen key active": on("/api/v1/keyset", recorded_keyset),
            "JWKS with a foreign key": on("/.well-known/jwks.json", foreign_jwks),
            "JWKS not JSON": on("/.well-known/jwks.json", lambda b: b"{not json"),
            "roster signed by a foreign key": on(
                "/api/v1/roster", lambda b: resign(b.decode(), foreign, foreign_kid).encode()
            ),
        }
        outcomes: dict[str, dict[str, str]] = {}
        for name, change in scenarios.items():
            # first contact through the tampering proxy, pinning the root given by the Board
            mode["mutate"] = change
            first = Verifier(proxy, cache_dir=tmp_path / f"first-{len(outcomes)}", trust=root.kid, retries=0)
            got = {}
            for label, token in [
                ("valid", valid),
                ("revoked", revoked),
                ("unknown", forged_unknown),
                ("forged", forged_our_kid),
                ("stolen", forged_stolen),
            ]:
                got[f"first {label}"] = _outcome(first, token)
            # and a client that synced cleanly before, meeting the tampering on a refresh
            mode["mutate"] = None
            later_dir = tmp_path / f"later-{len(outcomes)}"
            Verifier(proxy, cache_dir=later_dir, trust=root.kid).sync()
            mode["mutate"] = change
            later = Verifier(proxy, cache_dir=later_dir, trust=root.kid, retries=0)
            try:
                later.sync()
                got["later sync"] = "ok"
            except ClientError as exc:
                got["later sync"] = f"error:{exc.code}"
            for label, token in [
                ("revoked", revoked),
                ("unknown", forged_unknown),
                ("forged", forged_our_kid),
                ("stolen", forged_stolen),
            ]:
                got[f"later {label}"] = _outcome(later, token)
            outcomes[name] = got

    for name, got in outcomes.items():
        for label, outcome in got.items():
            if name == "status list replayed from before the revocation" and label == "first revoked":
                # a genuine list replayed within its ttl (one hour) cannot be told from the
                # current one on first contact: the limit of any status-list client
                continue
            if name == "key set recorded two hours ago, stolen key active" and label.startswith("first"):
                # likewise a genuine key set replayed within its exp, on first contact: the
                # limit of an offline root (TUF's freeze attack), bounded by the key set's
                # validity; a client that has seen the newer one refuses it (below)
                continue
            if label.endswith(("revoked", "unknown", "forged", "stolen")):
                assert outcome != "valid", (name, label, got)
    assert outcomes["clean"] == {
        "first valid": "valid",
        "first revoked": "revoked",
        "first unknown": "unknown_key",
        "first forged": "bad_signature",
        "first stolen": "key_revoked",
        "later sync": "ok",
        "later revoked": "revoked",
        "later unknown": "unknown_key",
        "later forged": "bad_signature",
        "later stolen": "key_revoked",
    }
    # each kind of tampering is noticed, not just survived
    expected_first_error = {
        "status list signature flipped": "error:untrusted",
        "status list payload flipped": "error:invalid_response",  # the flip breaks its JSON
        "status list all valid, foreign key": "error:untrusted",
        "status list all valid, stolen revoked key": "error:untrusted",
        "status list all valid, kid of the active key": "error:untrusted",
        "key set signature flipped": "error:untrusted",
        "key set signed by a foreign root": "error:root_changed",
        "key set garbage": "error:invalid_response",
        "roster signed by a foreign key": "error:untrusted",
        "status list recorded two hours ago": "error:rollback",
    }
    for name, code in expected_first_error.items():
        assert outcomes[name]["first revoked"] == code, (name, outcomes[name])
        assert outcomes[name]["later sync"] == code, (name, outcomes[name])
    # a recorded older key set is refused by a client that has seen the newer one
    recorded_keyset_outcome = outcomes["key set recorded two hours ago, stolen key active"]
    assert recorded_keyset_outcome["later sync"] == "error:rollback"
    assert recorded_keyset_outcome["later stolen"] == "key_revoked"  # its cached, newer key set decides
    # a replayed, genuinely signed older list is refused once a newer one is cached, by a
    # sync and by every online check (each revalidates the list)
    assert outcomes["status list replayed from before the revocation"]["later sync"] == "error:rollback"
    assert outcomes["status list replayed from before the revocation"]["later revoked"] == "error:rollback"
    # a foreign key in the plain JWKS is ignored: trust comes from the root-signed key set
    assert outcomes["JWKS with a foreign key"]["later sync"] == "ok"
    assert outcomes["JWKS with a foreign key"]["first unknown"] == "unknown_key"
    assert outcomes["JWKS not JSON"]["later sync"] == "ok"
    assert outcomes["JWKS not JSON"]["first revoked"] == "revoked"


def test_stale_status_list_exits_2_unless_allowed(app, session, master, signing_key, database_url, tmp_path):
    cache = tmp_path / "cache"
    with live_server(database_url, tmp_path) as server:
        sign_keys(session, issuer=server.url, now=datetime.now(UTC))
        valid = _issue(session, master, "TTTT-020", server.url)
        revoked = _issue(session, master, "TTTT-021", server.url)
        change_status(session, _claims(revoked)["jti"], CredentialStatus.REVOKED, actor="test", now=datetime.now(UTC))
        session.commit()
        sink = io.StringIO()
        assert (
            main(
                ["sync", "--server", server.url, "--cache-dir", str(cache), "--tofu"],
                environ={},
                stdout=sink,
                stderr=sink,
            )
            == 0
        )
    later = datetime.now(UTC) + timedelta(days=1, hours=1)  # the status list lives one day

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["--cache-dir", str(cache), "--offline", *args], environ={}, now=lambda: later, stdout=out, stderr=err
        )
        return code, out.getvalue(), err.getvalue()

    code, out, err = run(valid, "--lang", "en")
    assert code == 2
    assert "expired on" in err and "--allow-stale" in err and "Traceback" not in err
    code, out, err = run(revoked, "--json", "--lang", "vi")
    assert code == 2
    answer = json.loads(out)
    assert answer["verdict"] is None and answer["exit_code"] == 2 and answer["error"]["code"] == "stale"
    assert "hết hạn" in answer["error"]["message"]

    code, out, err = run(valid, "--allow-stale", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["verdict"] == "valid" and answer["data"]["stale"] is True
    code, out, err = run(revoked, "--allow-stale")
    assert code == 1
    assert "ĐÃ BỊ THU HỒI" in out and "CẢNH BÁO" in out
    # conclusive without any status: a forgery is a forgery however old the data
    code, out, err = run(altered_payload(valid, name="Kẻ Mạo Danh"), "--json")
    assert code == 1 and json.loads(out)["verdict"] == "bad_signature"
