"""Issue 11: crafted tokens and bodies that gave a 500 instead of a verdict or a 4xx,
each through every public endpoint that reads it, with the exact answer expected.
The property-based and mutation tests (marked fuzz) search for more."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from factories import BASE_URL, NOW
from helpers_client import flask_fetcher, foreign_key
from helpers_hostile import JSON, NESTED_DEEP, Documented, Genuine, forge, sign_raw, split, verdict_path
from helpers_reports import valid_report

from keys import jose
from verify.client import Verdict, Verifier
from verify.client import documents as docs
from verify.client import sync as client_sync
from verify.client.errors import InvalidResponseError


def hostile_tokens(g: Genuine) -> dict[str, tuple[str, str]]:
    """name -> (token or URL, the verdict it must get)."""
    header, claims, signature = split(g.staff)
    a_header, a_claims, _ = split(g.assignment)

    def signed(head: dict[str, Any], body: dict[str, Any]) -> str:
        return jose.sign(head, body, g.private)

    return {
        "typ a list": (forge({**header, "typ": [header["typ"]]}, claims, signature), "malformed"),
        "typ an object": (forge({**header, "typ": {header["typ"]: 1}}, claims, signature), "malformed"),
        "header nested past the recursion limit": (
            ".".join([jose.b64url_encode(b"[" * 1400 + b"]" * 1400), jose.b64url_encode(b"{}"), signature]),
            "malformed",
        ),
        "a URL urlsplit refuses": ("http://[/v/abc", "malformed"),
        # forged without our key: the id is looked up before the signature is checked
        "jti a lone surrogate": (forge(header, {**claims, "jti": "\ud800"}, signature), "malformed"),
        "jti with a NUL byte": (forge(header, {**claims, "jti": "abc\x00def"}, signature), "bad_signature"),
        "claims a lone surrogate": (forge(header, {**claims, "name": "Nguy\udc85n"}, signature), "malformed"),
        # signed with our key: every claim a verifier reads must be of its type and range
        "exp past datetime's range": (signed(header, {**claims, "exp": 10**20}), "malformed"),
        "exp after 2106": (signed(header, {**claims, "exp": 2**32 + 1}), "malformed"),
        "nbf negative": (signed(a_header, {**a_claims, "nbf": -(10**12)}), "malformed"),
        "iat a float": (signed(header, {**claims, "iat": float(claims["iat"])}), "malformed"),
        "status idx negative": (
            signed(header, {**claims, "status": {"status_list": {**claims["status"]["status_list"], "idx": -1}}}),
            "malformed",
        ),
        "agency a list": (signed(a_header, {**a_claims, "agency": [a_claims["agency"]]}), "malformed"),
        "purpose an object": (signed(a_header, {**a_claims, "purpose": {"x": 1}}), "malformed"),
        "jti not a credential id": (signed(header, {**claims, "jti": "x' OR '1'='1"}), "malformed"),
    }


def _answers(client: Any, token: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, str, Any]]:
    """(OpenAPI path, method, response) from every public endpoint that verifies."""
    monkeypatch.setattr(
        "verify.verification.photo.decode_qr_bounded", lambda _data: token
    )  # the photo "holds" the token
    photo = {"image": (io.BytesIO(b"\x89PNG a card"), "card.png")}
    answers = {
        "GET /api/v1/verify": ("/api/v1/verify", "get", client.get("/api/v1/verify", query_string={"token": token})),
        "POST /api/v1/verify json": ("/api/v1/verify", "post", client.post("/api/v1/verify", json={"token": token})),
        "POST /api/v1/verify form": ("/api/v1/verify", "post", client.post("/api/v1/verify", data={"token": token})),
        "POST /api/v1/verify/image": (
            "/api/v1/verify/image",
            "post",
            client.post("/api/v1/verify/image", data=photo, content_type="multipart/form-data"),
        ),
    }
    if "/" not in token:  # a path segment cannot hold a slash: the router answers 404
        answers["GET /v/<token> json"] = ("/v/{token}", "get", client.get(verdict_path(token), headers=JSON))
        answers["GET /v/<token> page"] = ("/v/{token}", "get", client.get(verdict_path(token)))
    return answers


HOSTILE_TOKENS = [
    "typ a list",
    "typ an object",
    "header nested past the recursion limit",
    "a URL urlsplit refuses",
    "jti a lone surrogate",
    "jti with a NUL byte",
    "claims a lone surrogate",
    "exp past datetime's range",
    "exp after 2106",
    "nbf negative",
    "iat a float",
    "status idx negative",
    "agency a list",
    "purpose an object",
    "jti not a credential id",
]


@pytest.mark.parametrize("case", HOSTILE_TOKENS)
def test_hostile_tokens_get_their_verdict_on_every_endpoint(
    client: Any, tokens: Genuine, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    token, expected = hostile_tokens(tokens)[case]
    documented = Documented(client)
    for endpoint, (path, method, resp) in _answers(client, token, monkeypatch).items():
        assert resp.status_code == 200, (endpoint, resp.get_data(as_text=True)[:300])
        answer = documented.check(path, method, resp)
        verdict = answer if isinstance(answer, str) else answer["verdict"]
        assert verdict == expected, endpoint
    photo = {"image": (io.BytesIO(b"\x89PNG a card"), "card.png")}
    resp = client.post("/check-photo", data=photo, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert f'data-verdict="{expected}"' in resp.get_data(as_text=True)


def test_every_hostile_token_is_tested(tokens: Genuine) -> None:
    assert sorted(hostile_tokens(tokens)) == sorted(HOSTILE_TOKENS)


# ------------------------------------------------------------------ JSON bodies


def _json_endpoints(g: Genuine) -> dict[str, tuple[str, str, str | None]]:
    """name -> (method, URL, OpenAPI path or None for a page) of every view that reads a JSON body."""
    return {
        "POST /api/v1/verify": ("POST", "/api/v1/verify", "/api/v1/verify"),
        "GET /api/v1/verify": ("GET", f"/api/v1/verify?token={g.staff}", "/api/v1/verify"),
        "GET /v/<token> json": ("GET", f"/v/{g.staff}", "/v/{token}"),
        "GET /v/<token> page": ("GET", f"/v/{g.staff}", None),
        "POST /api/v1/live-code": ("POST", "/api/v1/live-code", "/api/v1/live-code"),
        "POST /live-code page": ("POST", "/live-code", None),
        "POST /api/v1/reports": ("POST", "/api/v1/reports", "/api/v1/reports"),
    }


BAD_BODIES = {
    # name: (body, status, code)
    "nested past the recursion limit": (NESTED_DEEP, 400, "json_too_deep"),
    "objects nested past the recursion limit": (b'{"a":' * 3000 + b"1" + b"}" * 3000, 400, "json_too_deep"),
    "nested 17 deep": (b'{"token":' + b"[" * 16 + b"]" * 16 + b"}", 400, "json_too_deep"),
    "not JSON": (b"{not json", 400, "invalid_json"),
    "not UTF-8": (b'{"token": "\xff"}', 400, "invalid_json"),
    "a lone surrogate": (b'{"token": "\\ud800", "staff_code": "\\udc00"}', 400, "invalid_json"),
    "NaN": (b'{"amount_vnd": NaN}', 400, "invalid_json"),
    "a number Python will not convert": (b'{"amount_vnd": ' + b"9" * 5000 + b"}", 400, "invalid_json"),
    "a list": (b'["token"]', 400, "invalid_json"),
    "a string": (b'"token"', 400, "invalid_json"),
    "null": (b"null", 400, "invalid_json"),
    "over 64 KiB": (b'{"token": "' + b"a" * (64 * 1024) + b'"}', 413, "request_entity_too_large"),
}


@pytest.mark.parametrize("body_name", list(BAD_BODIES))
def test_bad_json_bodies_are_a_clear_4xx_everywhere(client: Any, tokens: Genuine, body_name: str) -> None:
    body, status, code = BAD_BODIES[body_name]
    documented = Documented(client)
    for name, (method, url, path) in _json_endpoints(tokens).items():
        headers = JSON if path is not None else {}
        resp = client.open(url, method=method, data=body, content_type="application/json", headers=headers)
        assert resp.status_code == status, (name, resp.get_data(as_text=True)[:300])
        if path is not None:
            answer = documented.check(path, method.lower(), resp)
            assert answer["error"]["code"] == code, name
            if status == 400:
                assert answer["error"]["field"] == "body", name
        else:
            assert resp.mimetype == "text/html", name


def test_nested_bodies_within_the_limit_are_read(client: Any, tokens: Genuine) -> None:
    """16 levels pass the reader; the endpoint then judges the fields as it always did."""
    body = {"token": tokens.staff, "extra": json.loads("[" * 15 + "]" * 15)}
    resp = client.post("/api/v1/verify", json=body)
    assert resp.status_code == 200 and resp.json["verdict"] == "valid"
    resp = client.post("/api/v1/reports", json=valid_report(extra=json.loads("[" * 15 + "]" * 15)))
    assert resp.status_code == 400 and resp.json["error"]["code"] == "unknown_field"


# ------------------------------------------------------------------ the offline client


@pytest.mark.parametrize("iat", [10**30, 2**53 + 1, -(10**15)])
def test_the_offline_client_answers_a_forged_time_with_a_verdict(
    app: Any, tokens: Genuine, tmp_path: Any, iat: int
) -> None:
    """A foreign key's token with an ``iat`` no datetime holds: read before any
    signature is checked, it raised OverflowError/ValueError out of the client."""
    fetcher, _adapter = flask_fetcher(app, BASE_URL)
    Verifier(BASE_URL, clock=lambda: NOW, fetcher=fetcher, cache_dir=tmp_path, tofu=True).sync()
    header, claims, _ = split(tokens.staff)
    private, kid = foreign_key()
    token = sign_raw({**header, "kid": kid}, {**claims, "iat": iat}, private)
    offline = Verifier(BASE_URL, clock=lambda: NOW, fetcher=fetcher, cache_dir=tmp_path, offline=True)
    assert offline.verify(token).verdict is Verdict.UNKNOWN_KEY


def test_the_client_refuses_documents_nested_past_the_recursion_limit() -> None:
    """What a server (or someone between) sends: a clear InvalidResponseError."""
    deep = jose.b64url_encode(b"[" * 100_000 + b"]" * 100_000)
    header = jose.b64url_encode(b'{"alg":"EdDSA","typ":"keyset+jwt","kid":"' + b"k" * 43 + b'"}')
    with pytest.raises(InvalidResponseError):
        docs.parse_document(f"{header}.{deep}.{jose.b64url_encode(bytes(64))}", typ="keyset+jwt", what="key set")
    with pytest.raises(InvalidResponseError):
        client_sync._json(b"[" * 100_000, "key list (JWKS)")
