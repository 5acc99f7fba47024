"""Property-based tests of issue 11 over the HTTP views: whatever the token, URL, QR
text or JSON body, no public endpoint answers 5xx, every answer has the shape the
OpenAPI document gives it, and the verdict is ``valid`` only for a genuine token.

"Genuine" is judged from outside the code under test: a token the test did not sign
with the service's key (an edit kept under the original signature, a garbage, foreign
or missing signature) is never genuine; a token it did sign with the service's own
key (``keys.service.private_key``) stands for one the service issued, and may be
valid only if its header and the claims the registry vouches for (``iss``, ``jti``,
``sub``, ``typ``, the validity window) are the genuine token's. Hypothesis runs
derandomized, so CI tries the same examples every time; each test's counts are
printed at the end of the run (tests/conftest.py).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import segno
from conftest import BASE_URL
from helpers_client import foreign_key
from helpers_hostile import (
    JSON,
    Documented,
    Genuine,
    Tally,
    forge,
    genuine,
    segment,
    sign_raw,
    split,
    verdict_of,
    verdict_path,
)
from helpers_reports import valid_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys import jose
from registry.web import MAX_JSON_DEPTH

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("fast_path_silent")]

DELETE = object()  # an edit that removes the member
FORGED_SIGNINGS = ("original", "garbage", "foreign_our_kid", "foreign_kid", "none", "short")
SIGNINGS = ("real", *FORGED_SIGNINGS)
HEADER_MEMBERS = ("alg", "typ", "kid", "jku", "x5u", "jwk", "crit", "cty", "b64")
CLAIM_MEMBERS = ("iss", "sub", "jti", "iat", "exp", "nbf", "name", "status", "agency", "agency_domain", "purpose", "x")
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**32, 2**32 + 1, 2**53 + 1, 253402300800, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=24),
    st.sampled_from(["EdDSA", "none", "HS256", "staff-credential+jwt", "assignment+jwt", BASE_URL, "\x00"]),
)
json_values = st.one_of(
    st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=12,
    ),
    st.integers(min_value=0, max_value=40).map(_nested),  # around the parser's depth limits
)
header_edits = st.lists(st.tuples(st.sampled_from(HEADER_MEMBERS), st.one_of(json_values, st.just(DELETE))), max_size=2)
claim_edits = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(CLAIM_MEMBERS).map(lambda m: (m,)), st.just(("status", "status_list", "idx"))),
        st.one_of(json_values, st.just(DELETE)),
    ),
    max_size=3,
)


@pytest.fixture()
def tokens(session: Any, master: Any, signing_key: Any) -> Genuine:
    return genuine(session, master)


@pytest.fixture()
def documented(client: Any) -> Documented:
    return Documented(client)


def _edited(doc: dict[str, Any], edits: list[tuple[Any, Any]]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    for path, value in edits:
        path = path if isinstance(path, tuple) else (path,)
        parent = doc
        for name in path[:-1]:
            if not isinstance(parent.get(name), dict):
                parent[name] = {}
            parent = parent[name]
        if value is DELETE:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    return doc


def _encoded(value: Any, original: str, changed: bool) -> str:
    return segment(value) if changed else original


def _build(g: Genuine, source: str, header: Any, claims: Any, changed: tuple[bool, bool], signing: str) -> str:
    token = g.staff if source == "staff" else g.assignment
    head, payload, signature = token.split(".")
    head = _encoded(header, head, changed[0])
    payload = _encoded(claims, payload, changed[1])
    if signing == "real":
        return str(sign_raw(header, claims, g.private)) if any(changed) else token
    if signing == "original":
        return f"{head}.{payload}.{signature}"
    if signing == "garbage":
        return f"{head}.{payload}.{jose.b64url_encode(bytes(range(64)))}"
    if signing in ("foreign_our_kid", "foreign_kid"):
        private, kid = foreign_key()
        if signing == "foreign_kid" and isinstance(header, dict):
            header = {**header, "kid": kid}
        return str(sign_raw(header, claims, private))
    if signing == "none":
        return f"{head}.{payload}."
    return f"{head}.{payload}.{jose.b64url_encode(b'short')}"


def _may_be_valid(g: Genuine, source: str, header: Any, claims: Any, signing: str, changed: bool) -> bool:
    """Whether a genuine verdict could be valid: the oracle, written apart from the code."""
    if signing == "original":
        return not changed  # the genuine token itself
    if signing != "real":
        return False
    g_header, g_claims, _ = split(g.staff if source == "staff" else g.assignment)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return False
    if any(header.get(m) != g_header[m] for m in ("alg", "typ", "kid")):
        return False
    if {"jku", "x5u", "jwk", "crit"} & header.keys():
        return False
    if any(claims.get(m) != g_claims[m] for m in ("iss", "sub", "jti")):
        return False
    now = datetime.now(UTC).timestamp()
    exp, nbf = claims.get("exp"), claims.get("nbf", 0)
    return type(exp) is int and exp > now and type(nbf) is int and nbf <= now


def _verify_everywhere(client: Any, documented: Documented, tally: Tally, token: str, page: bool) -> set[str]:
    answers = [
        ("/api/v1/verify", "get", client.get("/api/v1/verify", query_string={"token": token})),
        ("/api/v1/verify", "post", client.post("/api/v1/verify", json={"token": token})),
    ]
    if token and "/" not in token:  # else no path segment: the router's 404
        answers.append(("/v/{token}", "get", client.get(verdict_path(token), headers=JSON)))
        if page:
            answers.append(("/v/{token}", "get", client.get(verdict_path(token))))
    verdicts = set()
    tally.server_errors += any(resp.status_code >= 500 for _path, _method, resp in answers)
    for path, method, resp in answers:
        answer = documented.check(path, method, resp)
        if resp.status_code == 200:
            verdicts.add(verdict_of(answer))
        else:  # only a token field longer than any credential is refused
            assert resp.status_code == 413 and len(token) > 8192, (path, method, resp.status_code)
    return verdicts


def _count(tally: Tally, verdicts: set[str], *, genuine_input: bool) -> None:
    """Count an example: a genuine input apart (it may be valid), any other in ``tried``."""
    tally.verdicts.update(verdicts)
    if genuine_input:
        tally.apart += 1
        return
    tally.tried += 1
    tally.valid += "valid" in verdicts
    assert "valid" not in verdicts, verdicts


# ------------------------------------------------------------------ headers and claims


@settings(FUZZ_SETTINGS, max_examples=1000)
@given(
    source=st.sampled_from(["staff", "assignment"]),
    whole_header=st.one_of(st.none(), json_values),
    h_edits=header_edits,
    whole_claims=st.one_of(st.none(), st.none(), json_values),
    c_edits=claim_edits,
    signing=st.sampled_from(SIGNINGS),
    page=st.booleans(),
)
def test_arbitrary_headers_and_claims(
    client: Any,
    tokens: Genuine,
    documented: Documented,
    fuzz_tally: Tally,
    source: str,
    whole_header: Any,
    h_edits: list[Any],
    whole_claims: Any,
    c_edits: list[Any],
    signing: str,
    page: bool,
) -> None:
    """Any JSON as header and claims (a whole value, or members of the genuine ones
    changed), signed with the service's key, with a foreign one, or not at all."""
    fuzz_tally.run = "property run (headers and claims)"
    fuzz_tally.apart_what = "signed with the service's key, the registry's claims kept: counted apart"
    g_header, g_claims, _ = split(tokens.staff if source == "staff" else tokens.assignment)
    header = whole_header if whole_header is not None else _edited(g_header, h_edits)
    claims = whole_claims if whole_claims is not None else _edited(g_claims, c_edits)
    changed = (json.dumps(header) != json.dumps(g_header), json.dumps(claims) != json.dumps(g_claims))
    token = _build(tokens, source, header, claims, changed, signing)
    verdicts = _verify_everywhere(client, documented, fuzz_tally, token, page)
    assert len(verdicts) == 1, verdicts  # the fast path, the view and the page agree
    _count(fuzz_tally, verdicts, genuine_input=_may_be_valid(tokens, source, header, claims, signing, any(changed)))


# ------------------------------------------------------------------ token, URL and QR text

B64_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=700)
ANY_TEXT = st.text(max_size=300)  # every code point but surrogates, which no URL or form can carry
hosts = st.one_of(
    st.sampled_from(["xacminh.thiduakhenthuong.vn", "XACMINH.thiduakhenthuong.vn.", "[", "[::1]", "mao-danh.example"]),
    st.text(max_size=20),
)
ports = st.one_of(st.just(""), st.sampled_from([":443", ":80", ":99999", ":-1", ":x", ":"]), st.text(max_size=5))


def _forgeries(g: Genuine) -> list[str]:
    """Near misses of a genuine token: cut short, a claim changed, a foreign signature."""
    header, claims, signature = split(g.staff)
    private, _kid = foreign_key()
    return [g.staff[:-4], forge(header, {**claims, "sub": "TTTT-999"}, signature), sign_raw(header, claims, private)]


@st.composite
def presented_texts(draw: st.DrawFn, token_choices: st.SearchStrategy[str]) -> str:
    """A bare token, garbage, or a URL put together from arbitrary parts."""
    token = draw(token_choices)
    kind = draw(st.sampled_from(["text", "b64", "token", "padded", "url"]))
    if kind == "text":
        return draw(ANY_TEXT)
    if kind == "b64":
        return draw(B64_TEXT)
    if kind == "token":
        return token
    if kind == "padded":
        return draw(ANY_TEXT) + token + draw(ANY_TEXT)
    scheme = draw(st.sampled_from(["https://", "http://", "//", "", "javascript:", "HTTPS://", "https:\\\\"]))
    userinfo = draw(st.sampled_from(["", "user@", "xacminh.thiduakhenthuong.vn@", "a:b@"]))
    path = draw(st.sampled_from(["/v/", "/v/x/../", "//v/", "/V/", "/api/v1/verify?token=", "/v/%20"]))
    tail = draw(st.one_of(st.just(""), st.sampled_from(["?lang=en", "#x", "/letter"]), ANY_TEXT))
    return f"{scheme}{userinfo}{draw(hosts)}{draw(ports)}{path}{token}{tail}"


@settings(FUZZ_SETTINGS, max_examples=1000)
@given(data=st.data())
def test_arbitrary_token_and_url_text(
    client: Any, tokens: Genuine, documented: Documented, fuzz_tally: Tally, data: st.DataObject
) -> None:
    """Any string as the token or the QR URL: valid only when it holds a genuine token."""
    fuzz_tally.run = "property run (token and URL text)"
    fuzz_tally.apart_what = "holding a genuine token: counted apart"
    text = data.draw(presented_texts(st.sampled_from([tokens.staff, tokens.assignment, *_forgeries(tokens)])))
    verdicts = _verify_everywhere(client, documented, fuzz_tally, text, page=data.draw(st.booleans()))
    _count(fuzz_tally, verdicts, genuine_input=tokens.staff in text or tokens.assignment in text)
    letter = client.get(verdict_path(text) + "/letter")
    assert letter.status_code < 500 and (letter.status_code != 200 or tokens.assignment in text)
    if tokens.assignment not in text:  # a genuine letter would be rendered as a PDF: slow
        pdf = client.get(verdict_path(text) + "/letter.pdf", headers=JSON)
        assert 300 <= pdf.status_code < 500, pdf.status_code


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


@settings(FUZZ_SETTINGS, max_examples=500)
@given(data=st.data())
def test_arbitrary_qr_text(
    client: Any,
    tokens: Genuine,
    documented: Documented,
    fuzz_tally: Tally,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
) -> None:
    """Whatever text the QR decoder finds in a photo, through the photo API and page."""
    fuzz_tally.run = "property run (QR text)"
    fuzz_tally.apart_what = "holding a genuine token: counted apart"
    text = data.draw(presented_texts(st.sampled_from([tokens.staff, tokens.assignment, *_forgeries(tokens)])))
    monkeypatch.setattr("verify.public.decode_qr", lambda _data: text)

    agency = data.draw(st.text(max_size=30))

    def photo() -> dict[str, Any]:
        return {"image": (io.BytesIO(b"\x89PNG a card"), "card.png"), "agency": agency}

    api = client.post("/api/v1/verify/image", data=photo(), content_type="multipart/form-data")
    page = client.post("/check-photo", data=photo(), content_type="multipart/form-data")
    fuzz_tally.server_errors += api.status_code >= 500 or page.status_code >= 500
    verdicts = {verdict_of(documented.check("/api/v1/verify/image", "post", api))}
    assert page.status_code == 200, page.status_code
    assert f'data-verdict="{next(iter(verdicts))}"' in page.get_data(as_text=True)
    _count(fuzz_tally, verdicts, genuine_input=tokens.staff in text or tokens.assignment in text)


def test_real_qr_images(client: Any, tokens: Genuine, documented: Documented, fuzz_tally: Tally) -> None:
    """A few QR codes made with segno, decoded for real."""
    fuzz_tally.run = "real QR photos"
    fuzz_tally.apart_what = "genuine cards counted apart, answered valid"
    header, claims, signature = split(tokens.staff)
    forged = forge(header, {**claims, "name": "Kẻ Mạo Danh"}, signature)
    cases = {
        f"{BASE_URL}/v/{tokens.staff}": "valid",
        f"{BASE_URL}/v/{tokens.assignment}": "valid",
        f"{BASE_URL}/v/{forged}": "bad_signature",
        "http://[/v/abc": "malformed",
        "Nguyễn Văn Đức 0912 345 678": "malformed",
    }
    for text, expected in cases.items():
        image = io.BytesIO()
        segno.make(text, error="m").save(image, kind="png", scale=4, border=4)
        image.seek(0)
        resp = client.post(
            "/api/v1/verify/image", data={"image": (image, "card.png")}, content_type="multipart/form-data"
        )
        verdict = verdict_of(documented.check("/api/v1/verify/image", "post", resp))
        assert verdict == expected, text
        _count(fuzz_tally, {verdict}, genuine_input=expected == "valid")


# ------------------------------------------------------------------ JSON bodies


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
