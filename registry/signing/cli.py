"""``flask --app app keys …``: generate, rotate, list and revoke signing keys, each
re-signing the served key set with ``--root FILE`` (else saying what offline
verifiers will see until ``keys root sign``); the root's commands are ``rootcli``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from keys import service as key_service
from keys.crypto import MasterKey
from keys.errors import KeysError
from keys.models import SigningKey
from registry.errors import ValidationError
from registry.platform.cli import TAKES_ID, JsonFlag, actor, emit, emit_rows, fail, unit_of_work
from registry.platform.clock import now
from registry.platform.config import MASTER_KEY_FILE, master_key, write_secret_file
from registry.signing import reseal as resealing
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


@dataclass(frozen=True, slots=True)
class KeyChange:
    """What a command changed: the key the served key set must now list as it is, and
    how to say it (``--json`` and a line)."""

    kid: str
    json: dict[str, Any]
    line: str


def _change_keys(root_file: Path | None, what: str, as_json: bool, change: Callable[[Session], KeyChange]) -> None:
    """A key change and the served key set after it, in one unit of work: the root
    file read first (a wrong one changes nothing), then ``change`` made, then the key
    set re-signed with that root or said stale (``what``: new or revoked)."""
    with unit_of_work() as session:
        private = resign.read(root_file)
        done = change(session)
        report = resign.after_change(session, private, changed=done.kid, what=what)
        emit(as_json, {**done.json, **report.json()}, done.line + report.text())


def _generate(session: Session) -> KeyChange:
    key = signing.generate(session, master_key(), actor=actor(), now=now())
    return KeyChange(key.kid, key_json(key), f"generated signing key {key.kid}")


def _rotate(session: Session) -> KeyChange:
    new, old = signing.rotate(session, master_key(), actor=actor(), now=now())
    retired = f"; retired {old.kid}" if old else ""
    return KeyChange(
        new.kid, {"active": key_json(new), "retired": key_json(old) if old else None}, f"active key {new.kid}{retired}"
    )


def _new_key_command(name: str, help_text: str, change: Callable[[Session], KeyChange]) -> None:
    """``keys generate|rotate [--root FILE]``: the commands that make a new active key."""

    @keys_cli.command(name, help=help_text)
    @ROOT_OPTION
    @JsonFlag
    def command(root_file: Path | None, as_json: bool) -> None:
        _change_keys(root_file, "new", as_json, change)


_new_key_command("generate", "Create the first active signing key (--root FILE: re-sign the key set too).", _generate)
_new_key_command("rotate", "Make a new active key; the old one is retired and keeps verifying.", _rotate)


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

    def revoke(session: Session) -> KeyChange:
        key = signing.revoke(session, kid, actor=actor(), now=now(), reason=reason)
        return KeyChange(key.kid, key_json(key), f"revoked key {key.kid}")

    _change_keys(root_file, "revoked", as_json, revoke)


NEW_KEY_ENV = "CHINHDANH_NEW_MASTER_KEY"


def _new_master_key(new_key_file: str | None, generate: bool) -> tuple[MasterKey, str]:
    """The new master key, from --new-key-file (written first with --generate) or the
    environment; returns it with its base64 text. Fails with a clear message."""
    if generate:
        if not new_key_file:
            fail(ValidationError("--generate needs --new-key-file FILE to write the new key to", code="no_new_key"))
        try:
            write_secret_file(Path(new_key_file), MasterKey.generate_b64())
        except FileExistsError:
            fail(ValidationError("{path} exists: --generate writes a new file only", params={"path": new_key_file}))
    if new_key_file:
        try:
            text = Path(new_key_file).read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            fail(ValidationError("cannot read {path}: {error}", params={"path": new_key_file, "error": str(exc)}))
    elif os.environ.get(NEW_KEY_ENV):
        text = os.environ[NEW_KEY_ENV].strip()
    else:
        fail(
            ValidationError(
                f"give the new master key: --new-key-file FILE (with --generate for a fresh one) or {NEW_KEY_ENV}",
                code="no_new_key",
            )
        )
    try:
        return MasterKey.from_b64(text), text
    except KeysError as exc:
        fail(ValidationError("the new master key: {error}", code="bad_new_key", params={"error": str(exc)}))


@keys_cli.command("reseal")
@click.option(
    "--new-key-file", type=click.Path(dir_okay=False), help="A file holding the new key (base64 of 32 bytes)."
)
@click.option("--generate", is_flag=True, help="First write a fresh key into --new-key-file (0600; must not exist).")
@JsonFlag
def keys_reseal(new_key_file: str | None, generate: bool, as_json: bool) -> None:
    """Re-encrypt every sealed secret and re-MAC the audit log under a new master key,
    all or nothing. Stop the web service first; start it with the new key after."""
    new, text = _new_master_key(new_key_file, generate)
    with unit_of_work() as session:
        result = resealing.reseal(session, master_key(), new, actor=actor(), now=now())
    embedded = current_app.config.get(MASTER_KEY_FILE)
    if embedded:  # the embedded default: its key file is the configuration
        write_secret_file(Path(embedded), text, replace=True)
        step = f"{embedded} now holds the new key"
    else:
        step = "now set CHINHDANH_MASTER_KEY to the new key and restart every instance"
    counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in result.counts.items())
    emit(
        as_json,
        {**result.counts, "master_key_file": embedded},
        f"resealed under the new master key: {counts}; {step}. The old key opens nothing any more.",
    )


def register_cli(app: Flask) -> None:
    app.cli.add_command(keys_cli)
