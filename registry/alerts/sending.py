"""Sending the queued alerts soon after the change that queued them, from a
background thread of the web process (as for webhooks): the request never waits for
the mail server, and ``outbox deliver`` (run by a timer) sends whatever is left."""

from __future__ import annotations

from flask import Flask, current_app

from registry.outbox import delivery
from registry.outbox.mail import smtp_send
from registry.platform.clock import clock_of
from registry.platform.config import smtp_server
from registry.platform.db import sessions


def send_mail_soon() -> None:
    """Start the mail sender if SMTP is configured; call after the commit."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    server = smtp_server(app)
    if server is None or not app.config["MAIL_SEND_AT_ONCE"]:
        return
    mail_from = str(app.config["MAIL_FROM"])
    delivery.send_in_background(sessions(), lambda _at: smtp_send(server, mail_from), clock=clock_of(app), mail=True)
