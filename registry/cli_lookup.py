"""Commands of the agency's side: the Centre's official channels and live-code
enrolment. Like the rest of the CLI they parse, call a service in one unit of work,
and with ``--json`` print exactly one JSON object."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from registry import channels, livecode, qr
from registry.cli import JsonFlag, actor, emit, unit_of_work
from registry.models_lookup import ChannelKind
from registry.web import master_key, now

channels_cli = AppGroup("channels", help="The Centre's official emails, phones, domains and web addresses.")
live_code_cli = AppGroup("live-code", help="Live codes (authenticator apps) of staff members.")

KIND_CHOICE = click.Choice([k.value for k in ChannelKind])


def _channel_json(record: channels.ChannelRecord) -> dict[str, str]:
    return {"kind": record.kind.value, "value": record.value, "label": record.label}


@channels_cli.command("add")
@click.argument("value")
@click.option("--kind", type=KIND_CHOICE, help="email, phone, domain or url (guessed from VALUE if left out).")
@click.option("--label", required=True, help="What the channel is, as officers will read it.")
@JsonFlag
def channels_add(value: str, kind: str | None, label: str, as_json: bool) -> None:
    """List VALUE as an official channel of the Centre."""
    chosen = ChannelKind(kind) if kind else channels.guess_kind(value)
    with unit_of_work() as session:
        row = channels.add_channel(session, kind=chosen, value=value, label=label, actor=actor(), now=now())
        record = channels.ChannelRecord(kind=row.kind, value=row.value, label=row.label)
        emit(as_json, _channel_json(record), f"added {record.kind.value} {record.value} ({record.label})")


@channels_cli.command("list")
@click.option("--kind", type=KIND_CHOICE)
@JsonFlag
def channels_list(kind: str | None, as_json: bool) -> None:
    """Print the official channels."""
    with unit_of_work() as session:
        records = channels.list_channels(session, ChannelKind(kind) if kind else None)
        emit(
            as_json,
            {"channels": [_channel_json(r) for r in records]},
            lambda: "\n".join(f"{r.kind.value:7} {r.value}  {r.label}" for r in records) or "no official channel",
        )


@channels_cli.command("remove")
@click.argument("value")
@click.option("--kind", type=KIND_CHOICE, help="email, phone, domain or url (guessed from VALUE if left out).")
@JsonFlag
def channels_remove(value: str, kind: str | None, as_json: bool) -> None:
    """Unlist an official channel."""
    chosen = ChannelKind(kind) if kind else channels.guess_kind(value)
    with unit_of_work() as session:
        record = channels.remove_channel(session, kind=chosen, value=value, actor=actor(), now=now())
        emit(as_json, {"removed": _channel_json(record)}, f"removed {record.kind.value} {record.value}")


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
                raise click.ClickException(f"cannot write {png_path}: {exc.strerror or exc}") from exc
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
    """Add this part's command groups to ``app.cli``."""
    app.cli.add_command(channels_cli)
    app.cli.add_command(live_code_cli)
