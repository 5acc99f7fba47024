"""Issue 11, acceptance 4 (the client's part): a genuine token in a QR code that sends
phones to another website is ``foreign_site`` (exit 1) in the library, the command
line (English and Vietnamese, naming the host) and ``--json``, from a URL, a text
file or a photo; the same token under the trusted server's own origin stays valid."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import segno
from factories import BASE_URL, NOW, add_person, issue
from helpers_client import flask_fetcher

from keys import service as key_service
from keys.models import KeyPurpose
from verify.client import Verdict, Verifier
from verify.client.cli import main

EVIL_HOST = "xacminh-thiduakhenthuong.vn.evil.example"
EVIL = f"https://{EVIL_HOST}"


@pytest.fixture()
def synced(app, session, master, signing_key, tmp_path, clock):
    """(verifier, token, cache dir): a valid card, its server synced with the Board's thumbprint."""
    add_person(session)
    token = issue(session, master, now=NOW).token
    fetcher, _adapter = flask_fetcher(app, BASE_URL)
    root = key_service.active_key(session, KeyPurpose.ROOT).kid
    cache = tmp_path / "cache"
    verifier = Verifier(BASE_URL, cache_dir=cache, fetcher=fetcher, trust=root, clock=clock)
    verifier.sync()
    return verifier, token, cache


def qr_photo(path: Path, text: str) -> Path:
    segno.make_qr(text, error="m").save(str(path), scale=6, border=4)
    return path


@pytest.mark.parametrize(
    ("template", "host"),
    [
        (EVIL + "/v/{token}", EVIL_HOST),
        ("https://xacminh.thiduakhenthuong.vn.evil.example/v/{token}", "xacminh.thiduakhenthuong.vn.evil.example"),
        ("http://xacminh.thiduakhenthuong.vn/v/{token}", "http://xacminh.thiduakhenthuong.vn"),
        ("https://xacminh.thiduakhenthuong.vn:8443/v/{token}", "https://xacminh.thiduakhenthuong.vn:8443"),
        ("https://evil.example/?next=https://xacminh.thiduakhenthuong.vn/v/{token}", "evil.example"),
        ("evil.example/v/{token}", "evil.example"),
        ("//evil.example/v/{token}", "evil.example"),
    ],
)
def test_a_genuine_token_under_another_origin_is_foreign_site(synced, template, host):
    verifier, token, _cache = synced
    result = verifier.verify(template.format(token=token))
    assert result.verdict is Verdict.FOREIGN_SITE
    assert result.foreign_host == host
    assert result.exit_code == 1 and not result.valid
    assert result.claims is None and result.kind is None  # the token inside was never read
    assert result.as_json()["verdict"] == "foreign_site" and result.as_json()["foreign_host"] == host


@pytest.mark.parametrize(
    "template",
    [
        "{token}",
        BASE_URL + "/v/{token}",
        "HTTPS://XacMinh.ThiDuaKhenThuong.vn:443/v/{token}?lang=en",
        "xacminh.thiduakhenthuong.vn/v/{token}",
        "/v/{token}",
    ],
)
def test_the_same_token_under_its_own_origin_stays_valid(synced, template):
    verifier, token, _cache = synced
    result = verifier.verify(template.format(token=token))
    assert result.verdict is Verdict.VALID and result.foreign_host is None


def test_a_photo_or_text_file_of_a_forged_card(synced, tmp_path):
    verifier, token, _cache = synced
    forged = qr_photo(tmp_path / "forged.png", f"{EVIL}/v/{token}")
    genuine = qr_photo(tmp_path / "genuine.png", f"{BASE_URL}/v/{token}")
    text = tmp_path / "qr.txt"
    text.write_text(f"{EVIL}/v/{token}\n")
    for given in (forged, str(forged), text):
        result = verifier.verify(given)
        assert result.verdict is Verdict.FOREIGN_SITE and result.foreign_host == EVIL_HOST, given
    assert verifier.verify(genuine).verdict is Verdict.VALID


def test_a_url_that_cannot_be_parsed_is_malformed(synced):
    verifier, token, _cache = synced
    for text in (f"http://[/v/{token}", f"https://host:abc/v/{token}", "javascript:alert(1)"):
        assert verifier.verify(text).verdict is Verdict.MALFORMED, text


def test_decided_on_what_was_presented_without_data_or_network(tmp_path):
    # nothing synced, offline: a forged QR needs neither keys nor status lists
    verifier = Verifier(BASE_URL, cache_dir=tmp_path, offline=True)
    result = verifier.verify(f"{EVIL}/v/eyJhbGciOiJFZERTQSJ9.e30.c2ln")
    assert result.verdict is Verdict.FOREIGN_SITE and result.foreign_host == EVIL_HOST


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), environ={}, now=lambda: NOW, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("lang", "headline", "forged"),
    [
        ("en", "FORGED CARD: its QR code leads to another website", "the card is forged"),
        ("vi", "THẺ GIẢ: mã QR dẫn tới một trang web khác", "thẻ này là giả"),
    ],
)
def test_the_command_line_names_the_foreign_host_and_says_the_card_is_forged(synced, tmp_path, lang, headline, forged):
    _verifier, token, cache = synced
    photo = qr_photo(tmp_path / "forged.png", f"{EVIL}/v/{token}")
    common = ["--server", BASE_URL, "--cache-dir", str(cache), "--offline", "--lang", lang]
    for given in (f"{EVIL}/v/{token}", str(photo)):
        code, out, err = run(given, *common)
        assert code == 1, err
        lines = out.splitlines()
        assert lines[0] == headline
        assert EVIL_HOST in lines[1] and forged in lines[1] and BASE_URL in lines[1]
        assert "foreign_site" in lines[2]
        code, out, err = run(given, *common, "--json")
        assert code == 1
        answer = json.loads(out)
        assert answer["verdict"] == "foreign_site" and answer["exit_code"] == 1
        assert answer["foreign_host"] == EVIL_HOST and answer["credential"] is None and answer["error"] is None
    code, out, _err = run(f"{BASE_URL}/v/{token}", *common, "--json")
    assert code == 0 and json.loads(out)["verdict"] == "valid" and json.loads(out)["foreign_host"] is None
