"""Issue 13: ``keys reseal`` moves every sealed secret and the audit log's MACs to a
new master key, all or nothing. Round trip: under the new key every credential
verifies, new ones are signed, every admin's and staff member's TOTP works and the
audit log verifies (its checkpoints too); the old key opens nothing. A fault half-way
leaves everything under the old key, byte for byte."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from factories import MASTER_B64, NOW, add_person, app_config, issue
from helpers_admin import cheap_argon2, code_at, make_admin  # noqa: F401 - fixture
from sqlalchemy import text

from app import create_app
from keys.crypto import MasterKey
from keys.errors import MasterKeyError
from registry.accounts import signin
from registry.livecode import service as livecode
from registry.platform.db import dispose_engines
from registry.signing import reseal as resealing

pytestmark = pytest.mark.usefixtures("cheap_argon2", "signing_key")

SEALED = {
    "signing_keys": (
        # an offline root has no private key here (issue 13): only signing keys are sealed
        "SELECT kid, private_key_sealed FROM signing_keys WHERE private_key_sealed IS NOT NULL",
        b"chinhdanh:signing-key:",
    ),
    "admin_users": ("SELECT username, totp_secret_sealed FROM admin_users", b"chinhdanh:admin-totp:"),
    "live_code_secrets": (
        "SELECT s.code, l.secret_sealed FROM live_code_secrets l JOIN staff s ON s.id = l.staff_id",
        b"live-code-secret:",
    ),
}


def sealed_rows(db_engine: Any) -> dict[str, list[tuple[str, bytes]]]:
    with db_engine.connect() as conn:
        return {name: [(r[0], bytes(r[1])) for r in conn.execute(text(sql))] for name, (sql, _) in SEALED.items()}


def opens_with(master: MasterKey, rows: dict[str, list[tuple[str, bytes]]]) -> list[bool]:
    results = []
    for name, found in rows.items():
        prefix = SEALED[name][1]
        for owner, blob in found:
            try:
                master.open(blob, prefix + owner.encode())
                results.append(True)
            except MasterKeyError:
                results.append(False)
    return results


@pytest.fixture()
def estate(session: Any, master: MasterKey) -> dict[str, Any]:
    """Something of every sealed kind: keys (the fixture), two admins, two live codes,
    a credential and an audit log with a checkpoint."""
    add_person(session)
    add_person(session, code="TTTT-002", name="Trần Thị Minh Hằng")
    cred = issue(session, master)
    admins = [make_admin(session, master, username=name) for name in ("alice", "bob")]
    live = {}
    for code in ("TTTT-001", "TTTT-002"):
        uri = livecode.enrol(session, master, code, actor="test", now=NOW).otpauth_uri
        live[code] = pyotp.parse_uri(uri).secret
    session.commit()
    return {"cred": cred, "admins": admins, "live": live}


@pytest.fixture()
def new_key(tmp_path: Any) -> tuple[str, str]:
    path = tmp_path / "new-master.key"
    b64 = MasterKey.generate_b64()
    path.write_text(b64 + "\n")
    return str(path), b64


@pytest.fixture()
def app_with(database_url: str, tmp_path: Any, clock: Any) -> Iterator[Any]:
    made: list[Any] = []

    def build(b64: str) -> Any:
        application = create_app(
            app_config(database_url, tmp_path / f"i{len(made)}", CHINHDANH_MASTER_KEY=b64, CLOCK=clock)
        )
        made.append(application)
        return application

    yield build
    for application in made:
        dispose_engines(application)


def test_reseal_round_trip(runner, session, master, estate, new_key, db_engine, app_with, tmp_path):
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(runner.invoke(args=["audit", "checkpoint"]).stdout)
    before = sealed_rows(db_engine)
    assert [len(v) for v in before.values()] == [1, 2, 2] and all(opens_with(master, before))
    result = runner.invoke(args=["keys", "reseal", "--new-key-file", new_key[0], "--json"])
    assert result.exit_code == 0, result.stderr
    with db_engine.connect() as conn:
        entries = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert json.loads(result.stdout) == {
        "audit_entries": entries - 1,  # all but its own entry, written under the new key
        "signing_keys": 1,  # the root is offline: nothing of it to reseal
        "admin_totp_secrets": 2,
        "live_code_secrets": 2,
        "master_key_file": None,
    }
    new = MasterKey.from_b64(new_key[1])
    after = sealed_rows(db_engine)
    assert not any(opens_with(master, after))  # the old key opens nothing any more
    assert all(opens_with(new, after))

    fresh = app_with(new_key[1])
    client, cli = fresh.test_client(), fresh.test_cli_runner()
    answer = client.get("/api/v1/verify", query_string={"token": estate["cred"].token})
    assert answer.status_code == 200 and answer.json["verdict"] == "valid"
    issued = cli.invoke(args=["credential", "issue", "TTTT-002", "--json"])  # the signing key opens
    assert issued.exit_code == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    assert client.get("/api/v1/verify", query_string={"token": token}).json["verdict"] == "valid"
    later = NOW + timedelta(minutes=5)
    with fresh.extensions["chinhdanh.sessionmaker"]() as s:
        for user, secret in estate["admins"]:
            signed_in = signin.authenticate(
                s, new, user.username, "correct horse battery staple", code_at(secret, later), now=later
            )
            assert signed_in.username == user.username
        for code, secret in estate["live"].items():
            checked = livecode.check_code(s, new, code, pyotp.TOTP(secret).at(later), at=later)
            assert checked.answer is livecode.LiveCodeAnswer.VALID
        s.commit()
    verified = cli.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint), "--json"])
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["ok"] is True  # the checkpoint from before the reseal still holds
    old_verify = runner.invoke(args=["audit", "verify", "--json"])  # the app still on the old key
    assert old_verify.exit_code == 1
    assert json.loads(old_verify.stdout.splitlines()[-1])["broken_seq"] == 1
    with db_engine.connect() as conn:
        entry = conn.execute(text("SELECT actor, details FROM audit_log WHERE action = 'keys.reseal'")).one()
    assert entry[0].startswith("cli:")


class Boom(RuntimeError):
    pass


def test_a_fault_half_way_leaves_everything_under_the_old_key(
    runner, session, master, estate, new_key, db_engine, monkeypatch
):
    before = sealed_rows(db_engine)
    with db_engine.connect() as conn:
        macs = list(conn.execute(text("SELECT seq, mac FROM audit_log ORDER BY seq")))

    def fail_on_live_codes(*_args: Any) -> int:
        raise Boom("disk on fire")

    resealers = tuple((n, fail_on_live_codes if n == "live_code_secrets" else f) for n, f in resealing.RESEALERS)
    monkeypatch.setattr(resealing, "RESEALERS", resealers)  # keys and admin secrets are done when it fails
    result = runner.invoke(args=["keys", "reseal", "--new-key-file", new_key[0]])
    assert result.exit_code != 0 and isinstance(result.exception, Boom)
    assert sealed_rows(db_engine) == before
    with db_engine.connect() as conn:
        assert list(conn.execute(text("SELECT seq, mac FROM audit_log ORDER BY seq"))) == macs
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'keys.reseal'")).scalar_one() == 0
    assert all(opens_with(master, before))
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    later = NOW + timedelta(minutes=5)
    user, secret = estate["admins"][0]
    assert signin.authenticate(
        session, master, user.username, "correct horse battery staple", code_at(secret, later), now=later
    )


def test_a_blob_the_old_key_does_not_open_stops_the_reseal(runner, session, master, estate, new_key, db_engine):
    with db_engine.begin() as conn:  # one secret sealed under some other key
        stranger = MasterKey(bytes(range(7, 39)))
        conn.execute(
            text("UPDATE admin_users SET totp_secret_sealed = :b WHERE username = 'bob'"),
            {"b": stranger.seal(b"JBSWY3DPEHPK3PXP", b"chinhdanh:admin-totp:bob")},
        )
    before = sealed_rows(db_engine)
    result = runner.invoke(args=["keys", "reseal", "--new-key-file", new_key[0]])
    assert result.exit_code == 1
    assert "does not open with this master key" in result.stderr
    assert sealed_rows(db_engine) == before


def test_reseal_refuses_without_a_new_key_or_with_the_same_one(runner, estate, tmp_path, monkeypatch):
    monkeypatch.delenv("CHINHDANH_NEW_MASTER_KEY", raising=False)
    missing = runner.invoke(args=["keys", "reseal"])
    assert missing.exit_code == 1 and "--new-key-file FILE" in missing.stderr
    same = tmp_path / "same.key"
    same.write_text(MASTER_B64)
    result = runner.invoke(args=["keys", "reseal", "--new-key-file", str(same)])
    assert result.exit_code == 1 and "the new master key is the current one" in result.stderr
    bad = tmp_path / "bad.key"
    bad.write_text("not base64!")
    assert "the new master key" in runner.invoke(args=["keys", "reseal", "--new-key-file", str(bad)]).stderr


def test_reseal_generates_the_key_and_replaces_the_embedded_key_file(database_url, tmp_path, clock, session, estate):
    """The embedded default (no CHINHDANH_MASTER_KEY): instance/master.key is replaced."""
    instance = tmp_path / "embedded"
    instance.mkdir()
    (instance / "master.key").write_text(MASTER_B64 + "\n")
    config = app_config(database_url, instance, CLOCK=clock)
    del config["CHINHDANH_MASTER_KEY"]
    embedded = create_app(config)
    try:
        out = tmp_path / "fresh.key"
        result = embedded.test_cli_runner().invoke(args=["keys", "reseal", "--generate", "--new-key-file", str(out)])
        assert result.exit_code == 0, result.stderr
        assert (out.stat().st_mode & 0o777) == 0o600
        assert (instance / "master.key").read_text().strip() == out.read_text().strip()
        assert ((instance / "master.key").stat().st_mode & 0o777) == 0o600
        assert f"{instance / 'master.key'} now holds the new key" in result.stdout
        again = embedded.test_cli_runner().invoke(args=["keys", "reseal", "--generate", "--new-key-file", str(out)])
        assert again.exit_code == 1 and "exists" in again.stderr
    finally:
        dispose_engines(embedded)
    restarted = create_app(config)
    try:
        assert restarted.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    finally:
        dispose_engines(restarted)
