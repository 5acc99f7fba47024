"""Property-based tests of issue 11 over the HTTP views: whatever the token's header
and claims, whatever the token, URL or QR text, no public endpoint answers 5xx, every
answer has the shape the OpenAPI document gives it, and the verdict is ``valid`` only
for a genuine token. (Bodies and query strings: tests/test_fuzz_requests.py.)

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
from typing import Any

import pytest
import segno
from factories import BASE_URL, NOW
from helpers_client import foreign_key
from helpers_hostile import (
    ANY_TEXT,
    FUZZ_SETTINGS,
    JSON,
    Documented,
    Genuine,
    Tally,
    forge,
    json_values,
    segment,
    sign_raw,
    split,
    verdict_of,
    verdict_path,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import jose

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("fast_path_silent")]

DELETE = object()  # an edit that removes the member
FORGED_SIGNINGS = ("original", "garbage", "foreign_our_kid", "foreign_kid", "none", "short")
SIGNINGS = ("real", *FORGED_SIGNINGS)
HEADER_MEMBERS = ("alg", "typ", "kid", "jku", "x5u", "jwk", "crit", "cty", "b64")
CLAIM_MEMBERS = ("iss", "sub", "jti", "iat", "exp", "nbf", "name", "status", "agency", "agency_domain", "purpose", "x")
header_edits = st.lists(st.tuples(st.sampled_from(HEADER_MEMBERS), st.one_of(json_values, st.just(DELETE))), max_size=2)
claim_edits = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(CLAIM_MEMBERS).map(lambda m: (m,)), st.just(("status", "status_list", "idx"))),
        st.one_of(json_values, st.just(DELETE)),
    ),
    max_size=3,
)


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
    now = NOW.timestamp()
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
        return str(draw(ANY_TEXT))
    if kind == "b64":
        return draw(B64_TEXT)
    if kind == "token":
        return token
    if kind == "padded":
        return f"{draw(ANY_TEXT)}{token}{draw(ANY_TEXT)}"
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
    monkeypatch.setattr("verify.verification.photo.decode_qr_bounded", lambda _data: text)

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
