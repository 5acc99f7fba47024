"""Issue 13, the offline root: the root's private key is only in the operator's file
(never in any row, column or byte of the database), the key set is signed once by
``keys root sign`` and served as stored, key commands re-sign with ``--root`` or say
what offline verifiers will see, the console acts on no root, the dashboard and
/readyz warn before the served key set expires, and an installation whose root an
older version sealed in the database moves it out with ``keys root export``."""

from __future__ import annotations

import base64
import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from factories import MASTER_B64, NOW, make_keys, pyjwt_leeway, stored_bytes
from helpers_admin import cheap_argon2, client_as, make_admin, sign_in_client  # noqa: F401 - fixture
from sqlalchemy import select
from sqlalchemy.engine import make_url

from keys import root as key_root
from keys import service as key_service
from keys.crypto import MasterKey
from keys.models import KeyPurpose, KeyState, SignedKeySet, SigningKey
from registry.accounts.models import AdminRole


def run(runner: Any, *args: str) -> Any:
    return runner.invoke(args=list(args))


def run_json(runner: Any, *args: str) -> dict[str, Any]:
    result = run(runner, *args, "--json")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    return dict(json.loads(lines[0]))


def key_forms(private: Ed25519PrivateKey) -> dict[str, bytes]:
    """Every spelling of a private key worth searching for."""
    raw = private.private_bytes_raw()
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = key_root.pem(private)
    pem_body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    return {
        "raw": raw,
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "der": der,
        "pem": pem,
        "pem body": pem_body,
    }


def database_bytes(session: Any, database_url: str) -> dict[str, bytes]:
    """Every row of every table, every column, as bytes; and on SQLite the raw files."""
    found = {"rows": stored_bytes(session)}
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        for suffix in ("", "-wal", "-journal", "-shm"):
            path = Path(url.database + suffix)
            if path.exists():
                found[f"file{suffix}"] = path.read_bytes()
    return found


def assert_nowhere(needles: dict[str, bytes], haystacks: dict[str, bytes]) -> None:
    hits = [f"{n} in {h}" for n, needle in needles.items() for h, hay in haystacks.items() if needle in hay]
    assert hits == []


def served(client: Any) -> str:
    resp = client.get("/api/v1/keyset")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return str(resp.get_data(as_text=True))


def verified_claims(token: str, private: Ed25519PrivateKey) -> dict[str, Any]:
    """The key set's claims, verified with the public half of the root file's key."""
    return dict(jwt.decode(token, private.public_key(), algorithms=["EdDSA"], leeway=pyjwt_leeway()))


# ---------------------------------------------------------------- generate and sign


def test_root_generate_writes_the_key_to_a_0600_file_only(runner, session, client, database_url, tmp_path):
    run_json(runner, "keys", "generate")
    out = tmp_path / "root.key"
    made = run_json(runner, "keys", "root", "generate", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    private = key_root.read_root_file(out)
    assert made["thumbprint"] == key_root.thumbprint(private) == made["kid"]
    assert made["keyset"]["version"] == 1
    row = session.scalars(select(SigningKey).where(SigningKey.purpose == KeyPurpose.ROOT)).one()
    assert row.private_key_sealed is None and row.kid == made["thumbprint"]
    assert (
        row.public_jwk["x"] == base64.urlsafe_b64encode(private.public_key().public_bytes_raw()).rstrip(b"=").decode()
    )
    # the database holds no form of the private key: rows and raw SQLite files
    session.commit()
    assert_nowhere(key_forms(private), database_bytes(session, database_url))
    # the served key set verifies with the root file's public key
    claims = verified_claims(served(client), private)
    assert claims["version"] == 1 and claims["exp"] - claims["iat"] == 30 * 86400
    assert [k["state"] for k in claims["keys"]] == ["active"]
    # the file is never overwritten, and a second root is a rotation
    before = out.read_bytes()
    refused = run(runner, "keys", "root", "generate", "--out", str(out))
    assert refused.exit_code == 1 and out.read_bytes() == before
    assert "active root key exists" in refused.stderr
    other = tmp_path / "other.key"
    refused = run(runner, "keys", "root", "generate", "--out", str(other))
    assert refused.exit_code == 1 and not other.exists()  # nothing half-written


def test_root_sign_signs_once_and_the_server_serves_it_as_stored(runner, session, client, tmp_path, clock):
    out = tmp_path / "root.key"
    run_json(runner, "keys", "generate")
    run_json(runner, "keys", "root", "generate", "--out", str(out))
    clock.at = NOW + timedelta(hours=1)
    signed = run_json(runner, "keys", "root", "sign", "--root", str(out), "--days", "10")
    assert signed["version"] == 2
    assert signed["expires_at"] == (NOW + timedelta(hours=1, days=10)).isoformat()
    stored = session.scalars(select(SignedKeySet).where(SignedKeySet.version == 2)).one()
    first, second = served(client), served(client)
    assert first == second == stored.token  # as stored: not signed per request
    claims = verified_claims(first, key_root.read_root_file(out))
    assert claims["iat"] == int((NOW + timedelta(hours=1)).timestamp())
    assert claims["exp"] == int((NOW + timedelta(hours=1, days=10)).timestamp())
    # another key than the active root is refused, and nothing is stored
    stranger = tmp_path / "stranger.key"
    key_root.write_root_file(stranger, Ed25519PrivateKey.generate())
    refused = run(runner, "keys", "root", "sign", "--root", str(stranger))
    assert refused.exit_code == 1 and refused.stderr.startswith("error (root_mismatch): ")
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    refused = run(runner, "keys", "root", "sign", "--root", str(garbage))
    assert refused.exit_code == 1 and refused.stderr.startswith("error (root_file): ")
    assert run(runner, "keys", "root", "sign", "--root", str(out), "--days", "0").exit_code == 2
    assert session.scalar(select(SignedKeySet.version).order_by(SignedKeySet.version.desc())) == 2


def test_key_commands_resign_with_root_and_warn_without(runner, client, tmp_path):
    out = tmp_path / "root.key"
    first = run_json(runner, "keys", "generate")
    run_json(runner, "keys", "root", "generate", "--out", str(out))
    private = key_root.read_root_file(out)

    rotated = run_json(runner, "keys", "rotate", "--root", str(out))
    assert rotated["keyset_stale"] is False and rotated["keyset"]["version"] == 2
    states = {k["kid"]: k["state"] for k in verified_claims(served(client), private)["keys"]}
    assert states == {first["kid"]: "retired", rotated["active"]["kid"]: "active"}

    # without --root: the change is made, the served key set is left as it was, and
    # stderr says exactly what offline verifiers see meanwhile
    result = run(runner, "keys", "rotate", "--json")
    assert result.exit_code == 0
    newest = json.loads(result.stdout)
    assert newest["keyset_stale"] is True and newest["keyset"] is None
    assert result.stderr.startswith(
        f"warning: the served key set (/api/v1/keyset) does not list the new key {newest['active']['kid']}"
    )
    assert "answer unknown_key for credentials it signs" in result.stderr
    assert "keys root sign --root FILE" in result.stderr
    assert newest["active"]["kid"] not in {k["kid"] for k in verified_claims(served(client), private)["keys"]}

    result = run(runner, "keys", "revoke", first["kid"], "--json")
    assert result.exit_code == 0
    assert f"still lists key {first['kid']} as it was before this revocation" in result.stderr
    assert "keep accepting what it signed" in result.stderr
    states = {k["kid"]: k["state"] for k in verified_claims(served(client), private)["keys"]}
    assert states[first["kid"]] == "retired"  # stale until signed again

    resigned = run_json(runner, "keys", "root", "sign", "--root", str(out))
    assert resigned["version"] == 3
    states = {k["kid"]: k["state"] for k in verified_claims(served(client), private)["keys"]}
    assert states[first["kid"]] == "revoked" and states[newest["active"]["kid"]] == "active"

    # a wrong root file changes nothing: the revocation is refused with it
    stranger = tmp_path / "stranger.key"
    key_root.write_root_file(stranger, Ed25519PrivateKey.generate())
    result = run(runner, "keys", "revoke", rotated["active"]["kid"], "--root", str(stranger))
    assert result.exit_code == 1 and result.stderr.startswith("error (root_mismatch): ")
    listed = {k["kid"]: k["state"] for k in run_json(runner, "keys", "list")["keys"]}
    assert listed[rotated["active"]["kid"]] == "retired"


def test_the_root_cannot_be_revoked_from_the_command_line(runner, tmp_path):
    made = run_json(runner, "keys", "root", "generate", "--out", str(tmp_path / "root.key"))
    result = run(runner, "keys", "revoke", made["thumbprint"])
    assert result.exit_code == 1 and result.stderr.startswith("error (root_key_action): ")
    assert run_json(runner, "keys", "root", "show")["state"] == "active"


def test_no_key_set_signed_is_503(client, session, master):
    key_service.generate_key(session, master, now=NOW)
    session.commit()
    resp = client.get("/api/v1/keyset")
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "no_keyset"


# ---------------------------------------------------------------- the console


@pytest.mark.usefixtures("cheap_argon2")
def test_the_console_refuses_any_action_on_the_root(app, session, master):
    make_keys(session, master)
    root = key_service.active_key(session, KeyPurpose.ROOT)
    admin = client_as(app, session, master, AdminRole.ADMIN)
    page = admin.get("/admin/keys").get_data(as_text=True)
    assert f'action="/admin/keys/{root.kid}/revoke"' not in page  # the page hides it...
    resp = admin.post(  # ...and the server refuses it all the same
        f"/admin/keys/{root.kid}/revoke",
        data={"confirm_kid": root.kid, "reason": "x", "csrf_token": _csrf(admin)},
    )
    assert resp.status_code == 403
    session.expire_all()
    assert key_service.active_key(session, KeyPurpose.ROOT).state is KeyState.ACTIVE
    signing = key_service.active_key(session)
    resp = admin.post(
        f"/admin/keys/{signing.kid}/revoke",
        data={"confirm_kid": signing.kid, "reason": "leaked", "csrf_token": _csrf(admin)},
    )
    assert resp.status_code == 302  # a signing key is still the console's to revoke
    page = admin.get("/admin/keys", follow_redirects=True).get_data(as_text=True)
    assert 'data-keyset="stale"' in page


def _csrf(client: Any) -> str:
    import re

    page = client.get("/admin/keys").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


@pytest.mark.usefixtures("cheap_argon2")
@pytest.mark.parametrize(
    ("after", "dashboard", "ready"),
    [
        (timedelta(days=22, hours=23), None, []),
        (timedelta(days=23, seconds=1), "expiring", ["keyset_expiring"]),
        (timedelta(days=30), "expired", ["keyset_expired"]),
    ],
)
def test_warnings_seven_days_before_the_key_set_expires(app, session, master, client, clock, after, dashboard, ready):
    make_keys(session, master)  # signed at NOW for 30 days
    clock.at = NOW + after
    body = client.get("/readyz").get_json()
    assert body["warnings"] == ready
    assert body["keyset"] == {"version": 1, "expires_at": (NOW + timedelta(days=30)).isoformat()}
    user, _secret = make_admin(session, master, AdminRole.REVIEWER)
    reviewer = sign_in_client(app.test_client(), user, at=clock.at)
    resp = reviewer.get("/admin/")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    shown = [state for state in ("expiring", "expired", "stale", "unsigned") if f'data-keyset="{state}"' in page]
    assert shown == ([dashboard] if dashboard else [])


def test_readyz_says_when_the_key_set_is_stale(session, master, client):
    make_keys(session, master)
    key_service.rotate_key(session, master, now=NOW)
    session.commit()
    assert client.get("/readyz").get_json()["warnings"] == ["keyset_stale"]


# ---------------------------------------------------------------- export


def legacy_root(session: Any, master: MasterKey) -> tuple[Ed25519PrivateKey, bytes]:
    """A root as versions before the offline root kept it: sealed in its row."""
    private = Ed25519PrivateKey.generate()
    public = key_root._public_jwk(private)
    kid = key_root.thumbprint(private)
    sealed = master.seal(private.private_bytes_raw(), key_service.sealing_aad(kid))
    session.add(
        SigningKey(
            kid=kid, purpose=KeyPurpose.ROOT, state=KeyState.ACTIVE, public_jwk=public, private_key_sealed=sealed
        )
    )
    session.commit()
    return private, sealed


def test_export_moves_a_sealed_root_out_of_the_database(runner, session, master, client, database_url, tmp_path):
    key_service.generate_key(session, master, now=NOW)
    private, sealed = legacy_root(session, master)
    before = database_bytes(session, database_url)
    assert sealed in before["rows"]  # the search finds what is there
    if "file" in before:
        assert sealed in before["file"] + before.get("file-wal", b"")
    session.commit()  # no transaction of ours holds the key table while the export scrubs it
    blocked = tmp_path / "exists.key"
    blocked.write_bytes(b"precious")
    refused = run(runner, "keys", "root", "export", "--out", str(blocked))
    assert refused.exit_code == 1 and blocked.read_bytes() == b"precious"
    session.expire_all()
    assert len(key_root.sealed_roots(session)) == 1  # all or nothing: still in the database

    out = tmp_path / "root.key"
    moved = run_json(runner, "keys", "root", "export", "--out", str(out))
    assert moved["thumbprint"] == key_root.thumbprint(private) and moved["keyset"]["version"] == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert key_root.read_root_file(out).private_bytes_raw() == private.private_bytes_raw()
    session.expire_all()
    assert key_root.sealed_roots(session) == []
    needles = {**key_forms(private), "sealed": sealed, "master": base64.b64decode(MASTER_B64)}
    assert_nowhere(needles, database_bytes(session, database_url))
    verified_claims(served(client), private)
    again = run(runner, "keys", "root", "export", "--out", str(tmp_path / "again.key"))
    assert again.exit_code == 1 and "not in the database" in again.stderr
    assert not (tmp_path / "again.key").exists()


# ---------------------------------------------------------------- the demo


def test_the_demo_keeps_its_root_in_instance_root_key(app, runner, session, master, client, database_url):
    result = run_json(runner, "demo")
    root_file = Path(app.instance_path) / "root.key"
    assert result["root_file"] == str(root_file)
    assert stat.S_IMODE(root_file.stat().st_mode) == 0o600
    private = key_root.read_root_file(root_file)
    assert result["root_thumbprint"] == key_root.thumbprint(private)
    claims = verified_claims(served(client), private)
    assert claims["version"] == 1
    token = result["url"].rsplit("/v/", 1)[1]
    assert client.get(f"/v/{token}", headers={"Accept": "application/json"}).json["verdict"] == "valid"
    assert_nowhere(key_forms(private), database_bytes(session, database_url))
    # again: the served key set is current, so it is not signed again
    assert run_json(runner, "demo")["root_thumbprint"] == result["root_thumbprint"]
    assert verified_claims(served(client), private)["version"] == 1
    # a root whose file is gone cannot sign: said, not guessed
    root_file.unlink()
    refused = run(runner, "demo")
    assert refused.exit_code == 1 and refused.stderr.startswith("error (root_file): ")


def test_the_demo_moves_an_older_demos_sealed_root_to_its_file(app, runner, session, master, client, database_url):
    private, sealed = legacy_root(session, master)
    result = run_json(runner, "demo")
    assert result["root_thumbprint"] == key_root.thumbprint(private)
    session.expire_all()
    assert key_root.sealed_roots(session) == []
    root_file = Path(app.instance_path) / "root.key"
    assert key_root.read_root_file(root_file).private_bytes_raw() == private.private_bytes_raw()
    verified_claims(served(client), private)
    assert_nowhere({**key_forms(private), "sealed": sealed}, database_bytes(session, database_url))
