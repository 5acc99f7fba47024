"""A real SMTP server on loopback for the alert tests (aiosmtpd): it records every
message it accepts with its envelope, and can answer 451 to the first N messages."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())


@dataclass
class Recorder:
    fail_first: int = 0  # answer 451 to this many DATA commands first
    received: list[Received] = field(default_factory=list)
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refused < self.fail_first:
            self.refused += 1
            return "451 4.3.0 Temporary failure, try again later"
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 OK"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(recorder: Recorder, host: str = "127.0.0.1") -> Iterator[str]:
    """Run the server until the block ends; yields its ``SMTP_URL``."""
    port = free_port(host)
    controller = Controller(recorder, hostname=host, port=port)
    controller.start()
    try:
        yield f"smtp://{host}:{port}"
    finally:
        controller.stop()
