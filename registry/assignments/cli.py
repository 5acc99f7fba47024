"""``flask --app app assignment …``: issue, suspend, reinstate, revoke and list
assignments (letters of introduction), and write a letter as PDF. With ``--json`` each
command prints exactly one JSON object on stdout; errors go to stderr, exit 1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from keys.contract import LETTER_PAGE, verification_url
from registry.assignments import letters
from registry.assignments import service as assignments
from registry.assignments.models import Assignment
from registry.assignments.pdf import render_letter_pdf
from registry.credentials.cli import add_status_commands
from registry.platform.cli import TAKES_ID, JsonFlag, actor, emit, emit_rows, unit_of_work
from registry.platform.clock import now
from registry.platform.config import base_url, master_key

assignment_cli = AppGroup("assignment", help="Assignments: signed letters of introduction to one agency.")


def assignment_json(a: Assignment) -> dict[str, Any]:
    cred = a.credential
    return {
        "id": cred.id,
        "staff_code": cred.staff.code,
        "staff_name": cred.staff.name,
        "agency": a.agency,
        "agency_domain": a.agency_domain,
        "purpose": a.purpose,
        "channels": a.channels,
        "letter_number": assignments.letter_number(a),
        "status": cred.status.value,
        "status_reason": cred.status_reason,
        "issued_at": cred.issued_at.isoformat(),
        "not_before": cred.not_before.isoformat() if cred.not_before else None,
        "expires_at": cred.expires_at.isoformat(),
        "issued_by": a.issued_by,
        "token": cred.token,
        "url": verification_url(base_url(), cred.token),
        "letter_url": verification_url(base_url(), cred.token, LETTER_PAGE),
    }


@assignment_cli.command("issue")
@click.argument("code")
@click.option("--agency", required=True, help="The target agency's name, as the letter addresses it.")
@click.option("--agency-domain", help="The agency's official email domain, e.g. khanhhoa.gov.vn.")
@click.option("--purpose", required=True, help="What the staff member is sent for.")
@click.option(
    "--days",
    type=click.IntRange(1, assignments.MAX_DAYS),
    default=assignments.DEFAULT_DAYS,
    show_default=True,
    help="Valid until the end of the N-th day after today (Viet Nam time).",
)
@click.option(
    "--channel",
    "channels",
    multiple=True,
    help="phone:NUMBER, email:ADDRESS or zalo:NUMBER the staff member will use (repeatable; "
    "default: their official phone and email).",
)
@JsonFlag
def assignment_issue(
    code: str,
    agency: str,
    agency_domain: str | None,
    purpose: str,
    days: int,
    channels: tuple[str, ...],
    as_json: bool,
) -> None:
    """Issue an assignment of staff member CODE to an agency."""
    with unit_of_work() as session:
        a = assignments.issue_assignment(
            session,
            master_key(),
            staff_code=code,
            agency=agency,
            agency_domain=agency_domain,
            purpose=purpose,
            channels=channels,
            days=days,
            base_url=base_url(),
            now=now(),
            actor=actor(),
        )
        cred = a.credential
        payload = {
            "id": cred.id,
            "token": cred.token,
            "url": verification_url(base_url(), cred.token),
            "letter_url": verification_url(base_url(), cred.token, LETTER_PAGE),
            "letter_number": assignments.letter_number(a),
            "not_before": cred.not_before.isoformat() if cred.not_before else None,
            "expires_at": cred.expires_at.isoformat(),
        }
        emit(
            as_json,
            payload,
            f"issued assignment {cred.id} (letter {assignments.letter_number(a)}) for {cred.staff.code} "
            f"to {a.agency}, valid until the end of {assignments.last_valid_day(cred.expires_at):%d/%m/%Y}\n"
            f"{payload['letter_url']}",
        )


add_status_commands(
    assignment_cli,
    "an assignment",
    lambda session, assignment_id, to, reason: assignments.change_status(
        session, assignment_id, to, actor=actor(), now=now(), reason=reason
    ),
    assignment_json,
    lambda a: f"assignment {a.credential_id} is now {a.credential.status.value}",
)


@assignment_cli.command("list")
@click.option("--staff", "staff_code", help="Only this staff member's assignments.")
@JsonFlag
def assignment_list(staff_code: str | None, as_json: bool) -> None:
    """Every assignment, newest first."""
    with unit_of_work() as session:
        found = assignments.list_assignments(session, staff_code=staff_code)
        emit_rows(as_json, "assignments", found, assignment_json, _assignment_line, "no assignments")


def _assignment_line(a: Assignment) -> str:
    return (
        f"{a.credential_id}  {assignments.letter_number(a):14} {a.credential.staff.code:10} "
        f"{a.credential.status.value:9} until "
        f"{assignments.last_valid_day(a.credential.expires_at):%d/%m/%Y}  {a.agency}"
    )


@assignment_cli.command("letter", context_settings=TAKES_ID)
@click.argument("assignment_id")
@click.option(
    "--pdf", "pdf_path", type=click.Path(dir_okay=False, writable=True), required=True, help="Write the one-page PDF."
)
@JsonFlag
def assignment_letter(assignment_id: str, pdf_path: str, as_json: bool) -> None:
    """Write the letter of an assignment in force as a one-page PDF."""
    with unit_of_work() as session:
        letter = letters.printable_letter(session, assignment_id, now=now())
        a = assignments.get_assignment(session, letter.id)
        pdf = render_letter_pdf(letter, url=verification_url(base_url(), a.credential.token))
        Path(pdf_path).write_bytes(pdf)
        emit(
            as_json,
            {"id": letter.id, "letter_number": letter.number, "pdf": pdf_path, "bytes": len(pdf)},
            f"letter {letter.number} written to {pdf_path}",
        )


def register_cli(app: Flask) -> None:
    """Add the ``assignment`` command group to ``app.cli``."""
    app.cli.add_command(assignment_cli)
