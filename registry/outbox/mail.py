"""Email delivery of the outbox's ``mail.*`` messages (alerts to staff members),
through the SMTP server of ``SMTP_URL``:

- ``smtp://[user:password@]host[:port]`` (port 25 by default): STARTTLS whenever the
  server offers it, with the system's certificate checks;
- ``smtps://[user:password@]host[:port]`` (port 465 by default): TLS from the start.

A message's payload holds its recipient, subject, plain-text body and Message-ID, all
written when it was queued, so every retry sends the same message. Any SMTP or network
error (a 4xx such as 451, a refusal, a timeout) leaves it for a retry with the outbox's
backoff; the message is never lost and, since a server that answered 2xx has it,
never sent twice by us."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from registry.outbox.delivery import Send
from registry.outbox.models import OutboxMessage
from registry.platform.smtp import SmtpServer

TIMEOUT_S = 10.0  # well under the outbox's LEASE


def local(host: str) -> bool:
    """Loopback: a relay on this machine, where plain SMTP never leaves it."""
    return host in ("localhost", "127.0.0.1", "::1")


def build(message: OutboxMessage, mail_from: str) -> EmailMessage:
    payload = message.payload
    mail = EmailMessage()
    mail["From"] = mail_from
    mail["To"] = payload["to"]
    mail["Subject"] = payload["subject"]
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = payload["message_id"]
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    mail.set_content(payload["body"], charset="utf-8")
    return mail


def smtp_send(server: SmtpServer, mail_from: str) -> Send:
    """A sender of one message per connection (alerts are few)."""

    def send(message: OutboxMessage) -> str | None:
        mail = build(message, mail_from)
        context = ssl.create_default_context()
        try:
            if server.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_S, context=context)
            else:
                client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S)
            with client:
                client.ehlo()
                if server.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                if server.username is not None:
                    if server.scheme == "smtp" and not client.has_extn("starttls") and not local(server.host):
                        return "the SMTP server offers no STARTTLS: the password is not sent in clear"
                    client.login(server.username, server.password or "")
                client.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    return send
