"""``flask --app app audit verify|checkpoint|rechain|revocations``: check the keyed
chain (and that it still extends a checkpoint kept outside), sign a checkpoint (print
it, or send it to the webhook through the outbox), bring a log written before the keys
under the MAC key, and list what was revoked or suspended since a time, with the
command that re-applies it (after a restore of an older backup)."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import datetime
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import inspect

from keys.contract import VN_TZ
from registry.audit import chain, checkpoints
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.errors import ConflictError, ValidationError
from registry.platform.cli import JsonFlag, actor, after_upgrade, emit, emit_rows, fail, unit_of_work
from registry.platform.clock import now

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")
MAX_CHECKPOINT_FILE = 64 * 1024


def _read_checkpoint(path: str) -> Any:
    with open(path, "rb") as fh:
        raw = fh.read(MAX_CHECKPOINT_FILE + 1)
    if len(raw) > MAX_CHECKPOINT_FILE:
        fail(
            ValidationError("{path} is too large to be a checkpoint", code="invalid_checkpoint", params={"path": path})
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        fail(ValidationError("{path} is not a JSON checkpoint", code="invalid_checkpoint", params={"path": path}))


def _broken(as_json: bool, payload: dict[str, Any], seq: int | None, reason: str | None) -> None:
    if as_json:
        emit(True, payload, "")
    fail(
        ConflictError(
            "audit log BROKEN at entry {seq}: {reason}",
            code="audit_chain_broken",
            params={"seq": seq, "reason": reason},
        )
    )


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint kept outside: fail unless the log still extends it.",
)
@JsonFlag
def audit_verify(checkpoint_file: str | None, as_json: bool) -> None:
    """Check the keyed chain; name the first broken entry. With --checkpoint, also
    check that the log still extends that checkpoint (no tail deleted, nothing rewritten)."""
    doc = _read_checkpoint(checkpoint_file) if checkpoint_file else None
    with unit_of_work() as session:
        report = chain.verify_chain(session)
        checked = checkpoints.verify(session, doc) if checkpoint_file else None
    payload: dict[str, Any] = {
        "ok": report.ok,
        "entries": report.entries,
        "broken_seq": report.broken_seq,
        "reason": report.reason,
    }
    if not report.ok:
        _broken(as_json, payload, report.broken_seq, report.reason)
    if checked is not None:
        payload.update(ok=checked.ok, checkpoint_seq=checked.seq)
        if not checked.ok:
            payload.update(broken_seq=checked.broken_seq, reason=checked.reason)
            if as_json:
                emit(True, payload, "")
            fail(
                ConflictError(
                    "audit checkpoint FAILED: {reason}",
                    code="audit_checkpoint_failed",
                    params={"reason": checked.reason},
                )
            )
    extends = f"; it extends the checkpoint at entry {checked.seq}" if checked else ""
    emit(as_json, payload, f"audit log intact: {report.entries} entries{extends}")


@audit_cli.command("checkpoint")
@click.option("--send", is_flag=True, help="Also put it in the outbox for the webhook (a daily timer runs this).")
def audit_checkpoint(send: bool) -> None:
    """Print a signed checkpoint {seq, hash, at, kid, signature} of the whole log
    (signed by the active signing key; keep it outside the database)."""
    with unit_of_work() as session:
        doc = checkpoints.current(session, now=now())
        if send:
            checkpoints.enqueue(session, chain.context(session), doc["seq"], doc["hash"], now())
    click.echo(json.dumps(doc, ensure_ascii=False))


@audit_cli.command("rechain")
@JsonFlag
def audit_rechain(as_json: bool) -> None:
    """MAC the entries written before the keyed chain, after checking their plain
    hash chain; record where the keyed chain starts and the old head's hash."""
    with unit_of_work() as session:
        result = chain.rechain(session, actor=actor(), now=now())
    payload = {"macked": result.macked, "keyed_since": result.keyed_since, "legacy_head": result.legacy_head}
    text = (
        f"re-chained {result.macked} entries under the audit key; the keyed chain starts at entry "
        f"{result.keyed_since} (old head {result.legacy_head})"
        if result.macked
        else "nothing to re-chain: every entry has its MAC"
    )
    emit(as_json, payload, text)


def _rechain_after_upgrade() -> None:
    """``db upgrade`` runs this with the master key the migration could not know."""
    with unit_of_work() as session:
        columns = {c["name"] for c in inspect(session.connection()).get_columns("audit_log")}
        if "mac" not in columns:  # an upgrade to a revision before the keyed chain
            return
        if not chain.unkeyed_count(session):
            return
        report = chain.verify_chain(session, allow_unkeyed=True)
        if not report.ok:
            print(
                f"chinhdanh: the audit log is BROKEN at entry {report.broken_seq} ({report.reason}); "
                "it was not re-chained: investigate, then run `flask --app app audit rechain`",
                file=sys.stderr,
            )
            return
        result = chain.rechain(session, actor=actor(), now=now())
    print(f"chinhdanh: re-chained {result.macked} audit entries under the audit key", file=sys.stderr)


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
    after_upgrade(app, _rechain_after_upgrade)
