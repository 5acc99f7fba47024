"""The OpenAPI document: generated from the code, covering every public JSON endpoint,
and (marked fuzz) schemathesis against it: no 5xx, no response outside the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from factories import BASE_URL, MASTER_B64, NOW, make_root, sign_keys
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from verify.api.openapi import has_operations, openapi_path

# The public contract's JSON endpoints (DESIGN.md): each must be in the document.
CONTRACT_PATHS = {
    "/v/{token}": {"get"},
    "/api/v1/verify": {"get", "post"},
    "/api/v1/verify/image": {"post"},
    "/api/v1/lookup": {"get"},
    "/api/v1/live-code": {"post"},
    "/.well-known/jwks.json": {"get"},
    "/api/v1/keyset": {"get"},
    "/api/v1/status-lists/{list_id}": {"get"},
    "/api/v1/openapi.json": {"get"},
    "/api/v1/staff/{code}/photo": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
}
PUBLIC_PREFIXES = ("/api/", "/.well-known/")
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_document_is_served_and_covers_the_contract(client: Any) -> None:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.json
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": BASE_URL}]
    for path, methods in CONTRACT_PATHS.items():
        assert path in doc["paths"], path
        assert methods <= set(doc["paths"][path]), path
    for name in ("Error", "StaffCard", "Channel", "VerifyAnswer"):
        assert name in doc["components"]["schemas"]


def test_every_public_json_route_is_documented(app: Flask, client: Any) -> None:
    """Generated from the code: a JSON endpoint without its YAML is caught here."""
    doc = client.get("/api/v1/openapi.json").json
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        methods = {m.lower() for m in rule.methods or ()} & HTTP_METHODS
        documented = set(doc["paths"].get(openapi_path(rule.rule), {}))
        if not methods <= documented or not has_operations(app.view_functions[rule.endpoint]):
            missing.append(f"{sorted(methods - documented)} {rule.rule} ({rule.endpoint})")
    assert missing == []


def test_only_routed_methods_are_advertised(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert set(doc["paths"]["/api/v1/lookup"]) == {"get"}
    assert set(doc["paths"]["/api/v1/live-code"]) == {"post"}


def test_path_conversion() -> None:
    assert openapi_path("/api/v1/status-lists/<int:list_id>") == "/api/v1/status-lists/{list_id}"
    assert openapi_path("/v/<token>") == "/v/{token}"
    assert openapi_path("/static/<path:filename>") == "/static/{filename}"


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
def test_document_loads_in_schemathesis(client: Any) -> None:
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json)
    operations = {f"{op.method.upper()} {op.path}" for op in (cast(Any, r).ok() for r in schema.get_all_operations())}
    assert "GET /api/v1/lookup" in operations
    assert "POST /api/v1/verify/image" in operations


# ------------------------------------------------------------------ fuzz


@pytest.fixture()
def seeded_app(app: Flask) -> Iterator[Flask]:
    """The app with demo staff, keys, credentials, channels and live codes."""
    from keys.crypto import MasterKey
    from registry.demo.lookup import load_demo_lookup
    from registry.demo.service import load_demo

    session = app.extensions["chinhdanh.sessionmaker"]()
    master = MasterKey.from_b64(MASTER_B64)
    load_demo(session, master, base_url=BASE_URL, now=NOW, actor="test")
    load_demo_lookup(session, master, now=NOW, actor="test")
    make_root(session)  # the demo command keeps its root in a file; here the tests hold it
    sign_keys(session)
    session.close()
    yield app


FUZZ_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_EXAMPLES = 100  # per operation: reaches every branch of input validation, about 15 s in all


@pytest.mark.fuzz
def test_api_conforms_to_its_document(seeded_app: Flask) -> None:
    """Every operation of the served document, fuzzed by schemathesis through WSGI.

    schemathesis' own pytest fixture loader does not run on pytest 9 (it reads a
    removed private attribute), so each operation's hypothesis strategy is driven
    here directly; the checks are the same.
    """
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded_app)
    failures: dict[str, str] = {}
    operations = [cast(Any, result).ok() for result in api.get_all_operations()]
    assert len(operations) >= len(CONTRACT_PATHS)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(checks=FUZZ_CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation, report all
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:2000]
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_status_list_id_beyond_the_column_is_404(client: Any) -> None:
    resp = client.get("/api/v1/status-lists/19509240250998487844388864")
    assert resp.status_code == 404
