"""``flask --app app warnings publish|withdraw|list``: the public warnings from the
command line. Commands parse, call the service inside one unit of work, commit,
print; with ``--json`` exactly one JSON object goes to stdout."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from registry.platform.cli import JsonFlag, actor, emit, emit_page, unit_of_work
from registry.platform.clock import now
from registry.platform.config import base_url
from verify.warnings import service
from verify.warnings.models import PublicWarning

warnings_cli = AppGroup("warnings", help="Public warnings about confirmed impostors.")


def warning_json(warning: PublicWarning) -> dict[str, Any]:
    return {
        "id": warning.id,
        "report": warning.report.reference,
        "url": f"{base_url()}/warnings/{warning.id}",
        "identifiers": warning.identifiers,
        "text": warning.text,
        "published_at": warning.published_at.isoformat(),
        "published_by": warning.published_by,
        "withdrawn_at": warning.withdrawn_at.isoformat() if warning.withdrawn_at else None,
    }


def first_identifier(warning: PublicWarning) -> str:
    return str(warning.identifiers[0]["value"]) if warning.identifiers else "-"


@warnings_cli.command("publish")
@click.argument("reference")
@click.option("--text", "text", required=True, help="The Centre's warning, as the public will read it.")
@click.option("--asked", default=None, help="What the impostor asked for (default: the report's own words).")
@JsonFlag
def warnings_publish(reference: str, text: str, asked: str | None, as_json: bool) -> None:
    """Publish the confirmed report REFERENCE as a public warning."""
    with unit_of_work() as session:
        warning = service.publish(session, reference, text=text, asked=asked, actor=actor(), now=now())
        body = warning_json(warning)
        emit(as_json, body, f"warning {warning.id} published: {body['url']}")


@warnings_cli.command("withdraw")
@click.argument("warning_id", type=click.IntRange(1))
@click.option("--reason", default=None, help="Why (kept in the audit log).")
@JsonFlag
def warnings_withdraw(warning_id: int, reason: str | None, as_json: bool) -> None:
    """Take warning WARNING_ID off /warnings and the feed."""
    with unit_of_work() as session:
        warning = service.withdraw(session, warning_id, reason=reason, actor=actor(), now=now())
        emit(as_json, warning_json(warning), f"warning {warning.id} withdrawn")


def _warning_line(w: PublicWarning) -> str:
    return (
        f"{w.id:>4}  {w.published_at:%Y-%m-%d}  {w.report.reference}  "
        f"{'withdrawn' if w.withdrawn_at else 'published'}  {first_identifier(w)}"
    )


@warnings_cli.command("list")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@JsonFlag
def warnings_list(limit: int, as_json: bool) -> None:
    """Every warning, withdrawn ones included, newest first."""
    with unit_of_work() as session:
        warnings = service.all_warnings(session, limit=limit)
        total = service.count_all(session)
        emit_page(as_json, "warnings", warnings, total, warning_json, _warning_line, "warning")


def register_cli(app: Flask) -> None:
    app.cli.add_command(warnings_cli)
