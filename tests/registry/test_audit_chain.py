"""Acceptance 3: editing, deleting or reordering one audit row directly in the
database makes `audit verify` fail and name it; an untouched log verifies. Checked
through the CLI and the console's audit page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from conftest import NOW, add_person, issue
from helpers_admin import cheap_argon2, make_admin, sign_in_client  # noqa: F401 - fixture
from sqlalchemy import text

from registry.accounts import signin
from registry.audit import service as audit
from registry.credentials.models import CredentialStatus
from registry.errors import AuthenticationError

pytestmark = pytest.mark.usefixtures("cheap_argon2", "signing_key")


def build_log(session: Any, master: Any) -> int:
    """Ten or so entries of different kinds and actors; returns how many."""
    add_person(session)
    add_person(session, code="TTTT-002", name="Trần Thị Minh Hằng")
    cred = issue(session, master)
    from registry.credentials import service as credentials

    credentials.change_status(
        session, cred.id, CredentialStatus.SUSPENDED, actor="alice", now=NOW + timedelta(minutes=1), reason="mất thẻ"
    )
    make_admin(session, master)
    for i in range(3):
        with pytest.raises(AuthenticationError):
            signin.authenticate(session, master, f"ghost{i}", "wrong password!!", "000000", now=NOW)
    audit.append(session, actor="bob", action="test.note", target="x", details={"ý": "Đức <b>"}, now=NOW)
    session.commit()
    return audit.verify_chain(session).entries


def run_verify(runner: Any) -> tuple[int, dict[str, Any], str]:
    result = runner.invoke(args=["audit", "verify", "--json"])
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


def test_untouched_log_verifies(runner, session, master):
    n = build_log(session, master)
    assert n >= 9
    code, payload, _err = run_verify(runner)
    assert code == 0
    assert payload == {"ok": True, "entries": n, "broken_seq": None, "reason": None}


TAMPERING = {
    "edit details": ("UPDATE audit_log SET details = :v WHERE seq = 4", {"v": '{"reason": "nothing to see"}'}, 4),
    "edit actor": ("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 5", {}, 5),
    "edit action": ("UPDATE audit_log SET action = 'staff.update' WHERE seq = 2", {}, 2),
    "edit target": ("UPDATE audit_log SET target = 'TTTT-999' WHERE seq = 1", {}, 1),
    "edit time": ("UPDATE audit_log SET at = :v WHERE seq = 6", {"v": NOW - timedelta(days=3)}, 6),
    "edit hash": ("UPDATE audit_log SET hash = :v WHERE seq = 3", {"v": "f" * 64}, 3),
    "delete middle": ("DELETE FROM audit_log WHERE seq = 5", {}, 6),
    "delete first": ("DELETE FROM audit_log WHERE seq = 1", {}, 2),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_named(runner, session, master, db_engine, case):
    build_log(session, master)
    sql, params, broken = TAMPERING[case]
    if "at = :v" in sql:
        from keys.orm import UTCDateTime

        params = {"v": UTCDateTime().process_bind_param(params["v"], None)}
    with db_engine.begin() as conn:
        conn.execute(text(sql), params)
    code, payload, err = run_verify(runner)
    assert code == 1
    assert payload["ok"] is False
    assert payload["broken_seq"] == broken, payload
    assert f"BROKEN at entry {broken}" in err


def test_reordering_two_rows_is_named(runner, session, master, db_engine):
    build_log(session, master)
    with db_engine.begin() as conn:  # swap the contents of entries 3 and 4 (seq stays the key)
        conn.execute(text("UPDATE audit_log SET seq = -3 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_log SET seq = 3 WHERE seq = 4"))
        conn.execute(text("UPDATE audit_log SET seq = 4 WHERE seq = -3"))
    code, payload, err = run_verify(runner)
    assert code == 1 and payload["broken_seq"] == 3
    assert "BROKEN at entry 3" in err


def test_removing_the_newest_row_is_named(runner, session, master, db_engine):
    n = build_log(session, master)
    with db_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = :n"), {"n": n})
    code, payload, _err = run_verify(runner)
    assert code == 1 and payload["broken_seq"] == n
    assert payload["reason"] == "entries after this point were removed"


def test_rewriting_a_row_with_a_recomputed_hash_fails_its_mac(runner, session, master, db_engine):
    """A forger who recomputes the edited row's own hash cannot recompute its MAC."""
    build_log(session, master)
    from registry.audit.chain import entry_hash
    from registry.audit.models import AuditEntry

    row = session.get(AuditEntry, 2)
    forged = entry_hash(row.seq, row.at, "mallory", row.action, row.target, row.details, row.prev_hash)
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory', hash = :h WHERE seq = 2"), {"h": forged})
    code, payload, _err = run_verify(runner)
    assert code == 1 and payload["broken_seq"] == 2
    assert payload["reason"] == "MAC does not match: edited or re-chained without the master key"


def test_console_audit_page_shows_the_break(app, session, master, db_engine):
    build_log(session, master)
    user, _ = make_admin(session, master, username="auditor")
    client = sign_in_client(app.test_client(), user)
    ok = client.get("/admin/audit?verify=1")
    assert b'data-chain="ok"' in ok.data
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'x' WHERE seq = 2"))
    broken = client.get("/admin/audit?verify=1")
    assert b'data-chain="broken"' in broken.data
    assert b"entry 2" in broken.data or "mục 2".encode() in broken.data


def test_audit_page_filters(app, session, master):
    build_log(session, master)
    user, _ = make_admin(session, master, username="auditor")
    client = sign_in_client(app.test_client(), user)

    def seqs(query: str) -> list[int]:
        page = client.get("/admin/audit" + query)
        assert page.status_code == 200
        import re

        return [int(s) for s in re.findall(r'data-seq="(\d+)"', page.data.decode())]

    everything = seqs("")
    assert everything == sorted(everything, reverse=True) and len(everything) >= 9
    failed = seqs("?action=auth.login_failed")
    assert len(failed) == 3
    assert seqs("?action=auth") == failed  # a prefix matches its family
    assert seqs("?actor=alice") and all(s in everything for s in seqs("?actor=alice"))
    assert seqs("?actor=nobody") == []
    assert seqs("?from=2026-11-20&to=2026-11-20") != []
    assert seqs("?from=2030-01-01") == []
    assert client.get("/admin/audit?from=20-11-2026").status_code == 400
    # user input in the log is shown escaped
    page = client.get("/admin/audit?actor=bob").data.decode()
    assert "Đức <b>" not in page
    assert "Đức &lt;b&gt;" in page
