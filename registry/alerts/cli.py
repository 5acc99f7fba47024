"""``flask --app app alerts digest|show|on|off``: queue the daily digests of card
checks, and see or change which alerts a staff member gets."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from keys.contract import VN_TZ
from registry.alerts import service
from registry.alerts.models import AlertKind
from registry.platform.cli import JsonFlag, actor, emit, unit_of_work
from registry.platform.clock import now

alerts_cli = AppGroup("alerts", help="Alerts by email to the staff member whose name is used.")
KIND_CHOICE = click.Choice([k.value for k in AlertKind])


@alerts_cli.command("digest")
@click.option(
    "--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Viet Nam date (default: yesterday)."
)
@JsonFlag
def alerts_digest(day: datetime | None, as_json: bool) -> None:
    """Queue each staff member's digest of the agencies that checked their card that
    day; running it again for the same day queues nothing new."""
    at = now()
    wanted: date = day.date() if day is not None else (at.astimezone(VN_TZ) - timedelta(days=1)).date()
    with unit_of_work() as session:
        queued = service.queue_digests(session, day=wanted, now=at)
        emit(as_json, {"day": wanted.isoformat(), "queued": queued}, f"{wanted}: {queued} digest(s) queued")


@alerts_cli.command("show")
@click.argument("code")
@JsonFlag
def alerts_show(code: str, as_json: bool) -> None:
    """Which alerts CODE gets."""
    with unit_of_work() as session:
        alerts = {kind.value: on for kind, on in service.alert_settings(session, code).items()}
        emit(
            as_json,
            {"staff": code.upper(), "alerts": alerts},
            "\n".join(f"{kind}: {'on' if on else 'off'}" for kind, on in alerts.items()),
        )


def _switch(word: str, on: bool, help_text: str) -> None:
    """``alerts on|off CODE KIND``: one command each way, alike but for what it sets."""

    @alerts_cli.command(word, help=help_text)
    @click.argument("code")
    @click.argument("kind", type=KIND_CHOICE)
    @JsonFlag
    def switch(code: str, kind: str, as_json: bool) -> None:
        with unit_of_work() as session:
            changed = service.set_alert(session, code, AlertKind(kind), on=on, actor=actor(), now=now())
            emit(as_json, {"staff": code.upper(), "kind": kind, "on": on, "changed": changed}, f"{kind} alerts {word}")


_switch("on", True, "Turn alerts of KIND (live_code, report, digest) back on for CODE.")
_switch("off", False, "Turn alerts of KIND (live_code, report, digest) off for CODE.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(alerts_cli)
