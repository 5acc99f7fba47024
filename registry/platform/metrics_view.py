"""GET /metrics: the counters of every worker of this instance (prometheus-client's
text format), and the gauges read from the database at scrape time: the outbox's
backlog and failures, and the expiry of the key set served now.

Only with ``Authorization: Bearer $METRICS_TOKEN``: without a token configured the
path answers 404, as any unknown path does; a missing or wrong bearer answers 401.
The token is compared in constant time.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from flask import Blueprint, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from keys.root import keyset_health
from registry.outbox.models import OutboxMessage, OutboxStatus
from registry.platform import metrics
from registry.platform.clock import now
from registry.platform.db import db
from registry.platform.web import csrf

bp = Blueprint("metrics", __name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class ScrapeTimeGauges:
    """A collector that reads the database once per scrape (never per request)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        counts = dict(
            self.session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
                .group_by(OutboxMessage.status)
            ).all()
        )
        yield GaugeMetricFamily(
            "chinhdanh_outbox_backlog",
            "Outbox messages waiting to be delivered",
            value=counts.get(OutboxStatus.PENDING, 0),
        )
        yield GaugeMetricFamily(
            "chinhdanh_outbox_failed",
            "Outbox messages given up after the last attempt (outbox deliver --retry-failed)",
            value=counts.get(OutboxStatus.FAILED, 0),
        )
        expiry = keyset_health(self.session, now=now()).expires_at
        yield GaugeMetricFamily(
            "chinhdanh_keyset_expiry_timestamp_seconds",
            "When the signed key set served now expires (seconds since the epoch); 0 when none is signed",
            value=expiry.timestamp() if expiry is not None else 0,
        )


def _authorised() -> bool:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if not token:
        raise NotFound()
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@bp.get("/metrics")
def metrics_page() -> Response:
    """Prometheus metrics of this instance (not in the public API description)."""
    if not _authorised():
        return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    if os.environ.get(MULTIPROC_ENV):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
    else:
        counters = metrics.REGISTRY
    gauges = CollectorRegistry()
    gauges.register(ScrapeTimeGauges(db()))
    body = generate_latest(counters) + generate_latest(gauges)
    return Response(body, 200, {"Cache-Control": "no-store"}, content_type=CONTENT_TYPE_LATEST)


csrf.exempt(metrics_page)
