"""``flask --app app channels add|list|remove``: the Centre's official channels."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from registry.channels import service as channels
from registry.channels.models import ChannelKind
from registry.platform.cli import JsonFlag, actor, emit, emit_rows, unit_of_work
from registry.platform.clock import now

channels_cli = AppGroup("channels", help="The Centre's official emails, phones, domains and web addresses.")

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
        emit_rows(
            as_json,
            "channels",
            records,
            _channel_json,
            lambda r: f"{r.kind.value:7} {r.value}  {r.label}",
            "no official channel",
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


def register_cli(app: Flask) -> None:
    """Add this part's command groups to ``app.cli``."""
    app.cli.add_command(channels_cli)
