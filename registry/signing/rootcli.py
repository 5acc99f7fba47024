"""``flask --app app keys root …``: the offline root. ``generate --out FILE`` writes
its private key to a new 0600 file and stores only the public key; ``sign --root
FILE`` signs the key set once and stores it to be served as it is; ``export --out
FILE`` moves a root that an older version sealed in the database out to a file (all
or nothing) and signs the key set; ``show`` prints the thumbprint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from keys import root
from keys import service as key_service
from keys.models import KeyPurpose
from registry.platform.cli import JsonFlag, actor, emit, unit_of_work
from registry.platform.clock import now
from registry.platform.config import base_url, master_key
from registry.platform.db import ENGINE
from registry.signing import service as signing
from registry.signing.resign import key_json, keyset_json

root_cli = AppGroup("root", help="The offline root key that signs the key set.")
OUT = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A new file for the root's private key (0600, never overwritten).",
)
DAYS = click.option(
    "--days",
    type=click.IntRange(1, root.MAX_KEYSET_DAYS),
    default=root.DEFAULT_KEYSET_DAYS,
    show_default=True,
    help="How long the signed key set is valid.",
)
SCRUB_LOCK_TIMEOUT = "10s"  # VACUUM FULL waits this long for the key table, no longer
ROOT_FILE_NOTE = (
    "The root's private key is only in {path}: keep it off this server (offline, with a backup), "
    "and give it to `keys root sign --root FILE` when the key set must be signed."
)


@contextmanager
def _writing(path: Path) -> Iterator[Callable[[Ed25519PrivateKey], None]]:
    """A writer of ``path`` for use inside a unit of work: if the command then fails
    (or its commit does), the file it wrote is removed, so nothing half-done stays."""
    written: list[Path] = []

    def write(private: Ed25519PrivateKey) -> None:
        root.write_root_file(path, private)
        written.append(path)

    try:
        yield write
    except BaseException:
        for made in written:
            made.unlink(missing_ok=True)
        raise


def scrub_freed_space() -> None:
    """Rewrite the database so that the freed bytes of a cleared column are gone from
    its files too: SQLite VACUUM, then the write-ahead log folded in and truncated;
    PostgreSQL VACUUM FULL of the key table (its old file is deleted; what the WAL
    archive and earlier backups hold is the operator's to destroy, see README). The
    export is committed already: if the database is too busy, say what to run."""
    engine = current_app.extensions[ENGINE]
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("VACUUM"))
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            elif engine.dialect.name == "postgresql":
                conn.execute(text(f"SET lock_timeout = '{SCRUB_LOCK_TIMEOUT}'"))
                conn.execute(text("VACUUM FULL signing_keys"))
    except SQLAlchemyError as exc:
        click.echo(
            "warning: the root is out of the database, but its freed bytes could not be scrubbed now "
            f"({type(exc).__name__}): run VACUUM (SQLite) or VACUUM FULL signing_keys (PostgreSQL) "
            "when the database is quiet.",
            err=True,
        )


def _sign(session: Session, private: Ed25519PrivateKey, days: int) -> dict[str, object]:
    document = signing.sign_keyset(session, private, actor=actor(), issuer=base_url(), now=now(), days=days)
    return keyset_json(document)


@root_cli.command("generate")
@OUT
@click.option("--rotate", is_flag=True, help="Replace the current root key (by hand, rarely).")
@DAYS
@JsonFlag
def root_generate(out: Path, rotate: bool, days: int, as_json: bool) -> None:
    """Create the root key in FILE only; print its thumbprint for the Board's letters.
    The key set is signed with it at once."""
    with _writing(out) as write, unit_of_work() as session:
        key, private = signing.new_root(session, actor=actor(), now=now(), rotate=rotate)
        write(private)
        keyset = _sign(session, private, days)
        payload = {**key_json(key), "thumbprint": key.kid, "root_file": str(out), "keyset": keyset}
    emit(as_json, payload, f"root key thumbprint: {key.kid}\n" + ROOT_FILE_NOTE.format(path=out))


@root_cli.command("sign")
@click.option(
    "--root",
    "root_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The root key's file.",
)
@DAYS
@JsonFlag
def root_sign(root_file: Path, days: int, as_json: bool) -> None:
    """Sign the current key set once, valid for --days; the server serves it as it is."""
    with unit_of_work() as session:
        keyset = _sign(session, root.read_root_file(root_file), days)
        emit(
            as_json,
            {"thumbprint": keyset["root"], **keyset},
            f"key set version {keyset['version']} signed by {keyset['root']}, valid until {keyset['expires_at']}",
        )


@root_cli.command("export")
@OUT
@DAYS
@JsonFlag
def root_export(out: Path, days: int, as_json: bool) -> None:
    """Move a root kept in the database (by an older version) to FILE and clear it
    from the database, all or nothing; then sign the key set with it."""
    with _writing(out) as write, unit_of_work() as session:
        private = signing.export_root(session, master_key(), actor=actor(), now=now())
        write(private)
        keyset = _sign(session, private, days)
        thumbprint = root.thumbprint(private)
        payload = {"thumbprint": thumbprint, "root_file": str(out), "keyset": keyset}
    scrub_freed_space()
    emit(as_json, payload, f"root key {thumbprint} moved to {out}\n" + ROOT_FILE_NOTE.format(path=out))


@root_cli.command("show")
@JsonFlag
def root_show(as_json: bool) -> None:
    """Print the thumbprint of the active root key."""
    with unit_of_work() as session:
        key = key_service.active_key(session, KeyPurpose.ROOT)
        emit(as_json, {**key_json(key), "thumbprint": key.kid}, key.kid)
