"""``flask --app app credential …``: issue a staff card (with its QR as PNG or SVG),
suspend, reinstate, revoke, list, and write the printable card. The suspend,
reinstate and revoke commands are made by ``add_status_commands``, which assignments
use too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from keys.contract import verification_url
from registry import qr
from registry.credentials import service as credentials
from registry.credentials.cards import render_card_standalone
from registry.credentials.models import Credential, CredentialKind, CredentialStatus
from registry.platform.cli import TAKES_ID, JsonFlag, actor, emit, emit_rows, unit_of_work
from registry.platform.clock import now
from registry.platform.config import base_url, master_key

credential_cli = AppGroup("credential", help="Staff credentials (cards).")
STATUS_VERBS = (
    ("suspend", CredentialStatus.SUSPENDED),
    ("reinstate", CredentialStatus.VALID),
    ("revoke", CredentialStatus.REVOKED),
)


def credential_json(cred: Credential) -> dict[str, Any]:
    return {
        "id": cred.id,
        "kind": cred.kind.value,
        "staff_code": cred.staff.code,
        "status": cred.status.value,
        "token": cred.token,
        "url": verification_url(base_url(), cred.token),
        "issued_at": cred.issued_at.isoformat(),
        "expires_at": cred.expires_at.isoformat(),
        "status_list": cred.status_list_id,
        "status_index": cred.status_index,
    }


@credential_cli.command("issue")
@click.argument("code")
@click.option(
    "--days", type=click.IntRange(1, credentials.MAX_DAYS), default=credentials.DEFAULT_DAYS, show_default=True
)
@click.option("--png", "png_path", type=click.Path(dir_okay=False, writable=True), help="Write the QR as PNG.")
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False, writable=True), help="Write the QR as SVG.")
@JsonFlag
def credential_issue(code: str, days: int, png_path: str | None, svg_path: str | None, as_json: bool) -> None:
    """Issue a credential; the holder's previous one is revoked as superseded."""
    with unit_of_work() as session:
        cred = credentials.issue_credential(
            session, master_key(), staff_code=code, base_url=base_url(), now=now(), actor=actor(), days=days
        )
        url = verification_url(base_url(), cred.token)
        if png_path:
            Path(png_path).write_bytes(qr.png(url))
        if svg_path:
            Path(svg_path).write_text(qr.svg(url), encoding="utf-8")
        emit(
            as_json,
            {"id": cred.id, "token": cred.token, "url": url, "expires_at": cred.expires_at.isoformat()},
            f"issued {cred.id} for {cred.staff.code}, valid until {cred.expires_at:%d/%m/%Y}\n{url}",
        )


def add_status_commands(
    group: AppGroup,
    noun: str,
    change: Callable[[Session, str, CredentialStatus, str | None], Any],
    to_json: Callable[[Any], dict[str, Any]],
    describe: Callable[[Any], str],
) -> None:
    """``suspend``, ``reinstate`` and ``revoke ID [--reason R] [--json]`` on ``group``."""
    for name, to in STATUS_VERBS:

        def _cmd(item_id: str, reason: str | None, as_json: bool, to: CredentialStatus = to) -> None:
            with unit_of_work() as session:
                changed = change(session, item_id, to, reason)
                emit(as_json, to_json(changed), describe(changed))

        command = JsonFlag(click.option("--reason")(click.argument("item_id", metavar="ID")(_cmd)))
        group.command(name, help=f"{name.capitalize()} {noun} by id.", context_settings=TAKES_ID)(command)


add_status_commands(
    credential_cli,
    "a credential",
    lambda session, cred_id, to, reason: credentials.change_status(
        session, cred_id, to, actor=actor(), now=now(), reason=reason, kind=CredentialKind.STAFF
    ),
    credential_json,
    lambda cred: f"credential {cred.id} is now {cred.status.value}",
)


@credential_cli.command("list")
@click.option("--staff", "staff_code")
@JsonFlag
def credential_list(staff_code: str | None, as_json: bool) -> None:
    with unit_of_work() as session:
        creds = credentials.list_credentials(session, staff_code=staff_code, kind=CredentialKind.STAFF)
        emit_rows(
            as_json,
            "credentials",
            creds,
            credential_json,
            lambda c: f"{c.id}  {c.staff.code:12} {c.status.value:9} until {c.expires_at:%d/%m/%Y}",
            "no credentials",
        )


@credential_cli.command("card", context_settings=TAKES_ID)
@click.argument("credential_id")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="Write a self-contained print page (card at ID-1 size).",
)
@JsonFlag
def credential_card(credential_id: str, html_path: str, as_json: bool) -> None:
    """Write the printable card of a credential as one HTML file."""
    with unit_of_work() as session:
        cred = credentials.get_credential(session, credential_id)
        Path(html_path).write_text(render_card_standalone(session, cred), encoding="utf-8")
        emit(as_json, {"id": cred.id, "html": html_path}, f"card written to {html_path}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(credential_cli)
