"""``flask --app app outbox deliver|list``: send what is due (WEBHOOK_URL, signed
with WEBHOOK_SECRET), or list what is waiting."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry.errors import ValidationError
from registry.outbox import delivery
from registry.outbox.models import OutboxMessage
from registry.platform.cli import JsonFlag, emit, emit_rows, fail, unit_of_work
from registry.platform.clock import now

outbox_cli = AppGroup("outbox", help="Webhook notifications of new reports.")


@outbox_cli.command("deliver")
@click.option("--retry-failed", is_flag=True, help="First put messages that were given up on back in the queue.")
@JsonFlag
def outbox_deliver(retry_failed: bool, as_json: bool) -> None:
    """Send due webhook notifications (WEBHOOK_URL, signed with WEBHOOK_SECRET)."""
    url = current_app.config.get("WEBHOOK_URL")
    secret = current_app.config.get("WEBHOOK_SECRET")
    if not url or not secret:
        fail(ValidationError("set WEBHOOK_URL and WEBHOOK_SECRET to deliver notifications", code="not_configured"))
    with unit_of_work() as session:
        revived = delivery.retry_failed(session, now=now()) if retry_failed else 0
        session.commit()
        result = delivery.deliver_pending(session, now=now(), url=str(url), secret=str(secret))
        pending = delivery.pending_count(session)
        payload = {
            "delivered": result.delivered,
            "retrying": result.retrying,
            "failed": result.failed,
            "skipped": result.skipped,
            "revived": revived,
            "pending": pending,
        }
        emit(
            as_json,
            payload,
            f"delivered {result.delivered}, will retry {result.retrying}, given up {result.failed}, "
            f"still pending {pending}",
        )


@outbox_cli.command("list")
@JsonFlag
def outbox_list(as_json: bool) -> None:
    """Notifications not yet delivered."""
    with unit_of_work() as session:
        emit_rows(as_json, "messages", delivery.waiting(session), delivery.describe, _line, "nothing waiting")


def _line(message: OutboxMessage) -> str:
    m = delivery.describe(message)
    return f"{m['key']}  {m['status']}  attempts {m['attempts']}  next {m['next_attempt_at']}  {m['last_error'] or ''}"


def register_cli(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
