"""The command-line kit every room's commands use (``flask --app app …``): one
session per command committed if it succeeds, ``--json`` printing exactly one JSON
object on stdout, the acting user, and one error format on stderr,
``error (<code>): <message>`` with exit status 1. Also the schema command."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from keys.errors import ChinhdanhError
from registry.platform.db import sessions
from registry.platform.errors import cli_line

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
JsonFlag = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
# Key ids and credential ids are base64url and one in 32 starts with "-": without this,
# click reads ``keys revoke -_Xy…`` as an unknown option instead of the id it is.
TAKES_ID = {"ignore_unknown_options": True}


def actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"[:64]


def fail(exc: ChinhdanhError) -> NoReturn:
    """Print ``exc`` in the one error format and exit with status 1."""
    click.echo(cli_line(exc), err=True)
    sys.exit(1)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One session per command: committed if the body returns, rolled back otherwise.
    The service's errors become one line on stderr and exit status 1."""
    session = sessions()()
    try:
        yield session
        session.commit()
    except ChinhdanhError as exc:
        session.rollback()
        fail(exc)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def emit(as_json: bool, payload: dict[str, Any], text: str | Callable[[], str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        click.echo(text() if callable(text) else text)


def emit_rows(
    as_json: bool, name: str, rows: Sequence[T], to_json: Callable[[T], Any], line: Callable[[T], str], none: str
) -> None:
    """A list: ``{name: [to_json(row)...]}`` with ``--json``, else one ``line`` a row
    (``none`` when there is none)."""
    emit(as_json, {name: [to_json(row) for row in rows]}, lambda: "\n".join(line(row) for row in rows) or none)


def emit_page(
    as_json: bool,
    name: str,
    rows: Sequence[T],
    total: int,
    to_json: Callable[[T], Any],
    line: Callable[[T], str],
    noun: str,
) -> None:
    """The first rows of a longer list (``--limit``): ``{"count": total, name:
    [to_json(row)...]}`` with ``--json``, else one ``line`` a row and ``N of TOTAL noun(s)``."""
    payload = {"count": total, name: [to_json(row) for row in rows]}
    emit(as_json, payload, lambda: "\n".join([*map(line, rows), f"{len(rows)} of {total} {noun}(s)"]))


def alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("prepend_sys_path", str(ROOT))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    return cfg


AFTER_UPGRADE = "chinhdanh.after_upgrade"


def after_upgrade(app: Flask, step: Callable[[], None]) -> None:
    """Run ``step`` after ``db upgrade`` migrates the schema: data changes that need the
    app's configuration (the master key), which a migration cannot know."""
    app.extensions.setdefault(AFTER_UPGRADE, []).append(step)


def upgrade_schema(revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(), revision)
    for step in current_app.extensions.get(AFTER_UPGRADE, []):
        step()


db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to REVISION (default: every head)."""
    upgrade_schema(revision)
    click.echo(f"database at {revision}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_cli)
