"""``flask --app app outbox deliver|list``: send what is due (webhook notifications
to WEBHOOK_URL, alert mails through SMTP_URL), or list what is waiting."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry.errors import ValidationError
from registry.outbox import delivery
from registry.outbox.mail import smtp_send
from registry.outbox.models import OutboxMessage
from registry.platform.cli import JsonFlag, emit, emit_rows, fail, unit_of_work
from registry.platform.clock import now
from registry.platform.config import smtp_server

outbox_cli = AppGroup("outbox", help="Webhook notifications of new reports and alert mails.")


@outbox_cli.command("deliver")
@click.option("--retry-failed", is_flag=True, help="First put messages that were given up on back in the queue.")
@JsonFlag
def outbox_deliver(retry_failed: bool, as_json: bool) -> None:
    """Send what is due: webhook notifications (WEBHOOK_URL, signed with
    WEBHOOK_SECRET) and alert mails (SMTP_URL, from MAIL_FROM), each where configured."""
    url = current_app.config.get("WEBHOOK_URL")
    secret = current_app.config.get("WEBHOOK_SECRET")
    server = smtp_server(current_app)
    if not (url and secret) and server is None:
        fail(
            ValidationError(
                "set WEBHOOK_URL and WEBHOOK_SECRET, or SMTP_URL and MAIL_FROM, to deliver the outbox",
                code="not_configured",
            )
        )
    with unit_of_work() as session:
        revived = delivery.retry_failed(session, now=now()) if retry_failed else 0
        session.commit()
        results = []
        if url and secret:
            results.append(delivery.deliver_pending(session, now=now(), url=str(url), secret=str(secret)))
        if server is not None:
            send = smtp_send(server, str(current_app.config["MAIL_FROM"]))
            results.append(delivery.deliver_due(session, now=now(), send=send, mail=True))
        pending = delivery.pending_count(session)
        payload = {
            "delivered": sum(r.delivered for r in results),
            "retrying": sum(r.retrying for r in results),
            "failed": sum(r.failed for r in results),
            "skipped": sum(r.skipped for r in results),
            "revived": revived,
            "pending": pending,
        }
        emit(
            as_json,
            payload,
            f"delivered {payload['delivered']}, will retry {payload['retrying']}, given up {payload['failed']}, "
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
