"""``flask --app app reports list|export|triage|import-evidence``: the impersonation reports.
Commands parse, call a service inside one unit of work, commit, print; with
``--json`` exactly one JSON object goes to stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry.platform.cli import JsonFlag, actor, emit, emit_page, unit_of_work
from registry.platform.clock import now
from verify.reports import triage
from verify.reports.evidence import EVIDENCE_DIR
from verify.reports.evidence_import import import_folder
from verify.reports.export import export_csv
from verify.reports.intake import report_json
from verify.reports.models import Report, ReportStatus

reports_cli = AppGroup("reports", help="Impersonation reports.")

STATUS_CHOICE = click.Choice([s.value for s in ReportStatus])


def _report_line(r: Report) -> str:
    return (
        f"{r.reference}  {r.status.value:<17}  {r.created_at:%Y-%m-%d %H:%M}Z  {r.channel.value:<9}  "
        f"{r.claimed_name or '-'}  [{r.reporter_agency}]"
    )


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
        if as_json:  # the reporters' contacts: who read them is audited
            references = [r.reference for r in reports]
            triage.record_bulk_read(session, references, action="report.list", actor=actor(), now=now())
        emit_page(as_json, "reports", reports, total, lambda r: report_json(r, full=True), _report_line, "report")


@reports_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, help="File (default stdout)."
)
def reports_export(fmt: str, output: str | None) -> None:
    """Every report with all its fields, oldest first."""
    with unit_of_work() as session:
        reports = triage.all_reports(session)
        references = [r.reference for r in reports]
        triage.record_bulk_read(session, references, action="report.export", actor=actor(), now=now())
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


@reports_cli.command("import-evidence")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The old evidence folder (default: instance/evidence).",
)
@JsonFlag
def reports_import_evidence(folder: Path | None, as_json: bool) -> None:
    """Move evidence files left on disk into the database (again: it skips what is
    there). Missing or damaged files are listed; the exit status is then 1."""
    source = folder or Path(current_app.instance_path) / EVIDENCE_DIR
    with unit_of_work() as session:
        done = import_folder(session.connection(), source)
    payload = {"moved": done.moved, "already": done.already, "missing": done.missing}
    emit(
        as_json,
        payload,
        lambda: "\n".join(
            [f"{done.moved} moved, {done.already} already in the database", *(f"missing {m}" for m in done.missing)]
        ),
    )
    if done.missing:
        sys.exit(1)


def register_cli(app: Flask) -> None:
    """Add this part's command groups to ``app.cli``."""
    app.cli.add_command(reports_cli)
