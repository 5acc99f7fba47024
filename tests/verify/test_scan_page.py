"""The scan page, GET /v/<token>, answered below Flask (verify/verification/fastpage.py)
gives exactly what the Flask view gives: the same status, headers and bytes for
every verdict, in both languages, with and without the officer's agency; every
request outside the plain scan still goes to the view; and nothing of a verdict is
kept between requests, so a revocation shows on the next scan from any process. What
is kept (the pages rendered, each under everything it was made of, and the answers
of Ed25519 checks per key and token) gives a fresh page as soon as anything a scan
reads or shows changes."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from factories import BASE_URL, NOW, add_person, app_config, count_views, issue
from flask import Flask
from helpers_admin import client_as
from helpers_client import AGENCY, every_state
from jinja2 import Environment
from werkzeug.test import TestResponse

from app import create_app
from keys import jose
from keys import service as key_service
from keys.contract import STAFF_TYP
from keys.crypto import MasterKey
from keys.errors import BadSignatureError
from registry.accounts.models import AdminRole
from registry.credentials import service as credentials
from registry.credentials.models import CredentialStatus
from registry.platform.db import dispose_engines
from registry.staff.models import StaffDetails, StaffStatus
from registry.staff.photos import set_photo
from registry.staff.service import change_status, get_staff, update_staff
from verify.reports.models import ReportStatus
from verify.reports.triage import triage
from verify.verification.fastpage import WARNED_READ, FastPage
from verify.verification.page import RENDERED_PAGES, VerdictPage, folded_environment, jinja_gettext
from verify.warnings.service import publish, withdraw

VIEW = "verify.verdict_page"
VERDICT = re.compile(r'data-verdict="([a-z_]+)"')
EN = {"Cookie": "lang=en"}
EXPIRES = re.compile(r"Expires=[^;]*;")


def fast_page(application: Flask) -> FastPage | None:
    """The scan page's fast path among ``application``'s WSGI layers (request timer,
    ProxyFix, the API's fast path), or None."""
    layer: Any = application.wsgi_app
    while layer is not None and not isinstance(layer, FastPage):
        layer = getattr(layer, "next", None) or getattr(layer, "app", None)
    return layer


@pytest.fixture()
def page_views(app: Flask) -> list[str]:
    calls: list[str] = count_views(app, VIEW)
    return calls


def exactly(resp: TestResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, every header in order, and the body's bytes (a cookie's expiry date
    taken out: it names the second of the answer)."""
    headers = [(name, EXPIRES.sub("Expires=...;", value)) for name, value in resp.headers.items()]
    return resp.status_code, headers, resp.get_data()


def card(session: Any, master: MasterKey, code: str = "TTTT-001", **person: str) -> Any:
    """A person and a card of theirs in force (id, token)."""
    add_person(session, code=code, **person)
    return issue(session, master, code, now=NOW)


def verdict_of(resp: TestResponse) -> str:
    found = VERDICT.search(resp.get_data(as_text=True))
    assert found is not None, resp.get_data(as_text=True)[:300]
    return found.group(1)


def scan(client: Any, token: str, *, headers: dict[str, str] | None = None, **params: str) -> TestResponse:
    query = f"?{urlencode(params)}" if params else ""
    resp: TestResponse = client.get(f"/v/{quote(token, safe='')}{query}", headers=headers or {})
    return resp


def test_the_page_fast_path_sits_behind_the_api_one(app: Flask, flask_only: Flask) -> None:
    assert isinstance(fast_page(app), FastPage)
    assert fast_page(flask_only) is None


def test_every_verdict_gives_the_same_page_as_the_flask_view(
    app: Flask,
    flask_only: Flask,
    centre: Any,
    master: MasterKey,
    signing_key: Any,
    page_views: list[str],
    fast_path_silent: None,
) -> None:
    cases = every_state(centre, master, BASE_URL, now=NOW)
    set_photo(get_staff(centre, "TTTT-002"), b"\xff\xd8\xff\xe0 a photo", "image/jpeg")  # photo_url is set
    centre.commit()
    fast, slow = app.test_client(use_cookies=False), flask_only.test_client(use_cookies=False)
    seen = set()
    compared = 0
    not_ascii = 0  # a path Flask must decode: the view answers
    for name, case in cases.items():
        if "/" in case.token:
            continue  # a whole URL is no path segment: both 404 (below)
        agencies = [{"agency": case.agency}] if case.agency else [{}, {"agency": AGENCY}, {"agency": "hanoi.gov.vn"}]
        for params in agencies:
            for headers in ({}, EN, {"Cookie": "lang=vi"}, {"Cookie": "lang=xx"}, {"Accept": "text/html,*/*"}):
                got, want = (
                    scan(fast, case.token, headers=headers, **params),
                    scan(slow, case.token, **params, headers=headers),
                )
                assert exactly(got) == exactly(want), (name, params, headers)
                assert got.status_code == 200
                seen.add(verdict_of(got))
                compared += 1
                not_ascii += not case.token.isascii()
        if not case.agency:
            assert verdict_of(scan(fast, case.token)) == case.expected, name
            not_ascii += not case.token.isascii()
    assert not_ascii == 16  # "xin chào"
    assert page_views == [VIEW] * not_ascii  # every other went below Flask
    assert compared > 100
    assert seen == {
        "valid",
        "suspended",
        "revoked",
        "expired",
        "not_yet_valid",
        "unknown_key",
        "bad_signature",
        "malformed",
        "key_revoked",
        "wrong_agency",
    }


def test_the_pages_words_are_those_of_each_language(
    app: Flask, flask_only: Flask, centre: Any, master: MasterKey, signing_key: Any
) -> None:
    """The same bytes in Vietnamese and English, the Centre's contacts beside every
    answer but ``valid``, the person's own beside ``valid`` only (issue 11)."""
    cred = card(centre, master)
    token = cred.token
    fast, slow = app.test_client(use_cookies=False), flask_only.test_client(use_cookies=False)
    vi, en = scan(fast, token), scan(fast, token, headers=EN)
    assert exactly(vi) == exactly(scan(slow, token)) and exactly(en) == exactly(scan(slow, token, headers=EN))
    assert '<html lang="vi">' in vi.get_data(as_text=True) and "HỢP LỆ" in vi.get_data(as_text=True)
    assert '<html lang="en">' in en.get_data(as_text=True) and "VALID: an authorised" in en.get_data(as_text=True)
    assert "duc.nv@tdkt.gov.vn" in vi.get_data(as_text=True)
    assert "centre-contacts" not in vi.get_data(as_text=True)
    credentials.change_status(centre, cred.id, CredentialStatus.SUSPENDED, actor="test", now=NOW)
    centre.commit()
    for headers in ({}, EN):
        page = scan(fast, token, headers=headers)
        assert exactly(page) == exactly(scan(slow, token, headers=headers))
        text = page.get_data(as_text=True)
        assert verdict_of(page) == "suspended"
        assert "duc.nv@tdkt.gov.vn" not in text and "centre-contacts" in text


def test_configured_never_does_lines_are_escaped_alike(
    database_url: str, tmp_path: Path, session: Any, master: MasterKey, signing_key: Any
) -> None:
    lines = "Không bao giờ <b>thu tiền</b> & phí | Chỉ gọi \"số chính thức\" 'đây'"
    token = card(session, master).token
    made = [
        create_app(app_config(database_url, tmp_path / f"i{fast}", VERIFY_FAST_PATH=fast, CENTRE_NEVER_DOES=lines))
        for fast in (True, False)
    ]
    try:
        fast, slow = (application.test_client(use_cookies=False) for application in made)
        for headers in ({}, EN):
            got = scan(fast, token, headers=headers)
            assert exactly(got) == exactly(scan(slow, token, headers=headers))
            assert "<li>Không bao giờ &lt;b&gt;thu tiền&lt;/b&gt; &amp; phí</li>" in got.get_data(as_text=True)
    finally:
        for application in made:
            dispose_engines(application)


@pytest.mark.parametrize(
    ("path", "headers", "view"),
    [
        ("/v/{token}?lang=en", {}, True),  # Flask sets the language cookie
        ("/v/{token}?lang=vi", EN, True),
        ("/v/{token}?utm_source=qr", {}, True),
        ("/v/{token}?expect=bogus", {}, True),  # the view's 400
        ("/v/{token}", {"Accept": "application/json"}, True),
        ("/v/{token}", {"Accept": "application/*"}, True),
        ("/v/{token}", {"Cookie": "session=abc"}, True),
        ("/v/{token}", {"Cookie": "lang=en; other=1"}, True),
        ("/v/{token}", {"Content-Type": "application/json"}, True),
        ("/v/{token}/", {}, False),  # 404
        ("/v/{token}/letter", {}, False),  # the letter's own view
        ("/v/", {}, False),  # 404
        ("/v/%C3%A0{token}", {}, True),  # not ASCII: Flask decodes the path
    ],
)
def test_everything_but_a_plain_scan_goes_to_flask(
    app: Flask,
    flask_only: Flask,
    session: Any,
    master: MasterKey,
    signing_key: Any,
    page_views: list[str],
    path: str,
    headers: dict[str, str],
    view: bool,
) -> None:
    token = card(session, master).token
    url = path.format(token=token)
    got = app.test_client(use_cookies=False).get(url, headers=headers)
    want = flask_only.test_client(use_cookies=False).get(url, headers=headers)
    assert exactly(got) == exactly(want)
    assert page_views == ([VIEW] if view else [])


def test_head_post_and_a_script_name_go_to_flask(
    app: Flask, session: Any, master: MasterKey, signing_key: Any, page_views: list[str]
) -> None:
    token = card(session, master).token
    client = app.test_client(use_cookies=False)
    assert client.head(f"/v/{token}").status_code == 200
    assert client.post(f"/v/{token}").status_code == 405
    mounted = client.get(f"/v/{token}", environ_overrides={"SCRIPT_NAME": "/xacminh"})
    assert mounted.status_code == 200 and 'href="/xacminh/static/site.css"' in mounted.get_data(as_text=True)
    assert page_views == [VIEW, VIEW]  # HEAD and the mounted GET; the POST matched no view


@pytest.mark.parametrize(
    "config",
    [{"SERVER_NAME": "localhost"}, {"TRUSTED_HOSTS": ["localhost"]}, {"APPLICATION_ROOT": "/xm"}],
)
def test_a_configuration_binding_flask_to_a_host_leaves_scans_to_it(
    app: Flask, database_url: str, tmp_path: Path, session: Any, master: MasterKey, signing_key: Any, config: Any
) -> None:
    """Flask checks the Host header (a 404, a 400) or links static files under the
    root: the page fast path then stands aside."""
    assert fast_page(app).serves is True  # type: ignore[union-attr]
    token = card(session, master).token
    made = create_app(app_config(database_url, tmp_path / "bound", **config))
    try:
        assert fast_page(made).serves is False  # type: ignore[union-attr]
        calls = count_views(made, VIEW)
        assert scan(made.test_client(use_cookies=False), token).status_code == 200
        assert calls == [VIEW]
    finally:
        dispose_engines(made)


@pytest.mark.usefixtures("signing_key")
def test_a_failure_below_flask_is_answered_by_the_view(
    app: Flask,
    flask_only: Flask,
    session: Any,
    master: MasterKey,
    page_views: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = card(session, master).token
    page = fast_page(app).page  # type: ignore[union-attr]

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("a template that does not render")

    monkeypatch.setattr(page, "render", broken)
    got = scan(app.test_client(use_cookies=False), token)
    assert exactly(got) == exactly(scan(flask_only.test_client(use_cookies=False), token))
    assert page_views == [VIEW]
    assert [r.getMessage() for r in caplog.records if r.name == "chinhdanh.fastpath"] == [
        "scan page fast path failed (RuntimeError); answering through Flask"
    ]


def test_a_revocation_shows_on_the_next_scan_from_another_process(
    app: Flask,
    database_url: str,
    tmp_path: Path,
    centre: Any,
    master: MasterKey,
    signing_key: Any,
    page_views: list[str],
) -> None:
    """Nothing of a verdict is kept: the console and the command line of another
    instance change the registry, and the very next scan here says so."""
    cred = card(centre, master)
    token = cred.token
    phone = app.test_client(use_cookies=False)
    other = create_app(app_config(database_url, tmp_path / "other"))
    try:
        assert verdict_of(scan(phone, token)) == "valid"
        console = client_as(other, centre, master, AdminRole.ADMIN)
        done = console.post(
            f"/admin/credentials/{cred.id}/status", data={"to": "suspended", "confirm": "yes", "reason": "x"}
        )
        assert done.status_code in (302, 303), done.get_data(as_text=True)[:300]
        assert verdict_of(scan(phone, token)) == "suspended"
        result = other.test_cli_runner().invoke(args=["credential", "reinstate", cred.id])
        assert result.exit_code == 0, result.output
        assert verdict_of(scan(phone, token)) == "valid"
        result = other.test_cli_runner().invoke(args=["credential", "revoke", cred.id, "--reason", "mất thẻ"])
        assert result.exit_code == 0, result.output
        assert verdict_of(scan(phone, token)) == "revoked"
    finally:
        dispose_engines(other)
    assert page_views == []


def test_a_revoked_key_and_a_departure_show_at_once(
    app: Flask, centre: Any, master: MasterKey, signing_key: Any, page_views: list[str]
) -> None:
    token = card(centre, master).token
    second = card(
        centre, master, "TTTT-002", name="Trần Thị Minh Hằng", phone="0912 000 002", email="h@tdkt.gov.vn"
    ).token
    phone = app.test_client(use_cookies=False)
    assert verdict_of(scan(phone, token)) == "valid" and verdict_of(scan(phone, second)) == "valid"
    change_status(centre, "TTTT-002", StaffStatus.DEPARTED, actor="test", now=NOW)
    centre.commit()
    assert verdict_of(scan(phone, second)) == "revoked"
    key_service.rotate_key(centre, master, now=NOW)
    key_service.revoke_key(centre, signing_key.kid, now=NOW, reason="test: the key leaked")
    centre.commit()
    assert verdict_of(scan(phone, token)) == "key_revoked"  # the key's public part is cached; its state is read
    assert page_views == []


@pytest.mark.parametrize(
    ("words", "catalog"),
    [
        ("Plain", "Chữ thường"),
        ("A & B", "A & <b>B</b>"),  # the catalog's words are markup, as Jinja's i18n makes them
        ("100%% sure", "chắc 100%%"),  # always %-formatted, even with no parameter
        ("Missing %(name)s", "Thiếu %(name)s"),  # not folded: the call raises at render time
    ],
)
def test_gettext_folded_at_compile_time_renders_as_the_call_does(words: str, catalog: str) -> None:
    def ugettext(text: str) -> str:
        return catalog if text == words else text

    base = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    said = repr(words)
    source = "<p>{{ _(" + said + ") }}|{{ gettext(" + said + ")|upper }}|{{ _(" + said + ", n=1) }}</p>"
    folded = folded_environment(base, ugettext)
    outputs = []
    for env in (base, folded):
        template = env.from_string(source)
        try:
            outputs.append(template.render(gettext=jinja_gettext(ugettext), _=jinja_gettext(ugettext)))
        except KeyError as exc:
            outputs.append(f"KeyError {exc}")
    assert outputs[0] == outputs[1]
    if "%(name)s" not in words:
        assert "gettext" not in folded.compile(source, raw=True)  # no call left to make


def warn_about(session: Any, client: Any, staff_code: str, **names: str) -> int:
    """A report naming ``staff_code`` (and ``names``: a phone, an email), confirmed and
    published as a public warning; its id."""
    report = {
        "channel": "phone",
        "staff_code": staff_code,
        "request_text": "Đề nghị chuyển phí đăng bài.",
        "reporter_agency": AGENCY,
        "reporter_contact": "Trần Văn B, 0243 111 222",
        **names,
    }
    ref = client.post("/api/v1/reports", json=report).get_json()["reference"]
    triage(session, ref, ReportStatus.REVIEWING, note=None, actor="test", now=NOW)
    triage(session, ref, ReportStatus.CONFIRMED, note="Đã xác minh", actor="test", now=NOW)
    warning = publish(session, ref, text="Không chuyển tiền.", actor="test", now=NOW)
    session.commit()
    return int(warning.id)


def test_a_card_named_by_a_public_warning_gives_the_same_page_below_flask(
    app: Flask, flask_only: Flask, centre: Any, master: MasterKey, signing_key: Any, page_views: list[str]
) -> None:
    """The warning's link (issue 15) and the receipt's, as the Flask view gives them."""
    token = card(centre, master, code="TTTT-009", phone="0903 333 444").token
    client = app.test_client(use_cookies=False)
    warn_about(centre, client, "TTTT-009")
    slow = flask_only.test_client(use_cookies=False)
    for params in ({}, {"agency": AGENCY, "expect": "credential"}):
        for headers in ({}, EN):
            got, want = scan(client, token, headers=headers, **params), scan(slow, token, headers=headers, **params)
            assert exactly(got) == exactly(want), (params, headers)
            body = got.get_data(as_text=True)
            assert 'data-public-warnings="1"' in body and 'id="receipt-pdf"' in body
    assert page_views == []  # every one below Flask


# ------------------------------------------------------------------ what is kept between scans

MINUTE = NOW.replace(second=0, microsecond=0)  # whatever NOW is (CHINHDANH_TEST_NOW), a minute's start


def kept_pages(app: Flask) -> VerdictPage:
    layer = fast_page(app)
    assert layer is not None
    return layer.page


def contactable(session: Any, master: MasterKey) -> str:
    """A card in force whose holder has a phone and an email (its token)."""
    return str(card(session, master, phone="0912 000 001", email="duc@tdkt.gov.vn").token)


def test_the_same_scan_in_the_same_minute_is_rendered_once(
    app: Flask, session: Any, master: MasterKey, signing_key: Any, clock: Any, page_views: list[str]
) -> None:
    token = contactable(session, master)
    phone = app.test_client(use_cookies=False)
    clock.at = MINUTE + timedelta(seconds=5)
    before = kept_pages(app).kept()
    first = scan(phone, token)
    clock.at = MINUTE + timedelta(seconds=55)  # the page shows the minute, not the second
    again = scan(phone, token)
    kept = kept_pages(app).kept()
    assert (kept.misses - before.misses, kept.hits - before.hits) == (1, 1)
    assert exactly(again) == exactly(first) and verdict_of(again) == "valid"
    clock.at = MINUTE + timedelta(seconds=60)
    later = scan(phone, token)
    assert kept_pages(app).kept().misses - before.misses == 2
    shown = (MINUTE + timedelta(hours=7, minutes=1)).strftime("%H:%M %d/%m/%Y")  # Viet Nam's time
    assert f"{shown}</p>" in later.get_data(as_text=True) and f"{shown}</p>" not in first.get_data(as_text=True)
    assert page_views == []


def test_a_change_to_the_holder_shows_on_the_next_scan(
    app: Flask, flask_only: Flask, session: Any, master: MasterKey, signing_key: Any, page_views: list[str]
) -> None:
    token = contactable(session, master)
    phone = app.test_client(use_cookies=False)
    assert "0912 000 001" in scan(phone, token).get_data(as_text=True)
    staff = get_staff(session, "TTTT-001")
    details = StaffDetails(staff.code, "Nguyễn Văn Đức", staff.title, staff.unit, "0912 999 999", staff.email)
    update_staff(session, staff, details, actor="test", now=NOW)
    session.commit()
    got = scan(phone, token)
    body = got.get_data(as_text=True)
    assert "0912 999 999" in body and "0912 000 001" not in body
    assert exactly(got) == exactly(scan(flask_only.test_client(use_cookies=False), token))
    assert page_views == []


def test_a_warning_published_after_a_scan_shows_on_the_next(
    app: Flask, session: Any, master: MasterKey, signing_key: Any, page_views: list[str]
) -> None:
    token = contactable(session, master)
    phone = app.test_client(use_cookies=False)
    assert "data-public-warnings" not in scan(phone, token).get_data(as_text=True)
    warn_about(session, phone, "TTTT-001")
    assert 'data-public-warnings="1"' in scan(phone, token).get_data(as_text=True)
    assert page_views == []


def test_the_pages_kept_are_bounded(app: Flask, session: Any, master: MasterKey, signing_key: Any) -> None:
    """An officer's agency is part of a page: a caller naming a new one at each scan
    makes a new page each time, and the oldest go."""
    token = contactable(session, master)
    phone = app.test_client(use_cookies=False)
    for n in range(RENDERED_PAGES + 20):
        assert scan(phone, token, agency=f"Sở Nội vụ {n}").status_code == 200
    kept = kept_pages(app).kept()
    assert kept.maxsize == RENDERED_PAGES and kept.currsize == RENDERED_PAGES
    assert kept.misses >= RENDERED_PAGES + 20
    last = f"Sở Nội vụ {RENDERED_PAGES + 19}"
    assert urlencode({"agency": last}) in scan(phone, token, agency=last).get_data(as_text=True)  # the receipt's link


@pytest.fixture()
def token_and_key(session: Any, master: MasterKey, signing_key: Any) -> tuple[jose.ParsedToken, Any]:
    token = contactable(session, master)
    parsed = jose.parse_token(token, typs=frozenset({STAFF_TYP}))
    return parsed, jose.import_public(signing_key.public_jwk)


def test_a_signature_checked_once_gives_the_same_answer_and_no_other(
    token_and_key: tuple[jose.ParsedToken, Any], master: MasterKey
) -> None:
    parsed, key = token_and_key
    jose.verify_signature(parsed, key)
    before = jose.signature_verifies.cache_info()
    jose.verify_signature(parsed, key)  # kept: the same answer, not checked again
    assert jose.signature_verifies.cache_info().hits == before.hits + 1
    header, payload, signature = parsed.raw.split(".")
    flipped = jose.b64url_decode(signature)
    forged = jose.b64url_encode(bytes([flipped[0] ^ 1]) + flipped[1:])
    tampered = jose.ParsedToken(raw=f"{header}.{payload}.{forged}", header=parsed.header, claims=parsed.claims)
    kept = jose.signature_verifies.cache_info().currsize
    for _ in range(2):  # a forged token is checked each time, and never kept
        with pytest.raises(BadSignatureError):
            jose.verify_signature(tampered, key)
    other = jose.generate_private()
    with pytest.raises(BadSignatureError):  # verified under its key, not under another
        jose.verify_signature(parsed, other)
    assert jose.signature_verifies.cache_info().currsize == kept
    assert jose.signature_verifies.cache_info().maxsize == jose.VERIFIED_SIGNATURES


@pytest.mark.parametrize(
    "names",
    [{"staff_code": "TTTT-001"}, {"phone": "+84 912 000 001"}, {"email": "DUC@tdkt.gov.vn"}],
    ids=["staff code", "own phone", "own email"],
)
@pytest.mark.usefixtures("signing_key")
def test_a_warning_naming_the_holder_is_asked_for_in_the_scans_own_round_trip(
    app: Flask, flask_only: Flask, session: Any, master: MasterKey, page_views: list[str], names: dict[str, str]
) -> None:
    """The fast path asks whether a warning names the holder within the verification's
    query (verify.warnings.service.STAFF_WARNED): by the code, the phone or the email,
    each spelled as a reporter may, as the Flask view's own query finds them; not for
    another holder; not once the warning is withdrawn."""
    token = contactable(session, master)
    other = card(session, master, "TTTT-002", name="Lê Thị Hoa", phone="0912 000 002").token
    fast, slow = app.test_client(use_cookies=False), flask_only.test_client(use_cookies=False)
    warning_id = warn_about(session, fast, **{"staff_code": "", **names})
    for scanned, warned in ((token, True), (other, False)):
        got = scan(fast, scanned)
        assert exactly(got) == exactly(scan(slow, scanned))
        assert ('data-public-warnings="1"' in got.get_data(as_text=True)) is warned
    withdraw(session, warning_id, actor="test", now=NOW)
    session.commit()
    got = scan(fast, token)
    assert "data-public-warnings" not in got.get_data(as_text=True) and exactly(got) == exactly(scan(slow, token))
    assert page_views == []


def test_the_warned_column_names_the_holder_and_no_one_else(
    app: Flask, session: Any, master: MasterKey, signing_key: Any
) -> None:
    """The verification's extra column (STAFF_WARNED) is correlated with the holder's
    own row: a warning naming another staff member's phone does not flag this one."""
    mine = jose.parse_token(contactable(session, master), typs=frozenset({STAFF_TYP}))
    theirs = jose.parse_token(
        card(session, master, "TTTT-002", name="Lê Thị Hoa", phone="0912 000 002", email="hoa@tdkt.gov.vn").token,
        typs=frozenset({STAFF_TYP}),
    )
    warn_about(session, app.test_client(use_cookies=False), "", phone="0912 000 002")
    with app.extensions["chinhdanh.read_engine"].connect() as conn:
        flags = [WARNED_READ(conn, parsed.kid, parsed.claims["jti"])[2] for parsed in (mine, theirs)]
    assert [tuple(bool(value) for value in flag) for flag in flags] == [(False,), (True,)]
