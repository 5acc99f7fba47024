"""``flask --app app keys …``: generate, rotate, list and revoke signing keys, each
re-signing the served key set with ``--root FILE`` (else saying what offline
verifiers will see until ``keys root sign``); the root's commands are ``rootcli``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from keys import service as key_service
from keys.models import SigningKey
from registry.platform.cli import TAKES_ID, JsonFlag, actor, emit, emit_rows, unit_of_work
from registry.platform.clock import now
from registry.platform.config import master_key
from registry.signing import resign
from registry.signing import service as signing
from registry.signing.resign import key_json
from registry.signing.rootcli import root_cli

keys_cli = AppGroup("keys", help="Signing keys.")
keys_cli.add_command(root_cli)
ROOT_OPTION = click.option(
    "--root",
    "root_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The root key's file: re-sign the served key set in the same step.",
)


@keys_cli.command("generate")
@ROOT_OPTION
@JsonFlag
def keys_generate(root_file: Path | None, as_json: bool) -> None:
    """Create the first active signing key (--root FILE: re-sign the key set too)."""
    with unit_of_work() as session:
        private = resign.read(root_file)
        key = signing.generate(session, master_key(), actor=actor(), now=now())
        report = resign.after_change(session, private, changed=key.kid, what="new")
        emit(as_json, {**key_json(key), **report.json()}, f"generated signing key {key.kid}{report.text()}")


@keys_cli.command("rotate")
@ROOT_OPTION
@JsonFlag
def keys_rotate(root_file: Path | None, as_json: bool) -> None:
    """Make a new active key; the old one is retired and keeps verifying."""
    with unit_of_work() as session:
        private = resign.read(root_file)
        new, old = signing.rotate(session, master_key(), actor=actor(), now=now())
        report = resign.after_change(session, private, changed=new.kid, what="new")
        emit(
            as_json,
            {"active": key_json(new), "retired": key_json(old) if old else None, **report.json()},
            f"active key {new.kid}" + (f"; retired {old.kid}" if old else "") + report.text(),
        )


def _key_line(k: SigningKey) -> str:
    return f"{k.kid}  {k.purpose.value:8} {k.state.value:8} {k.created_at:%Y-%m-%d}"


@keys_cli.command("list")
@JsonFlag
def keys_list(as_json: bool) -> None:
    with unit_of_work() as session:
        emit_rows(as_json, "keys", key_service.list_keys(session), key_json, _key_line, "no keys")


@keys_cli.command("revoke", context_settings=TAKES_ID)
@click.argument("kid")
@click.option("--reason", default=signing.DEFAULT_REASON, show_default=True)
@ROOT_OPTION
@JsonFlag
def keys_revoke(kid: str, reason: str, root_file: Path | None, as_json: bool) -> None:
    """Revoke a key: everything it signed answers key_revoked."""
    with unit_of_work() as session:
        private = resign.read(root_file)
        key = signing.revoke(session, kid, actor=actor(), now=now(), reason=reason)
        report = resign.after_change(session, private, changed=key.kid, what="revoked")
        emit(as_json, {**key_json(key), **report.json()}, f"revoked key {key.kid}{report.text()}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(keys_cli)
