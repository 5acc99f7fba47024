"""Issue 11, the client's trust and freshness rules: a first sync needs a thumbprint
(--trust, CHINHDANH_TRUST) or an explicit --tofu; a server is https:// unless it is
this computer; a 304 counts only as the answer to the client's own If-None-Match,
which names a cached status list only while it is within its ttl of its iat."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
import requests
import requests.adapters
import requests.structures
from factories import BASE_URL, NOW, add_person, issue
from helpers_client import flask_fetcher, foreign_key, free_port

from keys import jose
from keys import service as key_service
from keys.models import KeyPurpose
from verify.client import (
    InsecureServerError,
    NoServerError,
    TrustRequiredError,
    Verdict,
    Verifier,
)
from verify.client.cli import main
from verify.client.errors import InvalidResponseError
from verify.client.http import Fetcher


@pytest.fixture()
def transport(app):
    return flask_fetcher(app, BASE_URL)


def parsable_token() -> str:
    """A token that parses, so the client must fetch the server's keys to judge it."""
    private, kid = foreign_key()
    return jose.sign({"alg": "EdDSA", "typ": "staff-credential+jwt", "kid": kid}, {"sub": "TTTT-001"}, private)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), now=lambda: NOW, environ=env or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_first_sync_without_a_thumbprint_or_tofu_is_refused_before_any_request(
    session, master, signing_key, transport, tmp_path
):
    add_person(session)
    token = issue(session, master, now=NOW).token
    fetcher, adapter = transport
    verifier = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=tmp_path, fetcher=fetcher)
    with pytest.raises(TrustRequiredError) as refused:
        verifier.sync()
    assert refused.value.code == "trust_required"
    assert "flask --app app keys root show" in refused.value.message
    with pytest.raises(TrustRequiredError):  # an online check with nothing cached syncs first
        verifier.verify(token)
    assert adapter.calls == []  # nothing the server says could have helped
    assert not (tmp_path / "servers").exists()

    # with the thumbprint, or with consent to trust on first use, it goes ahead
    root = key_service.active_key(session, KeyPurpose.ROOT).kid
    assert (
        Verifier(BASE_URL, clock=lambda: NOW, cache_dir=tmp_path / "a", fetcher=fetcher, trust=root).verify(token).valid
    )
    tofu = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=tmp_path / "b", fetcher=fetcher, tofu=True)
    report = tofu.sync()
    assert report.root_source == "tofu" and report.newly_pinned and report.root_thumbprint == root
    assert tofu.notices[0][0].startswith("TRUST ON FIRST USE (--tofu)")
    # once pinned, later runs need neither
    assert Verifier(BASE_URL, clock=lambda: NOW, cache_dir=tmp_path / "b", fetcher=fetcher).verify(token).valid


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("No root key is pinned for", "official letters", "flask --app app keys root show", "--tofu")),
        ("vi", ("Chưa có khóa gốc nào được ghim", "công văn chính thức", "flask --app app keys root show", "--tofu")),
    ],
)
def test_the_command_line_says_where_the_thumbprint_is_published(tmp_path, lang, words):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: nothing is asked
    for head in (["sync"], [parsable_token()]):
        code, out, err = run(*head, "--server", url, "--cache-dir", str(tmp_path), "--lang", lang)
        assert code == 2 and out == ""
        for word in words:
            assert word in err, (word, err)
        code, out, err = run(*head, "--server", url, "--cache-dir", str(tmp_path), "--lang", lang, "--json")
        assert code == 2
        assert json.loads(out)["error"]["code"] == "trust_required"


def test_trust_and_tofu_together_is_a_usage_error(tmp_path):
    code, out, err = run("sync", "--trust", "x" * 43, "--tofu", "--lang", "en")
    assert code == 2 and out == ""
    assert "argument --tofu: not allowed with argument --trust" in err


@pytest.mark.parametrize(
    "url",
    [
        "https://xacminh.thiduakhenthuong.vn",
        "https://xacminh.thiduakhenthuong.vn/",
        "https://xacminh.thiduakhenthuong.vn:8443/chinhdanh",
        "http://127.0.0.1:5000",
        "http://127.8.9.10",
        "http://[::1]:5000",
        "http://localhost:5000",
        "http://LOCALHOST",
    ],
)
def test_https_or_this_computer_is_accepted(tmp_path, url):
    assert Verifier(url, cache_dir=tmp_path).server == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://xacminh.thiduakhenthuong.vn",
        "HTTP://xacminh.thiduakhenthuong.vn",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example",
        "http://0.0.0.0:5000",
        "http://10.0.0.1",
        "http://[::2]",
        "http://[::ffff:8.8.8.8]",
    ],
)
def test_plain_http_to_another_computer_is_refused(tmp_path, url):
    with pytest.raises(InsecureServerError) as refused:
        Verifier(url, cache_dir=tmp_path)
    assert refused.value.code == "insecure_server"
    assert "127.0.0.1, ::1, localhost" in refused.value.message


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org", "https://", "https://[", "https://host:port", "https://user:pw@host", "https://x/?q=1"],
)
def test_what_is_not_a_server_address_is_refused(tmp_path, url):
    with pytest.raises(NoServerError) as refused:
        Verifier(url, cache_dir=tmp_path)
    assert refused.value.code == "no_server"


def test_plain_http_is_refused_from_every_source(tmp_path):
    token = parsable_token()
    common = ["--cache-dir", str(tmp_path), "--offline", "--json", "--lang", "en"]
    code, out, err = run(token, "--server", "http://xacminh.thiduakhenthuong.vn", *common)
    assert code == 2
    answer = json.loads(out)
    assert answer["error"]["code"] == "insecure_server" and answer["server"] is None
    assert "is not https://" in err
    code, out, err = run(token, *common, env={"CHINHDANH_SERVER": "http://xacminh.thiduakhenthuong.vn"})
    assert code == 2 and json.loads(out)["error"]["code"] == "insecure_server"
    # a cache written before the rule: the server synced last is checked too
    (tmp_path / "last_server.json").write_text(json.dumps({"server": "http://xacminh.thiduakhenthuong.vn"}))
    code, out, err = run(token, *common)
    assert code == 2 and json.loads(out)["error"]["code"] == "insecure_server"


class Canned(requests.adapters.BaseAdapter):
    """Answers every request with one status and headers; records If-None-Match."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__()
        self.status, self.headers = status, headers
        self.asked: list[str | None] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.asked.append(request.headers.get("If-None-Match"))
        resp = requests.Response()
        resp.status_code = self.status
        resp.headers = requests.structures.CaseInsensitiveDict(self.headers)
        resp.raw = io.BytesIO(b"" if self.status == 304 else b"body")
        resp.request = request
        return resp

    def close(self) -> None:
        pass


def _fetch(status: int, headers: dict[str, str], etag: str | None) -> Any:
    session = requests.Session()
    session.mount("https://", Canned(status, headers))
    return Fetcher(session=session, retries=0).get("https://xacminh.thiduakhenthuong.vn/x", etag=etag)


@pytest.mark.parametrize(
    ("sent", "answered"),
    [(None, {"ETag": '"v1"'}), (None, {}), ('"v1"', {"ETag": '"v2"'}), ('"v1"', {"ETag": 'W/"v2"'})],
    ids=["unasked, with a tag", "unasked, no tag", "another tag", "another weak tag"],
)
def test_a_304_that_answers_no_question_of_ours_is_refused(sent, answered):
    with pytest.raises(InvalidResponseError) as refused:
        _fetch(304, answered, sent)
    assert refused.value.code == "invalid_response"


@pytest.mark.parametrize(
    "answered", [{"ETag": '"v1"'}, {"ETag": 'W/"v1"'}, {}], ids=["same tag", "weakened by a proxy", "no tag"]
)
def test_a_304_to_our_own_if_none_match_counts(answered):
    answer = _fetch(304, answered, '"v1"')
    assert answer.status == 304 and answer.body == b""
    assert _fetch(200, {"ETag": '"v2"'}, None).body == b"body"


def test_the_cached_status_list_is_named_only_within_its_ttl(session, master, signing_key, transport, tmp_path):
    add_person(session)
    token = issue(session, master, now=NOW).token
    fetcher, adapter = transport
    cache = tmp_path / "cache"
    root = key_service.active_key(session, KeyPurpose.ROOT).kid
    Verifier(BASE_URL, clock=lambda: NOW, cache_dir=cache, fetcher=fetcher, trust=root).sync()
    (state_file,) = (cache / "servers").glob("*.json")
    etag = json.loads(state_file.read_text())["status_lists"]["1"]["etag"]
    assert etag

    adapter.conditions.clear()
    assert Verifier(BASE_URL, clock=lambda: NOW, cache_dir=cache, fetcher=fetcher).verify(token).valid
    assert adapter.conditions == [("/api/v1/status-lists/1", etag)]  # fresh: revalidated, and not modified

    # the same list, signed two hours ago (past its one-hour ttl, within its day)
    state = json.loads(state_file.read_text())
    cached = state["status_lists"]["1"]
    claims = json.loads(jose.b64url_decode(cached["body"].split(".")[1]))
    then = int((NOW - timedelta(hours=2)).timestamp())
    signer = key_service.active_key(session)
    cached["body"] = jose.sign(
        {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": signer.kid},
        {**claims, "iat": then, "exp": then + 86400},
        key_service.private_key(signer, master),
    )
    state_file.write_text(json.dumps(state))
    adapter.conditions.clear()
    result = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=cache, fetcher=fetcher).verify(token)
    assert result.verdict is Verdict.VALID
    assert adapter.conditions == [("/api/v1/status-lists/1", None)]  # fetched afresh, no copy named
    fresh = json.loads(state_file.read_text())["status_lists"]["1"]["body"]
    assert json.loads(jose.b64url_decode(fresh.split(".")[1]))["iat"] > then
