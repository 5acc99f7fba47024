"""``flask --app app backup FILE`` and ``restore FILE``: a consistent snapshot of every
table, evidence included, and its restore into an empty database (SQLite or
PostgreSQL). Both refuse with exit status 2 and one line on stderr: a non-empty
target, a damaged file, a file from a newer schema or format."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from keys.orm import Base
from registry.backup import service
from registry.platform.cli import alembic_config, upgrade_schema
from registry.platform.clock import now
from registry.platform.db import ENGINE
from registry.platform.errors import cli_line


def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def _known_revision() -> Callable[[str], bool]:
    """Whether a revision is one of this program's migrations."""
    known = {rev.revision for rev in _scripts().walk_revisions()}
    return known.__contains__


def _refuse(exc: service.BackupRefused) -> None:
    click.echo(cli_line(exc), err=True)
    sys.exit(service.REFUSED_EXIT)


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write a consistent, compressed snapshot of every table to FILE (mode 0600)."""
    engine = current_app.extensions[ENGINE]
    partial = file.with_name(file.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            written = service.write_backup(engine, Base.metadata, out, heads=list(_scripts().get_heads()), now=now())
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, file)  # a backup cut short never takes the name of a good one
    except service.BackupRefused as exc:
        partial.unlink(missing_ok=True)
        _refuse(exc)
        return
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(f"backup written to {file}: {written.tables} tables, {written.rows} rows")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore FILE into this (empty) database: schema at the backup's revision, its
    rows, then the schema brought up to date."""
    engine = current_app.extensions[ENGINE]
    try:
        header = service.read_header(file, _known_revision())
        revision = list(header["revision"])
        service.check_target(engine, revision)
        for rev in revision:
            upgrade_schema(rev)
        rows = service.load(engine, Base.metadata, file)
    except service.BackupRefused as exc:
        _refuse(exc)
        return
    upgrade_schema()
    click.echo(
        f"restored {rows} rows from {file} (taken {header.get('created_at')} at {', '.join(revision)}). "
        "Re-apply any revocation made after that time: flask --app app audit revocations --since ..."
    )


def register_cli(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
