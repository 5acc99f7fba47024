"""Webhook notifications (acceptance 2): a receiver on 127.0.0.1 that fails twice
then succeeds gets each report exactly once, signed; a dead receiver neither loses
nor delays a report."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from factories import NOW
from flask.testing import FlaskClient
from helpers_reports import valid_report
from helpers_server import serve_handler
from sqlalchemy import select

from registry.outbox import delivery as outbox
from registry.outbox.models import OutboxMessage, OutboxStatus

# the delivery thread and the webhook server work beside the request: their own connections
pytestmark = pytest.mark.e2e

SECRET = "webhook-test-secret-ổn-định"


def _t0() -> datetime:
    """Just after the reports were written (the app's clock stamps them at NOW)."""
    moment: datetime = NOW + timedelta(seconds=1)
    return moment


class Receiver:
    """A webhook endpoint that answers 500 to the first ``fail_first`` requests of each
    delivery key, then 200, and keeps what it accepted keyed by delivery id."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.accepted: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                with receiver.lock:
                    receiver.requests.append((headers, body))
                    key = headers["X-Chinhdanh-Delivery"]
                    seen = sum(1 for h, _ in receiver.requests if h["X-Chinhdanh-Delivery"] == key)
                    ok = seen > receiver.fail_first
                    if ok and key not in receiver.accepted:  # idempotent by the delivery key
                        receiver.accepted[key] = json.loads(body)
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.handler = Handler
        self.url = ""  # where it listens, once served


@contextmanager
def receiving(fail_first: int) -> Iterator[Receiver]:
    """A Receiver listening until the block ends."""
    receiver = Receiver(fail_first)
    with serve_handler(receiver.handler) as base:
        receiver.url = f"{base}/hook"
        yield receiver


def independent_check(headers: dict[str, str], body: bytes, *, at: datetime) -> None:
    """What a receiver does, written from the documentation, not from our code."""
    timestamp = headers["X-Chinhdanh-Timestamp"]
    assert abs(int(timestamp) - at.timestamp()) <= 300
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Chinhdanh-Signature"], "sha256=" + expected)
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Idempotency-Key"] == headers["X-Chinhdanh-Delivery"]


class Recorder:
    """A ``post`` function that records and answers a fixed status."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.sent: list[Mapping[str, str]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.sent.append(headers)
        return self.status


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with receiving(fail_first=2) as r:
        yield r


def _submit(client: FlaskClient, **overrides: Any) -> str:
    resp = client.post("/api/v1/reports", json=valid_report(**overrides))
    assert resp.status_code == 201
    body: dict[str, Any] = resp.get_json()
    return str(body["reference"])


def test_fails_twice_then_succeeds_each_report_exactly_once(client, session, receiver):
    refs = [_submit(client), _submit(client, claimed_name="Lê Thị Hoa")]
    t0 = t = _t0()
    results = []
    for _ in range(6):
        results.append(outbox.deliver_pending(session, now=t, url=receiver.url, secret=SECRET))
        t += timedelta(hours=1)
    assert [r.retrying for r in results[:2]] == [2, 2]
    assert results[2].delivered == 2
    assert all(r.delivered + r.retrying + r.failed == 0 for r in results[3:])  # nothing sent again
    assert set(receiver.accepted) == {f"report.created:{ref}" for ref in refs}
    assert {a["reference"] for a in receiver.accepted.values()} == set(refs)
    assert len(receiver.requests) == 6  # 3 attempts for each of the 2 reports
    for i, (headers, body) in enumerate(receiver.requests):
        independent_check(headers, body, at=t0 + timedelta(hours=i // 2))
    payload = next(a for a in receiver.accepted.values() if a["claimed_name"] == "Lê Thị Hoa")
    assert payload["event"] == "report.created" and "reporter_contact" not in payload
    session.expire_all()
    messages = list(session.scalars(select(OutboxMessage)))
    assert all(m.status is OutboxStatus.DELIVERED and m.attempts == 3 for m in messages)


def test_a_forged_signature_would_be_caught(client, session, receiver):
    _submit(client)
    t0 = _t0()
    for k in range(3):
        outbox.deliver_pending(session, now=t0 + timedelta(hours=k), url=receiver.url, secret=SECRET)
    headers, body = receiver.requests[-1]
    independent_check(headers, body, at=t0 + timedelta(hours=2))
    with pytest.raises(AssertionError):
        independent_check(headers, body.replace(b"phone", b"phony"), at=t0 + timedelta(hours=2))


def test_retries_wait_with_exponential_backoff(client, session, receiver):
    _submit(client)
    now = _t0()
    outbox.deliver_pending(session, now=now, url=receiver.url, secret=SECRET)  # attempt 1 fails
    message = session.scalar(select(OutboxMessage))
    assert message.attempts == 1 and message.next_attempt_at == now + timedelta(seconds=30)
    assert message.last_error == "HTTP 500"
    early = outbox.deliver_pending(session, now=now + timedelta(seconds=29), url=receiver.url, secret=SECRET)
    assert early.retrying == 0 and len(receiver.requests) == 1  # not due yet
    outbox.deliver_pending(session, now=now + timedelta(seconds=30), url=receiver.url, secret=SECRET)
    session.refresh(message)
    assert message.attempts == 2 and message.next_attempt_at == now + timedelta(seconds=90)
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox.backoff(40) == outbox.MAX_BACKOFF


def test_gives_up_after_the_last_attempt_and_can_be_revived(client, session):
    _submit(client)
    t = _t0()
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.deliver_pending(session, now=t, url="http://127.0.0.1:9/x", secret=SECRET, post=lambda *a: 503)
        t += outbox.MAX_BACKOFF
    message = session.scalar(select(OutboxMessage))
    session.refresh(message)
    assert message.status is OutboxStatus.FAILED and message.attempts == outbox.MAX_ATTEMPTS
    assert outbox.retry_failed(session, now=t) == 1
    session.commit()
    recorder = Recorder(204)
    outbox.deliver_pending(session, now=t, url="http://x", secret=SECRET, post=recorder)
    assert len(recorder.sent) == 1


def test_a_claimed_message_is_not_sent_twice(client, session):
    _submit(client)
    now = _t0()
    message = session.scalar(select(OutboxMessage))
    # another sender claimed it a moment ago: the lease pushed its next attempt ahead
    message.next_attempt_at = now + outbox.LEASE
    session.commit()
    recorder = Recorder(200)
    result = outbox.deliver_pending(session, now=now, url="http://x", secret=SECRET, post=recorder)
    assert recorder.sent == [] and result.delivered == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture()
def live_receiver() -> Iterator[Receiver]:
    with receiving(fail_first=0) as r:
        yield r


def test_delivered_automatically_after_the_request(app, client, session, live_receiver):
    app.config.update(WEBHOOK_URL=live_receiver.url, WEBHOOK_SECRET=SECRET)
    ref = _submit(client)
    assert _wait_for(lambda: len(live_receiver.accepted) == 1)
    assert live_receiver.accepted[f"report.created:{ref}"]["reference"] == ref
    headers, body = live_receiver.requests[0]
    independent_check(headers, body, at=NOW)

    def delivered() -> bool:
        session.expire_all()
        return session.scalar(select(OutboxMessage.status)) is OutboxStatus.DELIVERED

    assert _wait_for(delivered)


def test_a_dead_webhook_neither_loses_nor_delays_the_report(app, client, session):
    dead = f"http://127.0.0.1:{_free_port()}/hook"
    app.config.update(WEBHOOK_URL=dead, WEBHOOK_SECRET=SECRET)
    started = time.monotonic()
    resp = client.post("/api/v1/reports", json=valid_report())
    elapsed = time.monotonic() - started
    assert resp.status_code == 201 and elapsed < 2.0

    def attempted() -> bool:
        session.expire_all()
        message = session.scalar(select(OutboxMessage))
        return message is not None and message.attempts == 1

    assert _wait_for(attempted)
    message = session.scalar(select(OutboxMessage))
    assert message.status is OutboxStatus.PENDING and "ConnectionError" in (message.last_error or "")


def test_webhook_url_without_secret_keeps_messages_waiting(app, client, session):
    app.config.update(WEBHOOK_URL="http://127.0.0.1:9/hook", WEBHOOK_SECRET=None)
    _submit(client)
    time.sleep(0.2)
    message = session.scalar(select(OutboxMessage))
    assert message.status is OutboxStatus.PENDING and message.attempts == 0


def test_cli_outbox_deliver(app, runner, client, live_receiver):
    _submit(client)
    out = runner.invoke(args=["outbox", "deliver", "--json"])
    assert out.exit_code == 1 and "WEBHOOK_URL" in out.stderr
    app.config.update(WEBHOOK_URL=live_receiver.url, WEBHOOK_SECRET=SECRET)
    out = runner.invoke(args=["outbox", "deliver", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {
        "delivered": 1,
        "retrying": 0,
        "failed": 0,
        "skipped": 0,
        "revived": 0,
        "pending": 0,
    }
    assert len(live_receiver.accepted) == 1
    out = runner.invoke(args=["outbox", "list", "--json"])
    assert json.loads(out.stdout) == {"messages": []}
