"""Property-based tests of issue 11 on the requests around the tokens: any JSON body
(nested to any depth) or bytes on every public POST endpoint and as the body of a
verdict page request, and any query string on every public GET page and endpoint.
Never a 5xx; every API answer has the shape the OpenAPI document gives it; a body the
reader refuses gets the code an independent reading of it expects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers_hostile import ANY_TEXT, FUZZ_SETTINGS, JSON, Documented, Genuine, Tally, json_values
from helpers_reports import valid_report
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.platform.forms import MAX_JSON_DEPTH

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("fast_path_silent")]


GET_PAGES = ("/", "/report", "/report/BC-2026-000001", "/v/{staff}/letter")
GET_API = {  # URL: its OpenAPI path
    "/api/v1/lookup": "/api/v1/lookup",
    "/api/v1/verify": "/api/v1/verify",
    "/v/{staff}": "/v/{token}",
    "/api/v1/status-lists/1": "/api/v1/status-lists/{list_id}",
    "/api/v1/staff/TTTT-001/photo": "/api/v1/staff/{code}/photo",
    "/.well-known/jwks.json": "/.well-known/jwks.json",
    "/api/v1/keyset": "/api/v1/keyset",
    "/api/v1/roster": "/api/v1/roster",
    "/api/v1/keyset/root": "/api/v1/keyset/root",
    "/healthz": "/healthz",
    "/readyz": "/readyz",
}
PARAMS = ("q", "token", "agency", "expect", "lang", "k", "claimed_name", "staff_code", "phone", "channel")


@settings(FUZZ_SETTINGS, max_examples=400)
@given(
    url=st.sampled_from(GET_PAGES + tuple(GET_API)),
    query=st.dictionaries(st.one_of(st.sampled_from(PARAMS), st.text(max_size=8)), ANY_TEXT, max_size=4),
    accept_json=st.booleans(),
)
def test_arbitrary_query_strings(
    client: Any,
    tokens: Genuine,
    documented: Documented,
    fuzz_tally: Tally,
    url: str,
    query: dict[str, str],
    accept_json: bool,
) -> None:
    """Any query string on every public page and GET endpoint."""
    fuzz_tally.run = "property run (query strings)"
    path = url.format(staff=tokens.staff)
    resp = client.get(path, query_string=query, headers=JSON if accept_json else {})
    fuzz_tally.tried += 1
    fuzz_tally.server_errors += resp.status_code >= 500
    if url in GET_API:
        answer = documented.check(GET_API[url], "get", resp)
        if isinstance(answer, dict) and "verdict" in answer:
            fuzz_tally.verdicts[answer["verdict"]] += 1
            token = query.get("token", "") if url == "/api/v1/verify" else tokens.staff
            assert answer["verdict"] != "valid" or token == tokens.staff
            fuzz_tally.valid += token != tokens.staff and answer["verdict"] == "valid"
    else:
        assert resp.status_code < 500, (path, query, resp.status_code)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


POST_ENDPOINTS = {
    # URL: OpenAPI path, or None for a page
    "/api/v1/verify": "/api/v1/verify",
    "/api/v1/live-code": "/api/v1/live-code",
    "/api/v1/reports": "/api/v1/reports",
    "/api/v1/verify/image": "/api/v1/verify/image",
    "/live-code": None,
    "/check-photo": None,
    "/report": None,
}
FIELDS = ("token", "agency", "expect", "staff_code", "code", *valid_report())
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
    st.builds(lambda extra: {**valid_report(), **extra}, st.dictionaries(st.sampled_from(FIELDS), json_values)),
)
# (bytes, their depth when they are JSON, else None)
raw_bodies = st.one_of(
    st.binary(max_size=200).map(lambda b: (b, None)),
    st.integers(min_value=0, max_value=3000).map(lambda d: (b'{"token":' + b"[" * d + b"]" * d + b"}", d + 1)),
    st.integers(min_value=1, max_value=3000).map(lambda d: (b'{"a":' * d + b"1" + b"}" * d, d)),
)


@settings(FUZZ_SETTINGS, max_examples=800)
@given(
    url=st.sampled_from(sorted(POST_ENDPOINTS)),
    body=st.one_of(bodies, raw_bodies),
    content_type=st.sampled_from(["application/json", "application/json", "application/problem+json", "text/plain"]),
)
def test_arbitrary_json_bodies(
    client: Any, tokens: Genuine, documented: Documented, fuzz_tally: Tally, url: str, body: Any, content_type: str
) -> None:
    """Any JSON (nested to any depth) or bytes on every public POST endpoint, and as
    the body of a verdict page request: a documented answer, never a 5xx; a body the
    reader refuses gets the code an independent reading expects."""
    fuzz_tally.run = "property run (JSON bodies)"
    if isinstance(body, tuple):
        data, depth = body
        expected = "json_too_deep" if depth is not None and depth > MAX_JSON_DEPTH else None
    else:
        data = json.dumps(body).encode("ascii")
        if _depth(body) > MAX_JSON_DEPTH:
            expected = "json_too_deep"
        else:
            expected = None if isinstance(body, dict) else "invalid_json"
    path = POST_ENDPOINTS[url]
    reads_json = content_type != "text/plain" and url in ("/api/v1/verify", "/api/v1/live-code", "/api/v1/reports")
    resp = client.post(url, data=data, content_type=content_type, headers=JSON if path else {})
    page = client.get(f"/v/{tokens.staff}", data=data, content_type=content_type, headers=JSON)
    fuzz_tally.tried += 1
    fuzz_tally.server_errors += resp.status_code >= 500 or page.status_code >= 500
    assert resp.status_code < 500 and page.status_code < 500
    answer = documented_answer(documented, path, resp)
    page_answer = documented_answer(documented, "/v/{token}", page)
    if reads_json and expected is not None:
        assert resp.status_code == 400 and answer["error"]["code"] == expected, answer
    if content_type != "text/plain" and expected is not None:
        assert page.status_code == 400 and page_answer["error"]["code"] == expected
    if isinstance(answer, dict) and "verdict" in answer:
        fuzz_tally.verdicts[answer["verdict"]] += 1
        fuzz_tally.valid += answer["verdict"] == "valid"  # no body carries a genuine token
        assert answer["verdict"] != "valid"


def documented_answer(documented: Documented, path: str | None, resp: Any) -> Any:
    if path is None:  # a page: the form again with its message, a verdict page, or an error page
        assert resp.mimetype == "text/html" and resp.status_code in (200, 400, 413, 415, 422), resp.status_code
        return None
    return documented.check(path, "post" if path != "/v/{token}" else "get", resp)
