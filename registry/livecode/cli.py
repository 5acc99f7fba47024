"""``flask --app app live-code enrol CODE``: a staff member's authenticator, its
otpauth URI shown once (and its QR written as PNG on request)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from registry import qr
from registry.errors import ValidationError
from registry.livecode import service as livecode
from registry.platform.cli import JsonFlag, actor, emit, unit_of_work
from registry.platform.clock import now
from registry.platform.config import master_key

live_code_cli = AppGroup("live-code", help="Live codes (authenticator apps) of staff members.")


@live_code_cli.command("enrol")
@click.argument("code")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, writable=True), help="Write the otpauth QR as PNG.")
@JsonFlag
def live_code_enrol(code: str, png_path: str | None, as_json: bool) -> None:
    """Give staff member CODE a new live-code secret; prints the otpauth URI once."""
    with unit_of_work() as session:
        enrolment = livecode.enrol(session, master_key(), code, actor=actor(), now=now())
        if png_path:
            # written before the commit: if the file cannot be written, nothing changes
            try:
                Path(png_path).write_bytes(qr.png(enrolment.otpauth_uri))
            except OSError as exc:
                raise ValidationError(
                    "cannot write {path}: {reason}",
                    field="png",
                    params={"path": png_path, "reason": exc.strerror or exc},
                    code="cannot_write",
                ) from exc
        payload = {"staff_code": enrolment.staff_code, "otpauth_uri": enrolment.otpauth_uri}
        if png_path:
            payload["png"] = png_path
        emit(
            as_json,
            payload,
            f"live code enrolled for {enrolment.staff_code}; load this into the authenticator app "
            f"(it is not shown again):\n{enrolment.otpauth_uri}"
            + (f"\nQR code written to {png_path}" if png_path else ""),
        )


def register_cli(app: Flask) -> None:
    app.cli.add_command(live_code_cli)
