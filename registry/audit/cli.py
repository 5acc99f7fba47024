"""``flask --app app audit verify``: check the hash chain and name the first broken entry."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

from registry.audit import service as audit
from registry.errors import ConflictError
from registry.platform.cli import JsonFlag, emit, fail, unit_of_work

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
@JsonFlag
def audit_verify(as_json: bool) -> None:
    """Check the hash chain; name the first broken entry."""
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    payload = {"ok": report.ok, "entries": report.entries, "broken_seq": report.broken_seq, "reason": report.reason}
    if report.ok:
        emit(as_json, payload, f"audit log intact: {report.entries} entries")
        return
    if as_json:
        emit(True, payload, "")
    fail(
        ConflictError(
            "audit log BROKEN at entry {seq}: {reason}",
            code="audit_chain_broken",
            params={"seq": report.broken_seq, "reason": report.reason},
        )
    )


def register_cli(app: Flask) -> None:
    app.cli.add_command(audit_cli)
