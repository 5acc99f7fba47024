"""``flask --app app staff …``: add (with a photo, cleaned as the console cleans
it), import from CSV, list, suspend, reinstate, depart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from registry.errors import ValidationError
from registry.platform.cli import JsonFlag, actor, emit, emit_rows, fail, unit_of_work
from registry.platform.clock import now
from registry.staff import imports
from registry.staff import service as staff_service
from registry.staff.models import Staff, StaffStatus
from registry.staff.photos import MAX_PHOTO_UPLOAD

staff_cli = AppGroup("staff", help="Centre staff.")


def staff_json(s: Staff) -> dict[str, Any]:
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
        s = staff_service.add_staff(session, data, actor=actor(), now=now(), photo=_read_upload(photo))
        emit(as_json, staff_json(s), f"added {s.code} {s.name}")


def _read_upload(path: str | None) -> bytes | None:
    """The file's bytes, at most one more than an upload may have: enough to refuse it."""
    if not path:
        return None
    with open(path, "rb") as fh:
        return fh.read(MAX_PHOTO_UPLOAD + 1)


@staff_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@JsonFlag
def staff_import(csv_file: str, as_json: bool) -> None:
    """Import CSV (code,name,title,unit,phone,email); idempotent; all or nothing."""
    try:
        text = Path(csv_file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(ValidationError("the file is not UTF-8 text", code="invalid_import"))
    with unit_of_work() as session:
        rows = imports.parse_csv(text)
        result = imports.import_staff(session, rows, actor=actor(), now=now())
        emit(
            as_json,
            {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            f"created {len(result.created)}, updated {len(result.updated)}, unchanged {len(result.unchanged)}",
        )


@staff_cli.command("list")
@JsonFlag
def staff_list(as_json: bool) -> None:
    with unit_of_work() as session:
        emit_rows(as_json, "staff", staff_service.list_staff(session), staff_json, _staff_line, "no staff")


def _staff_line(s: Staff) -> str:
    return f"{s.code:12} {s.status.value:9} {s.name} — {s.title}, {s.unit}"


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


def register_cli(app: Flask) -> None:
    app.cli.add_command(staff_cli)
