"""``foreign_site``: a full URL whose origin is not PUBLIC_BASE_URL's is never
``valid``, whatever token it carries. An impostor copies a genuine token into a QR
code holding their own site's address: phone cameras open that site, and an officer
who uploads the card's photo to the real service must be told the card is forged.
The same holds for the API given the full URL, on the fast path and through the view."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import segno
from factories import BASE_URL, NOW, add_person, app_config, count_views, issue
from PIL import Image
from test_fastpath import VIEW, both_paths, comparable
from test_photo import photograph

from app import create_app
from keys.contract import verification_url
from registry.credentials import service as credentials
from registry.credentials.models import CredentialStatus
from registry.platform.config import ConfigError

EVIL_HOST = "xacminh-thiduakhenthuong.vn.evil.example"
EVIL = f"https://{EVIL_HOST}"


def forged_card(url: str) -> Image.Image:
    """A printed card whose QR code (made by segno, not by our encoder) holds ``url``."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=4)
    code = Image.open(io.BytesIO(out.getvalue())).convert("RGB").resize((400, 400), Image.Resampling.NEAREST)
    card = Image.new("RGB", (860, 540), "white")
    card.paste(code, (430, 110))
    return card


def card_photo(url: str) -> bytes:
    photo: bytes = photograph(forged_card(url), scale=1.1, angle=4, fmt="JPEG")
    return photo


@pytest.fixture()
def cred(session: Any, master: Any, signing_key: Any) -> Any:
    add_person(session)
    return issue(session, master)


def api_answers(client: Any, text: str) -> dict[str, Any]:
    return {
        "get": client.get("/api/v1/verify?" + urlencode({"token": text})).json,
        "post-json": client.post("/api/v1/verify", json={"token": text}).json,
        "post-form": client.post("/api/v1/verify", data={"token": text}).json,
    }


def test_the_api_answers_foreign_site_for_a_url_of_another_site(client: Any, cred: Any) -> None:
    for name, body in api_answers(client, f"{EVIL}/v/{cred.token}").items():
        assert body["verdict"] == "foreign_site", name
        assert body["foreign_host"] == EVIL_HOST, name
        assert body["credential"] is None and body["staff"] is None, name
    for name, body in api_answers(client, f"{BASE_URL}/v/{cred.token}").items():
        assert body["verdict"] == "valid", name
        assert body["foreign_host"] is None, name


def test_the_photo_check_answers_foreign_site(client: Any, cred: Any) -> None:
    photo = card_photo(f"{EVIL}/v/{cred.token}")
    api = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(photo), "the-card.jpg")})
    assert api.status_code == 200
    assert api.json["verdict"] == "foreign_site" and api.json["foreign_host"] == EVIL_HOST
    assert api.json["staff"] is None
    page = client.post("/check-photo", data={"image": (io.BytesIO(photo), "the-card.jpg")})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-verdict="foreign_site"' in html and "verdict-bad" in html
    assert "THẺ GIẢ" in html and f"Mã QR dẫn tới: {EVIL_HOST}" in html and "thẻ này là thẻ giả" in html
    assert f"social_link={EVIL_HOST}" in html  # the report form, prefilled with the impostor's site
    english = client.post("/check-photo?lang=en", data={"image": (io.BytesIO(photo), "the-card.jpg")})
    text = english.get_data(as_text=True)
    assert "FORGED CARD" in text and f"The QR code points at: {EVIL_HOST}" in text and "the card is forged" in text


def test_the_photo_check_of_the_same_token_under_the_services_origin_is_valid(client: Any, cred: Any) -> None:
    photo = card_photo(verification_url(BASE_URL, cred.token))
    api = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(photo), "the-card.jpg")})
    assert api.json["verdict"] == "valid" and api.json["foreign_host"] is None
    page = client.post("/check-photo", data={"image": (io.BytesIO(photo), "the-card.jpg")})
    assert 'data-verdict="valid"' in page.get_data(as_text=True)


def test_the_foreign_host_is_escaped_on_the_page(client: Any, cred: Any) -> None:
    photo = card_photo(f'https://evil.example"><script>alert(1)</script>/v/{cred.token}')
    page = client.post("/check-photo", data={"image": (io.BytesIO(photo), "the-card.jpg")})
    html = page.get_data(as_text=True)
    assert 'data-verdict="foreign_site"' in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://xacminh.thiduakhenthuong.vn/v/{token}", "http://xacminh.thiduakhenthuong.vn"),
        ("https://xacminh.thiduakhenthuong.vn:8443/v/{token}", "https://xacminh.thiduakhenthuong.vn:8443"),
        ("https://xacminh.thiduakhenthuong.vn.evil.example/v/{token}", "xacminh.thiduakhenthuong.vn.evil.example"),
        ("https://evil.example/verify?token={token}", "evil.example"),
        ("//evil.example/v/{token}", "evil.example"),
        ("evil.example/v/{token}", "evil.example"),
        ("https://user@xacminh.thiduakhenthuong.vn/v/{token}", "https://user@xacminh.thiduakhenthuong.vn"),
        # look-alike, invisible and direction characters are named escaped, never as our host
        ("https://xacminh.thiduakhenthu\u043eng.vn/v/{token}", "xacminh.thiduakhenthu\\u043eng.vn"),
        ("https://xacminh.thiduakhenthuong.vn\u00ad/v/{token}", "xacminh.thiduakhenthuong.vn\\xad"),
        ("https://\u202env.gnouhtnekhaudiht.hnimcax/v/{token}", "\\u202env.gnouhtnekhaudiht.hnimcax"),
    ],
)
def test_every_other_origin_is_foreign(client: Any, cred: Any, url: str, host: str) -> None:
    for name, body in api_answers(client, url.format(token=cred.token)).items():
        assert (body["verdict"], body["foreign_host"]) == ("foreign_site", host), name


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://XacMinh.ThiDuaKhenThuong.vn./v/{token}",
        "https://xacminh.thiduakhenthuong.vn:443/v/{token}",
        "https://xacminh.thiduakhenthuong.vn/v/{token}?lang=en",
        "xacminh.thiduakhenthuong.vn/v/{token}",
    ],
)
def test_the_services_own_origin_however_written_is_read(client: Any, cred: Any, url: str) -> None:
    for name, body in api_answers(client, url.format(token=cred.token)).items():
        assert body["verdict"] == "valid", name


def test_foreign_site_wins_over_every_other_verdict(client: Any, session: Any, cred: Any) -> None:
    """Whatever token the URL carries: revoked, forged, junk, or none."""
    credentials.change_status(session, cred.id, CredentialStatus.REVOKED, actor="t", now=NOW)
    session.commit()
    head, payload, signature = cred.token.split(".")
    carried = {
        "revoked": cred.token,
        "bad_signature": f"{head}.{payload}.{signature[::-1]}",
        "malformed": "not-a-token",
        "nothing": "",
    }
    for name, token in carried.items():
        for how, body in api_answers(client, f"{EVIL}/v/{token}").items():
            assert body["verdict"] == "foreign_site", (name, how)
    expect = client.get("/api/v1/verify?" + urlencode({"token": f"{EVIL}/v/{cred.token}", "expect": "assignment"}))
    assert expect.json["verdict"] == "foreign_site"


@pytest.mark.parametrize(
    "url", ["https://xacminh.thiduakhenthuong.vn:abc/v/{token}", "http://[/v/{token}", "https://host:99999/v/{token}"]
)
def test_a_url_that_cannot_be_parsed_is_malformed(client: Any, cred: Any, url: str) -> None:
    for name, body in api_answers(client, url.format(token=cred.token)).items():
        assert (body["verdict"], body["foreign_host"]) == ("malformed", None), name


def test_fast_path_and_view_give_the_same_answers(database_url: str, tmp_path: Any, cred: Any) -> None:
    texts = {
        f"{EVIL}/v/{cred.token}": "foreign_site",
        f"{BASE_URL}/v/{cred.token}": "valid",
        f"http://xacminh.thiduakhenthuong.vn/v/{cred.token}": "foreign_site",
        f"https://xacminh.thiduakhenthuong.vn:abc/v/{cred.token}": "malformed",
        f'https://evil.example"><script>/v/{cred.token}': "foreign_site",
    }
    with both_paths(database_url, tmp_path) as (fast, slow):
        calls = count_views(fast, VIEW)
        for text, verdict in texts.items():
            url = "/api/v1/verify?" + urlencode({"token": text})
            got, want = fast.test_client().get(url), slow.test_client().get(url)
            assert comparable(got) == comparable(want), text
            assert got.json is not None and got.json["verdict"] == verdict, text
        assert calls == []  # every one was answered below Flask


def test_the_verdict_page_of_the_same_token_is_valid(client: Any, cred: Any) -> None:
    resp = client.get(f"/v/{quote(cred.token)}", headers={"Accept": "application/json"})
    assert resp.json["verdict"] == "valid" and resp.json["foreign_host"] is None


def test_a_public_base_url_that_is_not_an_absolute_url_is_refused(database_url: str, tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app(app_config(database_url, tmp_path / "instance", PUBLIC_BASE_URL="xacminh.example.vn"))
