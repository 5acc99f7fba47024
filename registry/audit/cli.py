"""``flask --app app audit verify``: check the hash chain and name the first broken
entry; ``audit revocations --since TIME``: what was revoked or suspended since a
time, with the command that re-applies it (after a restore of an older backup)."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from keys.contract import VN_TZ
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.errors import ConflictError
from registry.platform.cli import JsonFlag, emit, emit_rows, fail, unit_of_work

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


# the command group that changes each kind of thing named by an audit action
_GROUPS = {"credential": "credential", "assignment": "assignment", "key": "keys"}


def reapply_command(entry: AuditEntry) -> str | None:
    """The command that does ``entry``'s revocation again, or None for an action no
    command repeats."""
    noun, _, verb = entry.action.partition(".")
    group = _GROUPS.get(noun)
    if group is None:
        return None
    reason = (entry.details or {}).get("reason")
    words = ["flask", "--app", "app", group, verb, entry.target]
    if reason:
        words += ["--reason", str(reason)]
    return shlex.join(words)


def _since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("a time like 2026-12-01T10:00 (Viet Nam time unless it has a zone)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)


def _revocation_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "reason": (entry.details or {}).get("reason"),
        "command": reapply_command(entry),
    }


@audit_cli.command("revocations")
@click.option("--since", "since", required=True, help="A time, e.g. 2026-12-01T10:00 (Viet Nam time unless zoned).")
@JsonFlag
def audit_revocations(since: str, as_json: bool) -> None:
    """Revocations and suspensions logged since a time, oldest first, each with the
    command that re-applies it: after restoring a backup, run them again."""
    with unit_of_work() as session:
        entries = audit.revocations_since(session, _since(since))
        rows = [_revocation_json(e) for e in entries]
    emit_rows(
        as_json,
        "revocations",
        rows,
        lambda row: row,
        lambda row: f"{row['at']}  {row['action']}  {row['target']}  by {row['actor']}\n    {row['command'] or '-'}",
        "no revocation since then",
    )


def register_cli(app: Flask) -> None:
    app.cli.add_command(audit_cli)
