"""Admin account commands: ``admin create USERNAME --role R [--password-stdin]``
prints the account's otpauth URI and shows its QR in the terminal; ``admin reset-2fa
USERNAME`` replaces a lost authenticator. Both are audited; with ``--json`` each
prints exactly one JSON object on stdout (the QR then goes to stderr)."""

from __future__ import annotations

import sys

import click
import segno
from flask import Flask
from flask.cli import AppGroup

from registry.accounts import service as accounts
from registry.accounts.models import AdminRole
from registry.platform.cli import JsonFlag, actor, emit, unit_of_work
from registry.platform.clock import now
from registry.platform.config import master_key

admin_cli = AppGroup("admin", help="Admin console accounts.")


def _show_qr(uri: str, as_json: bool) -> None:
    """The otpauth QR for the authenticator app, drawn with terminal characters."""
    out = sys.stderr if as_json else sys.stdout
    segno.make(uri, error="m").terminal(out=out, compact=True, border=2)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return value


@admin_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in AdminRole]))
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@JsonFlag
def admin_create(username: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Create an active account; scan the QR with an authenticator app."""
    password = _read_password(password_stdin)
    with unit_of_work() as session:
        user = accounts.create_account(
            session,
            master_key(),
            username=username,
            role=accounts.parse_role(role),
            password=password,
            actor=actor(),
            now=now(),
        )
        uri = accounts.otpauth_uri(master_key(), user)
    _show_qr(uri, as_json)
    emit(
        as_json,
        {"username": user.username, "role": user.role.value, "otpauth_uri": uri},
        f"created {user.role.value} account {user.username}\nauthenticator: {uri}",
    )


@admin_cli.command("reset-2fa")
@click.argument("username")
@JsonFlag
def admin_reset_2fa(username: str, as_json: bool) -> None:
    """Replace a lost authenticator; the account's sessions end."""
    with unit_of_work() as session:
        user = accounts.get_account(session, username)
        uri = accounts.reset_totp(session, master_key(), user, actor=actor(), now=now())
    _show_qr(uri, as_json)
    emit(
        as_json,
        {"username": user.username, "role": user.role.value, "otpauth_uri": uri},
        f"new authenticator for {user.username}: {uri}",
    )


def register_cli(app: Flask) -> None:
    """Add this part's command groups to ``app.cli``."""
    app.cli.add_command(admin_cli)
