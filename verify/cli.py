"""Commands for impersonation reports and webhook notifications:
``reports list|export|triage`` and ``outbox deliver``. Commands parse, call a
service inside one unit of work, commit, print; with ``--json`` exactly one JSON
object goes to stdout."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry.cli import JsonFlag, actor, emit, unit_of_work
from registry.web import now
from verify import outbox, triage
from verify.models import OutboxMessage, Report, ReportStatus
from verify.reports import report_json

reports_cli = AppGroup("reports", help="Impersonation reports.")
outbox_cli = AppGroup("outbox", help="Webhook notifications of new reports.")

STATUS_CHOICE = click.Choice([s.value for s in ReportStatus])
# the columns of the CSV export, in order; lists (identifiers, files) are joined
CSV_COLUMNS = (
    "reference",
    "status",
    "created_at",
    "channel",
    "claimed_name",
    "claimed_title",
    "claimed_unit",
    "staff_code",
    "phone",
    "email",
    "social_link",
    "bank_account",
    "request_text",
    "amount_vnd",
    "occurred_at",
    "evidence_text",
    "reporter_agency",
    "reporter_contact",
    "language",
    "source",
    "identifiers",
    "files",
    "triage_note",
    "duplicate_of",
    "triaged_by",
    "triaged_at",
    "updated_at",
)
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # Excel would run these as formulas


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # a report is attacker-written text: never let Excel evaluate it (OWASP CSV injection)
    if text.startswith(CSV_FORMULA_START):
        return "'" + text
    return text


def _csv_row(report: Report) -> list[str]:
    data = report_json(report, full=True)
    data["identifiers"] = " ".join(f"{i['kind']}:{i['value']}" for i in data["identifiers"])
    data["files"] = " ".join(f"{f['name']} ({f['mime']}, {f['size']} B, sha256 {f['sha256']})" for f in data["files"])
    return [_csv_cell(data[column]) for column in CSV_COLUMNS]


def export_csv(reports: list[Report]) -> str:
    """CSV in UTF-8 with a byte order mark: Excel then shows Vietnamese correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        writer.writerow(_csv_row(report))
    return out.getvalue()


@reports_cli.command("list")
@click.option("--status", type=STATUS_CHOICE, default=None, help="Only reports in this status.")
@click.option("--limit", type=click.IntRange(1, triage.MAX_PAGE), default=100, show_default=True)
@JsonFlag
def reports_list(status: str | None, limit: int, as_json: bool) -> None:
    """List reports, newest first."""
    with unit_of_work() as session:
        wanted = ReportStatus(status) if status else None
        reports = triage.list_reports(session, status=wanted, limit=limit)
        total = triage.count_reports(session, status=wanted)
        payload = {"count": total, "reports": [report_json(r, full=True) for r in reports]}

        def text() -> str:
            lines = [
                f"{r.reference}  {r.status.value:<17}  {r.created_at:%Y-%m-%d %H:%M}Z  {r.channel.value:<9}  "
                f"{r.claimed_name or '-'}  [{r.reporter_agency}]"
                for r in reports
            ]
            return "\n".join([*lines, f"{len(reports)} of {total} report(s)"])

        emit(as_json, payload, text)


@reports_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, help="File (default stdout)."
)
def reports_export(fmt: str, output: str | None) -> None:
    """Every report with all its fields, oldest first."""
    with unit_of_work() as session:
        reports = triage.all_reports(session)
        if fmt == "csv":
            data = export_csv(reports)
        else:
            data = json.dumps(
                {"count": len(reports), "reports": [report_json(r, full=True) for r in reports]}, ensure_ascii=False
            )
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(data)
    else:
        sys.stdout.write(data if fmt == "csv" else data + "\n")


@reports_cli.command("triage")
@click.argument("reference")
@click.option(
    "--to", "to", type=click.Choice([s.value for s in ReportStatus if s is not ReportStatus.NEW]), required=True
)
@click.option("--note", default=None, help="Why (required for confirmed, not_impersonation, duplicate).")
@click.option("--duplicate-of", default=None, help="The earlier report this one repeats.")
@JsonFlag
def reports_triage(reference: str, to: str, note: str | None, duplicate_of: str | None, as_json: bool) -> None:
    """Move a report along new -> reviewing -> confirmed | not_impersonation | duplicate."""
    with unit_of_work() as session:
        report = triage.triage(
            session, reference, ReportStatus(to), note=note, actor=actor(), now=now(), duplicate_of=duplicate_of
        )
        emit(as_json, report_json(report, full=True), f"{report.reference}: {report.status.value}")


@outbox_cli.command("deliver")
@click.option("--retry-failed", is_flag=True, help="First put messages that were given up on back in the queue.")
@JsonFlag
def outbox_deliver(retry_failed: bool, as_json: bool) -> None:
    """Send due webhook notifications (WEBHOOK_URL, signed with WEBHOOK_SECRET)."""
    url = current_app.config.get("WEBHOOK_URL")
    secret = current_app.config.get("WEBHOOK_SECRET")
    if not url or not secret:
        click.echo("error (not_configured): set WEBHOOK_URL and WEBHOOK_SECRET to deliver notifications", err=True)
        sys.exit(1)
    with unit_of_work() as session:
        revived = outbox.retry_failed(session, now=now()) if retry_failed else 0
        session.commit()
        result = outbox.deliver_pending(session, now=now(), url=str(url), secret=str(secret))
        pending = outbox.pending_count(session)
        payload = {
            "delivered": result.delivered,
            "retrying": result.retrying,
            "failed": result.failed,
            "skipped": result.skipped,
            "revived": revived,
            "pending": pending,
        }
        emit(
            as_json,
            payload,
            f"delivered {result.delivered}, will retry {result.retrying}, given up {result.failed}, "
            f"still pending {pending}",
        )


@outbox_cli.command("list")
@JsonFlag
def outbox_list(as_json: bool) -> None:
    """Notifications not yet delivered."""
    from sqlalchemy import select

    from verify.models import OutboxStatus

    with unit_of_work() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.DELIVERED).order_by(OutboxMessage.id)
            )
        )
        items = [outbox.describe(m) for m in rows]
        emit(
            as_json,
            {"messages": items},
            lambda: (
                "\n".join(
                    f"{m['key']}  {m['status']}  attempts {m['attempts']}  next {m['next_attempt_at']}  "
                    f"{m['last_error'] or ''}"
                    for m in items
                )
                or "nothing waiting"
            ),
        )


def register_cli(app: Flask) -> None:
    """Add this part's command groups to ``app.cli``."""
    app.cli.add_command(reports_cli)
    app.cli.add_command(outbox_cli)
