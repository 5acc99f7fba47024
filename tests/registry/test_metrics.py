"""/metrics (registry/platform/metrics_view.py): hidden without a token, refused
without the bearer, and counts that follow what the service answered; JSON log lines
(registry/platform/logs.py). The counts across gunicorn workers: tests/e2e/test_metrics_gunicorn.py."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from factories import NOW, add_person, issue
from prometheus_client.parser import text_string_to_metric_families

from registry.platform.logs import HANDLER_NAME, JsonFormatter

TOKEN = "metrics-token-for-tests"
WITH_TOKEN = {"METRICS_TOKEN": TOKEN}
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics", headers=BEARER)
    assert resp.status_code == 200, resp.data
    return samples(resp.get_data(as_text=True))


def test_no_token_configured_hides_the_path(client: Any) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("app", [WITH_TOKEN], indirect=True)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"bearer  {TOKEN}"},
    ],
)
def test_missing_or_wrong_bearer_is_refused(client: Any, headers: dict[str, str]) -> None:
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert b"chinhdanh_" not in resp.data


@pytest.mark.parametrize("app", [WITH_TOKEN], indirect=True)
def test_counts_follow_the_answers(client: Any, session: Any, master: Any, signing_key: Any) -> None:
    add_person(session)
    cred = issue(session, master)
    before = scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert client.get("/api/v1/verify", query_string={"token": cred.token}).json["verdict"] == "valid"
    assert client.get("/api/v1/verify", query_string={"token": "x.y.z"}).json["verdict"] == "malformed"
    assert client.post("/api/v1/verify", json={"token": cred.token}).json["verdict"] == "valid"
    assert client.get(f"/v/{cred.token}").status_code == 200
    assert client.get("/api/v1/lookup", query_string={"q": "TTTT-001"}).json["answer"] == "official_staff"
    assert client.get("/api/v1/lookup", query_string={"q": "0999 888 777"}).json["answer"] == "unknown"
    assert client.post("/api/v1/live-code", json={"staff_code": "NOPE-1", "code": "123456"}).json["answer"] == (
        "unknown_staff"
    )
    assert client.get("/.well-known/jwks.json").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)

    assert grew("chinhdanh_verifications_total", verdict="valid", path="api") == 2  # fast path and view
    assert grew("chinhdanh_verifications_total", verdict="malformed", path="api") == 1
    assert grew("chinhdanh_verifications_total", verdict="valid", path="page") == 1
    assert grew("chinhdanh_lookups_total", result="official_staff") == 1
    assert grew("chinhdanh_lookups_total", result="unknown") == 1
    assert grew("chinhdanh_live_code_checks_total", outcome="unknown_staff") == 1
    assert grew("chinhdanh_client_documents_total", document="jwks") == 1
    # latency by the route's template, never the token or an unknown path
    assert grew("chinhdanh_http_request_duration_seconds_count", route="/v/<token>", method="GET") == 1
    assert grew("chinhdanh_http_request_duration_seconds_count", route="/api/v1/verify", method="GET") == 2
    assert grew("chinhdanh_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert not any(cred.token in str(labels) for _name, labels in after)
    # read at scrape time: the key set served now, the outbox
    assert (
        after[("chinhdanh_keyset_expiry_timestamp_seconds", ())] == (NOW + timedelta(days=30)).timestamp()
    )  # `keys root sign`'s default
    assert after[("chinhdanh_outbox_backlog", ())] == 0
    assert after[("chinhdanh_outbox_failed", ())] == 0


@pytest.mark.parametrize("app", [WITH_TOKEN], indirect=True)
def test_a_report_counts_and_fills_the_outbox_backlog(client: Any) -> None:
    from helpers_reports import valid_report

    before = scrape(client)
    resp = client.post("/api/v1/reports", json=valid_report())
    assert resp.status_code == 201, resp.json
    after = scrape(client)
    key = ("chinhdanh_reports_received_total", (("source", "api"),))
    assert after[key] - before.get(key, 0.0) == 1
    assert after[("chinhdanh_outbox_backlog", ())] == 1  # report.created, waiting for `outbox deliver`


@pytest.mark.parametrize("app", [WITH_TOKEN], indirect=True)
def test_without_a_signed_key_set_the_keyset_expiry_is_zero(client: Any) -> None:
    assert scrape(client)[("chinhdanh_keyset_expiry_timestamp_seconds", ())] == 0


@pytest.fixture()
def json_lines() -> Iterator[io.StringIO]:
    """Where the JSON handler writes during the test; the handler goes afterwards."""
    logger = logging.getLogger("chinhdanh")
    level = logger.level
    out = io.StringIO()
    yield out
    for handler in [h for h in logger.handlers if h.get_name() == HANDLER_NAME]:
        logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.mark.parametrize("app", [{"LOG_FORMAT": "json", "CHINHDANH_TRUSTED_PROXIES": 1}], indirect=True)
def test_json_log_lines_parse_and_carry_the_request_not_the_token(
    app: Any, json_lines: io.StringIO, session: Any, master: Any, signing_key: Any
) -> None:
    handler = next(h for h in logging.getLogger("chinhdanh").handlers if h.get_name() == HANDLER_NAME)
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(json_lines)
    add_person(session)
    cred = issue(session, master)
    client = app.test_client()
    client.get(f"/v/{cred.token}", headers={"X-Request-ID": "abc123", "X-Forwarded-For": "203.0.113.9"})
    client.get("/api/v1/verify", query_string={"token": cred.token})
    text = json_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one object
    access = [line for line in lines if line["logger"] == "chinhdanh.access"]
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("GET", "/v/<token>", 200),
        ("GET", "/api/v1/verify", 200),
    ]
    assert access[0]["request_id"] == "abc123"
    assert access[0]["remote_addr"] == "203.0.113.9"  # the proxy's word, one hop trusted
    assert len(access[1]["request_id"]) == 32
    assert all(isinstance(a["duration_ms"], float) for a in access)
    assert cred.token not in text


def test_json_formatter_one_object_per_line() -> None:
    record = logging.LogRecord("chinhdanh.x", logging.WARNING, __file__, 1, "two\nlines %s", ("ü",), None)
    record.route = "/v/<token>"
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert json.loads(text) | {"time": None} == {
        "time": None,
        "level": "WARNING",
        "logger": "chinhdanh.x",
        "message": "two\nlines ü",
        "route": "/v/<token>",
    }
