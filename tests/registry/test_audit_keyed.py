"""Issue 13, the audit log no one can rewrite: entries MACed under a key derived from
the master key, signed checkpoints kept outside the database, and the migration of a
log written before the keys. Through the CLI, as an operator or an intruder would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import NOW
from helpers_admin import cheap_argon2  # noqa: F401 - fixture
from sqlalchemy import select, text, update
from test_audit_chain import build_log, run_verify

from keys import jose
from keys.contract import AUDIT_CHECKPOINT_TYP
from keys.crypto import MasterKey
from registry.audit import chain
from registry.audit.chain import AUDIT_MAC_LABEL, GENESIS_HASH, NO_MAC, entry_hash, entry_mac
from registry.audit.models import AuditEntry, AuditHead
from registry.outbox.models import OutboxMessage

pytestmark = pytest.mark.usefixtures("cheap_argon2", "signing_key")

MAC_REASON = "MAC does not match: edited or re-chained without the master key"


def take_checkpoint(runner: Any, path: Any) -> dict[str, Any]:
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    path.write_text(json.dumps(doc))
    return doc


def verify_against(runner: Any, path: Any) -> tuple[int, dict[str, Any], str]:
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(path), "--json"])
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def rows(db_engine: Any) -> list[Any]:
    with db_engine.connect() as conn:
        return list(conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)))


def rewrite_from(db_engine: Any, seq: int, *, actor: str, mac_key: bytes | None) -> None:
    """What an intruder with write access to the database does: edit entry ``seq``,
    recompute the plain SHA-256 chain from there (and, given a key, the MACs), and
    move the head to match."""
    prev = GENESIS_HASH
    with db_engine.begin() as conn:
        for row in conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).all():
            if row.seq >= seq:
                who = actor if row.seq == seq else row.actor
                digest = entry_hash(row.seq, row.at, who, row.action, row.target, row.details, prev)
                values: dict[str, Any] = {"actor": who, "prev_hash": prev, "hash": digest}
                if mac_key is not None:
                    values["mac"] = entry_mac(mac_key, row.seq, digest)
                conn.execute(update(AuditEntry).where(AuditEntry.seq == row.seq).values(**values))
                prev = digest
            else:
                prev = row.hash
        conn.execute(update(AuditHead).values(last_hash=prev))


def test_an_untouched_log_passes_and_keeps_extending_its_checkpoint(runner, session, master, tmp_path):
    n = build_log(session, master)
    path = tmp_path / "checkpoint.json"
    doc = take_checkpoint(runner, path)
    assert doc["seq"] == n and set(doc) == {"seq", "hash", "at", "kid", "signature"}
    assert doc["hash"] == session.get(AuditEntry, n).hash
    code, payload, _err = verify_against(runner, path)
    assert (code, payload["ok"], payload["entries"], payload["checkpoint_seq"]) == (0, True, n, n)
    chain.append(session, actor="bob", action="test.more", now=NOW)
    session.commit()
    code, payload, _err = verify_against(runner, path)
    assert (code, payload["ok"], payload["entries"], payload["checkpoint_seq"]) == (0, True, n + 1, n)
    assert runner.invoke(args=["audit", "verify"]).stdout.strip() == f"audit log intact: {n + 1} entries"


def test_deleting_the_tail_and_rewinding_the_head_is_caught_by_the_checkpoint(
    runner, session, master, db_engine, tmp_path
):
    n = build_log(session, master)
    path = tmp_path / "checkpoint.json"
    take_checkpoint(runner, path)
    keep = n - 3
    with db_engine.begin() as conn:
        kept_hash = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": keep}).scalar_one()
        conn.execute(text("DELETE FROM audit_log WHERE seq > :s"), {"s": keep})
        conn.execute(text("UPDATE audit_head SET seq = :s, last_hash = :h"), {"s": keep, "h": kept_hash})
    plain_code, plain, _ = run_verify(runner)
    assert (plain_code, plain["ok"], plain["entries"]) == (0, True, keep)  # what is left still verifies
    code, payload, err = verify_against(runner, path)
    assert code == 1 and payload["ok"] is False and payload["checkpoint_seq"] == n
    reason = f"the log no longer extends the checkpoint: it ends at entry {keep}, the checkpoint names entry {n}"
    assert payload["reason"] == reason
    assert err.strip() == f"error (audit_checkpoint_failed): audit checkpoint FAILED: {reason}"
    # the intruder's new entries bring the log back past the checkpoint's length: still caught
    for i in range(4):
        chain.append(session, actor="mallory", action="test.cover", target=str(i), now=NOW)
    session.commit()
    code, payload, _err = verify_against(runner, path)
    assert code == 1
    assert (
        payload["reason"]
        == f"the log no longer extends the checkpoint: entry {n} differs from it (the log was rewritten)"
    )


def test_editing_an_entry_and_rechaining_with_plain_sha256_is_caught(runner, session, master, db_engine):
    build_log(session, master)
    rewrite_from(db_engine, 3, actor="mallory", mac_key=None)
    code, payload, err = run_verify(runner)
    assert (code, payload["ok"], payload["broken_seq"], payload["reason"]) == (1, False, 3, MAC_REASON)
    assert "BROKEN at entry 3" in err


def test_rechaining_under_a_wrong_key_is_caught(runner, session, master, db_engine):
    build_log(session, master)
    wrong = MasterKey(bytes(range(1, 33))).derive(AUDIT_MAC_LABEL)
    rewrite_from(db_engine, 4, actor="mallory", mac_key=wrong)
    code, payload, _err = run_verify(runner)
    assert (code, payload["broken_seq"], payload["reason"]) == (1, 4, MAC_REASON)
    # the key is derived (HKDF, its own label), not the master key itself
    raw = bytes(range(32))
    rewrite_from(db_engine, 4, actor="mallory", mac_key=raw)
    assert run_verify(runner)[1]["broken_seq"] == 4


def test_an_edited_checkpoint_or_a_foreign_signature_is_refused(runner, client, session, master, tmp_path):
    build_log(session, master)
    path = tmp_path / "checkpoint.json"
    doc = take_checkpoint(runner, path)
    # anyone with the public JWKS checks the signature, without the master key
    parsed = jose.parse_token(doc["signature"], typs=frozenset({AUDIT_CHECKPOINT_TYP}))
    published = {k["kid"]: k for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    jose.verify_signature(parsed, jose.import_public(published[doc["kid"]]))
    assert {k: parsed.claims[k] for k in ("seq", "hash", "at")} == {k: doc[k] for k in ("seq", "hash", "at")}
    path.write_text(json.dumps({**doc, "seq": doc["seq"] - 1}))
    code, payload, _err = verify_against(runner, path)
    assert code == 1 and payload["reason"] == "the checkpoint's fields differ from what its signature covers"
    header, _claims, sig = doc["signature"].split(".")
    forged_claims = jose.b64url_encode(jose.compact_json({**parsed.claims, "seq": 1}))
    path.write_text(json.dumps({"signature": f"{header}.{forged_claims}.{sig}"}))
    code, payload, _err = verify_against(runner, path)
    assert code == 1 and payload["reason"] == "the checkpoint's signature does not verify"
    path.write_text("not json")
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(path)])
    assert result.exit_code == 1 and "is not a JSON checkpoint" in result.stderr


def make_legacy(db_engine: Any) -> None:
    """The log as the schema before issue 13 left it: no MACs, no recorded start."""
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET mac = NULL"))
        conn.execute(text("UPDATE audit_head SET keyed_since = NULL, legacy_head = NULL"))


def test_migration_keeps_old_entries_verifiable(runner, session, master, db_engine):
    n = build_log(session, master)
    make_legacy(db_engine)
    before = [(r.seq, r.hash, r.prev_hash) for r in rows(db_engine)]
    code, payload, _err = run_verify(runner)
    assert (code, payload["broken_seq"], payload["reason"]) == (1, 1, NO_MAC)
    result = runner.invoke(args=["audit", "rechain", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"macked": n, "keyed_since": n + 1, "legacy_head": before[-1][1]}
    after = rows(db_engine)
    assert [(r.seq, r.hash, r.prev_hash) for r in after[:n]] == before  # the old entries as they were
    assert after[n].action == "audit.rechain" and after[n].prev_hash == before[-1][1]
    assert after[n].details == {"macked_from": 1, "macked_to": n, "keyed_since": n + 1, "legacy_head": before[-1][1]}
    with db_engine.connect() as conn:
        head = conn.execute(text("SELECT keyed_since, legacy_head FROM audit_head")).one()
    assert tuple(head) == (n + 1, before[-1][1])
    assert run_verify(runner)[:2] == (0, {"ok": True, "entries": n + 1, "broken_seq": None, "reason": None})
    again = runner.invoke(args=["audit", "rechain"])
    assert again.exit_code == 0 and again.stdout.strip() == "nothing to re-chain: every entry has its MAC"


def test_migration_runs_after_db_upgrade_and_keeps_entries_written_meanwhile(runner, session, master, db_engine):
    n = build_log(session, master)
    make_legacy(db_engine)
    chain.append(session, actor="bob", action="test.after-upgrade", now=NOW)  # the app ran before the re-chain
    session.commit()
    with db_engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT keyed_since FROM audit_head")).one()) == (n + 1,)
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"re-chained {n} audit entries" in result.stderr
    code, payload, _err = run_verify(runner)
    assert (code, payload["entries"]) == (0, n + 2)


def test_a_broken_old_chain_is_not_rechained(runner, session, master, db_engine):
    build_log(session, master)
    make_legacy(db_engine)
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    result = runner.invoke(args=["audit", "rechain"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error (audit_chain_broken): audit log BROKEN at entry 2: content does not match its hash; "
        "it was not re-chained"
    )
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE mac IS NOT NULL")).scalar_one() == 0
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0 and "BROKEN at entry 2" in upgrade.stderr


@pytest.mark.parametrize("app", [{"AUDIT_CHECKPOINT_EVERY": 4}], indirect=True)
def test_the_outbox_carries_a_checkpoint_every_n_entries_and_on_demand(runner, session, master, tmp_path):
    n = build_log(session, master)
    sent = list(session.scalars(select(OutboxMessage).where(OutboxMessage.event == "audit.checkpoint")))
    assert [m.payload["seq"] for m in sent] == list(range(4, n + 1, 4))
    for message in sent:
        assert message.payload["hash"] == session.get(AuditEntry, message.payload["seq"]).hash
        path = tmp_path / f"cp{message.payload['seq']}.json"
        path.write_text(json.dumps(message.payload))
        assert verify_against(runner, path)[0] == 0
    result = runner.invoke(args=["audit", "checkpoint", "--send"])
    assert result.exit_code == 0, result.stderr
    daily = json.loads(result.stdout)
    keys = set(session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.event == "audit.checkpoint")))
    assert f"audit.checkpoint:{daily['seq']}:{daily['hash'][:16]}" in keys
    assert len(keys) == len(sent) + (0 if daily["seq"] % 4 == 0 else 1)


def test_a_session_without_the_audit_key_cannot_append(db_engine):
    from sqlalchemy.orm import Session

    with Session(db_engine) as bare, pytest.raises(RuntimeError, match="no audit context"):
        chain.append(bare, actor="x", action="y", now=NOW)


def test_a_real_upgrade_from_the_unkeyed_schema_rechains_the_old_log(tmp_path, clock):
    """An installation at 0010 (entries hashed, no MAC column) upgraded by `db upgrade`:
    the old entries keep their hashes and verify under the key afterwards."""
    from alembic import command
    from alembic.config import Config
    from conftest import ROOT, app_config

    from app import create_app
    from registry.platform.db import dispose_engines, make_engine

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("prepend_sys_path", str(ROOT))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0010_evidence_quota")
    engine = make_engine(url)
    prev, hashes = GENESIS_HASH, []
    with engine.begin() as conn:  # what the code before issue 13 wrote
        for seq in range(1, 6):
            at = NOW.replace(minute=seq)
            digest = entry_hash(seq, at, "cli:root", "staff.add", f"TTTT-00{seq}", {"n": seq}, prev)
            conn.execute(
                text(
                    "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash)"
                    " VALUES (:seq, :at, 'cli:root', 'staff.add', :target, :details, :prev, :hash)"
                ),
                {
                    "seq": seq,
                    "at": at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "target": f"TTTT-00{seq}",
                    "details": json.dumps({"n": seq}),
                    "prev": prev,
                    "hash": digest,
                },
            )
            hashes.append(digest)
            prev = digest
        conn.execute(text("INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 5, :h)"), {"h": prev})
    engine.dispose()
    application = create_app(app_config(url, tmp_path / "instance", CLOCK=clock))
    try:
        cli = application.test_cli_runner()
        upgraded = cli.invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        assert "re-chained 5 audit entries under the audit key" in upgraded.stderr
        after = cli.invoke(args=["audit", "verify", "--json"])
        assert after.exit_code == 0 and json.loads(after.stdout)["entries"] == 6
        with application.extensions["chinhdanh.sessionmaker"]() as s:
            assert [s.get(AuditEntry, n).hash for n in range(1, 6)] == hashes
            head = s.get(AuditHead, 1)
            assert (head.keyed_since, head.legacy_head) == (6, hashes[-1])
    finally:
        dispose_engines(application)
