"""``flask --app app keys …``: generate, rotate, list and revoke signing keys, and
generate or show the root key whose thumbprint the Board publishes."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from keys import service as key_service
from keys.models import KeyPurpose, SigningKey
from registry.platform.cli import TAKES_ID, JsonFlag, actor, emit, emit_rows, unit_of_work
from registry.platform.clock import now
from registry.platform.config import master_key
from registry.signing import service as signing

keys_cli = AppGroup("keys", help="Signing keys.")
root_cli = AppGroup("root", help="The root key that signs the key set.")
keys_cli.add_command(root_cli)


def key_json(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "purpose": key.purpose.value,
        "state": key.state.value,
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@keys_cli.command("generate")
@JsonFlag
def keys_generate(as_json: bool) -> None:
    """Create the first active signing key."""
    with unit_of_work() as session:
        key = signing.generate(session, master_key(), actor=actor(), now=now())
        emit(as_json, key_json(key), f"generated signing key {key.kid}")


@keys_cli.command("rotate")
@JsonFlag
def keys_rotate(as_json: bool) -> None:
    """Make a new active key; the old one is retired and keeps verifying."""
    with unit_of_work() as session:
        new, old = signing.rotate(session, master_key(), actor=actor(), now=now())
        emit(
            as_json,
            {"active": key_json(new), "retired": key_json(old) if old else None},
            f"active key {new.kid}" + (f"; retired {old.kid}" if old else ""),
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
@JsonFlag
def keys_revoke(kid: str, reason: str, as_json: bool) -> None:
    """Revoke a key: everything it signed answers key_revoked."""
    with unit_of_work() as session:
        key = signing.revoke(session, kid, actor=actor(), now=now(), reason=reason)
        emit(as_json, key_json(key), f"revoked key {key.kid}")


@root_cli.command("generate")
@click.option("--rotate", is_flag=True, help="Replace the current root key (by hand, rarely).")
@JsonFlag
def root_generate(rotate: bool, as_json: bool) -> None:
    """Create the root key; print its thumbprint for the Board's letters."""
    with unit_of_work() as session:
        if rotate:
            key, _old = signing.rotate(session, master_key(), actor=actor(), now=now(), purpose=KeyPurpose.ROOT)
        else:
            key = signing.generate(session, master_key(), actor=actor(), now=now(), purpose=KeyPurpose.ROOT)
        emit(as_json, {**key_json(key), "thumbprint": key.kid}, f"root key thumbprint: {key.kid}")


@root_cli.command("show")
@JsonFlag
def root_show(as_json: bool) -> None:
    """Print the thumbprint of the active root key."""
    with unit_of_work() as session:
        key = key_service.active_key(session, KeyPurpose.ROOT)
        emit(as_json, {**key_json(key), "thumbprint": key.kid}, key.kid)


def register_cli(app: Flask) -> None:
    app.cli.add_command(keys_cli)
