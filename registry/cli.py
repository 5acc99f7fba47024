"""The admin command line (``flask --app app …``): schema, demo data, keys, staff,
credentials and the audit log. Commands parse, call a service inside one session,
commit, print. With ``--json`` a command prints exactly one JSON object on stdout;
errors go to stderr with a non-zero exit."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.orm import Session

from keys import service as key_service
from keys.errors import KeysError
from keys.models import KeyPurpose, SigningKey
from registry import audit, credentials, qr
from registry import staff as staff_service
from registry.errors import RegistryError
from registry.models import Credential, CredentialKind, CredentialStatus, StaffStatus
from registry.web import base_url, master_key, now

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


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One session per command: committed if the body returns, rolled back otherwise.
    Domain errors become a message on stderr and exit status 1."""
    session: Session = current_app.extensions["chinhdanh.sessionmaker"]()
    try:
        yield session
        session.commit()
    except (RegistryError, KeysError) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, RegistryError) else str(exc)
        click.echo(f"error ({exc.code}): {message}", err=True)
        sys.exit(1)
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


def key_json(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "purpose": key.purpose.value,
        "state": key.state.value,
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def credential_json(cred: Credential) -> dict[str, Any]:
    return {
        "id": cred.id,
        "kind": cred.kind.value,
        "staff_code": cred.staff.code,
        "status": cred.status.value,
        "token": cred.token,
        "url": credentials.verification_url(base_url(), cred.token),
        "issued_at": cred.issued_at.isoformat(),
        "expires_at": cred.expires_at.isoformat(),
        "status_list": cred.status_list_id,
        "status_index": cred.status_index,
    }


# ---------------------------------------------------------------- db

db_cli = AppGroup("db", help="Database schema.")


def alembic_config() -> Any:
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    cfg = Config()
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.set_main_option("prepend_sys_path", str(root))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    return cfg


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to REVISION (default: every head)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    click.echo(f"database at {revision}")


# ---------------------------------------------------------------- keys

keys_cli = AppGroup("keys", help="Signing keys.")
root_cli = AppGroup("root", help="The root key that signs the key set.")
keys_cli.add_command(root_cli)


@keys_cli.command("generate")
@JsonFlag
def keys_generate(as_json: bool) -> None:
    """Create the first active signing key."""
    with unit_of_work() as session:
        key = key_service.generate_key(session, master_key(), now=now())
        audit.append(session, actor=actor(), action="key.generate", target=key.kid, now=now())
        emit(as_json, key_json(key), f"generated signing key {key.kid}")


@keys_cli.command("rotate")
@JsonFlag
def keys_rotate(as_json: bool) -> None:
    """Make a new active key; the old one is retired and keeps verifying."""
    with unit_of_work() as session:
        new, old = key_service.rotate_key(session, master_key(), now=now())
        audit.append(
            session,
            actor=actor(),
            action="key.rotate",
            target=new.kid,
            details={"retired": old.kid if old else None},
            now=now(),
        )
        emit(
            as_json,
            {"active": key_json(new), "retired": key_json(old) if old else None},
            f"active key {new.kid}" + (f"; retired {old.kid}" if old else ""),
        )


@keys_cli.command("list")
@JsonFlag
def keys_list(as_json: bool) -> None:
    with unit_of_work() as session:
        keys = key_service.list_keys(session)
        emit(
            as_json,
            {"keys": [key_json(k) for k in keys]},
            lambda: (
                "\n".join(f"{k.kid}  {k.purpose.value:8} {k.state.value:8} {k.created_at:%Y-%m-%d}" for k in keys)
                or "no keys"
            ),
        )


@keys_cli.command("revoke", context_settings=TAKES_ID)
@click.argument("kid")
@click.option("--reason", default="compromised", show_default=True)
@JsonFlag
def keys_revoke(kid: str, reason: str, as_json: bool) -> None:
    """Revoke a key: everything it signed answers key_revoked."""
    with unit_of_work() as session:
        key = key_service.revoke_key(session, kid.strip(), now=now(), reason=reason[:500])
        audit.append(
            session, actor=actor(), action="key.revoke", target=key.kid, details={"reason": reason[:500]}, now=now()
        )
        emit(as_json, key_json(key), f"revoked key {key.kid}")


@root_cli.command("generate")
@click.option("--rotate", is_flag=True, help="Replace the current root key (by hand, rarely).")
@JsonFlag
def root_generate(rotate: bool, as_json: bool) -> None:
    """Create the root key; print its thumbprint for the Board's letters."""
    with unit_of_work() as session:
        if rotate:
            key, _old = key_service.rotate_key(session, master_key(), now=now(), purpose=KeyPurpose.ROOT)
        else:
            key = key_service.generate_key(session, master_key(), now=now(), purpose=KeyPurpose.ROOT)
        audit.append(session, actor=actor(), action="key.root_generate", target=key.kid, now=now())
        emit(as_json, {**key_json(key), "thumbprint": key.kid}, f"root key thumbprint: {key.kid}")


@root_cli.command("show")
@JsonFlag
def root_show(as_json: bool) -> None:
    """Print the thumbprint of the active root key."""
    with unit_of_work() as session:
        key = key_service.active_key(session, KeyPurpose.ROOT)
        emit(as_json, {**key_json(key), "thumbprint": key.kid}, key.kid)


# ---------------------------------------------------------------- staff

staff_cli = AppGroup("staff", help="Centre staff.")


def staff_json(s: Any) -> dict[str, Any]:
    return {
        "code": s.code,
        "name": s.name,
        "title": s.title,
        "unit": s.unit,
        "phone": s.phone,
        "email": s.email,
        "status": s.status.value,
        "has_photo": s.photo_mime is not None,
    }


def _read_photo(path: str | None) -> tuple[bytes | None, str | None]:
    if not path:
        return None, None
    from PIL import Image, UnidentifiedImageError

    data = Path(path).read_bytes()
    try:
        with Image.open(Path(path)) as img:
            mime = Image.MIME.get(img.format or "")
    except (UnidentifiedImageError, OSError) as exc:
        raise RegistryError(f"{path} is not an image", field="photo") from exc
    return data, mime


@staff_cli.command("add")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--title", required=True)
@click.option("--unit", required=True)
@click.option("--phone")
@click.option("--email")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False))
@JsonFlag
def staff_add(
    code: str, name: str, title: str, unit: str, phone: str | None, email: str | None, photo: str | None, as_json: bool
) -> None:
    """Register a staff member."""
    with unit_of_work() as session:
        data = staff_service.validate_staff(code=code, name=name, title=title, unit=unit, phone=phone, email=email)
        photo_bytes, mime = _read_photo(photo)
        s = staff_service.add_staff(session, data, actor=actor(), now=now(), photo=photo_bytes, photo_mime=mime)
        emit(as_json, staff_json(s), f"added {s.code} {s.name}")


@staff_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@JsonFlag
def staff_import(csv_file: str, as_json: bool) -> None:
    """Import CSV (code,name,title,unit,phone,email); idempotent; all or nothing."""
    try:
        text = Path(csv_file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        click.echo("error (invalid_import): the file is not UTF-8 text", err=True)
        sys.exit(1)
    with unit_of_work() as session:
        rows = staff_service.parse_csv(text)
        result = staff_service.import_staff(session, rows, actor=actor(), now=now())
        emit(
            as_json,
            {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            f"created {len(result.created)}, updated {len(result.updated)}, unchanged {len(result.unchanged)}",
        )


@staff_cli.command("list")
@JsonFlag
def staff_list(as_json: bool) -> None:
    with unit_of_work() as session:
        people = staff_service.list_staff(session)
        emit(
            as_json,
            {"staff": [staff_json(s) for s in people]},
            lambda: (
                "\n".join(f"{s.code:12} {s.status.value:9} {s.name} — {s.title}, {s.unit}" for s in people)
                or "no staff"
            ),
        )


def _staff_status_command(name: str, to: StaffStatus, help_text: str) -> None:
    @staff_cli.command(name, help=help_text)
    @click.argument("code")
    @click.option("--reason")
    @JsonFlag
    def _cmd(code: str, reason: str | None, as_json: bool) -> None:
        with unit_of_work() as session:
            s = staff_service.change_status(session, code, to, actor=actor(), now=now(), reason=reason)
            emit(as_json, staff_json(s), f"{s.code} is now {s.status.value}")


_staff_status_command("suspend", StaffStatus.SUSPENDED, "Suspend: every credential fails at once.")
_staff_status_command("reinstate", StaffStatus.ACTIVE, "Lift a suspension.")
_staff_status_command("depart", StaffStatus.DEPARTED, "Record a departure: every credential is revoked.")


# ---------------------------------------------------------------- credentials

credential_cli = AppGroup("credential", help="Staff credentials (cards).")


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
        url = credentials.verification_url(base_url(), cred.token)
        if png_path:
            Path(png_path).write_bytes(qr.png(url))
        if svg_path:
            Path(svg_path).write_text(qr.svg(url), encoding="utf-8")
        emit(
            as_json,
            {"id": cred.id, "token": cred.token, "url": url, "expires_at": cred.expires_at.isoformat()},
            f"issued {cred.id} for {cred.staff.code}, valid until {cred.expires_at:%d/%m/%Y}\n{url}",
        )


STATUS_VERBS = (
    ("suspend", CredentialStatus.SUSPENDED),
    ("reinstate", CredentialStatus.VALID),
    ("revoke", CredentialStatus.REVOKED),
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
        emit(
            as_json,
            {"credentials": [credential_json(c) for c in creds]},
            lambda: (
                "\n".join(f"{c.id}  {c.staff.code:12} {c.status.value:9} until {c.expires_at:%d/%m/%Y}" for c in creds)
                or "no credentials"
            ),
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
    from registry.cards import render_card_standalone

    with unit_of_work() as session:
        cred = credentials.get_credential(session, credential_id)
        Path(html_path).write_text(render_card_standalone(session, cred), encoding="utf-8")
        emit(as_json, {"id": cred.id, "html": html_path}, f"card written to {html_path}")


# ---------------------------------------------------------------- audit

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
@JsonFlag
def audit_verify(as_json: bool) -> None:
    """Check the hash chain; name the first broken entry."""
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    payload = {"ok": report.ok, "entries": report.entries, "broken_seq": report.broken_seq, "reason": report.reason}
    if report.ok:
        emit(as_json, payload, f"audit log intact: {report.entries} entries")
        return
    if as_json:
        click.echo(json.dumps(payload))
    click.echo(f"audit log BROKEN at entry {report.broken_seq}: {report.reason}", err=True)
    sys.exit(1)


# ---------------------------------------------------------------- demo


@click.command("demo")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def demo(as_json: bool) -> None:
    """Embedded default: schema, keys, demo staff and credentials, channels, live codes,
    an assignment; prints a verification URL."""
    from alembic import command

    from registry.demo import load_demo

    command.upgrade(alembic_config(), "heads")
    with unit_of_work() as session:
        result = load_demo(session, master_key(), base_url=base_url(), now=now(), actor=actor())
        emit(as_json, result, lambda: _demo_text(result))


def _demo_text(result: dict[str, Any]) -> str:
    lines = ["demo data ready.", f"root key thumbprint (pin it in the offline client): {result['root_thumbprint']}"]
    for enrolled in result["live_codes"]:
        lines.append(f"live code of {enrolled['staff_code']} (add to an authenticator app): {enrolled['otpauth_uri']}")
    lines.append(f"letter of introduction: {result['assignment']['letter_url']}")
    lines.append("verify a demo card: " + result["url"])
    return "\n".join(lines)


def register_cli(app: Flask) -> None:
    for group in (db_cli, keys_cli, staff_cli, credential_cli, audit_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo)
