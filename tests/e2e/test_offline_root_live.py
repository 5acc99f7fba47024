"""Issue 13, acceptance 4, on a real server process: the root is made with ``keys root
generate --out FILE`` by the operator's command line, the file is deleted, and every
page, public and console, still works; the key set the server serves verifies with
the deleted file's public key, and the offline client pinning its thumbprint syncs
and verifies a card. No web worker ever needs the root."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import jwt
import pytest
import requests
from factories import NOW
from helpers_admin import PASSWORD, cheap_argon2, code_at, make_admin, sample_data, url_of  # noqa: F401 - fixture
from helpers_client import flask_cli, live_server, run_cli, server_env

from keys import root as key_root
from registry.credentials.service import issue_credential

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def _sign_in(base: str, username: str, secret: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/admin/login", timeout=30).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    resp = browser.post(
        f"{base}/admin/login",
        data={
            "csrf_token": match.group(1),
            "username": username,
            "password": PASSWORD,
            "code": code_at(secret, datetime.now(UTC)),
        },
        timeout=30,
        allow_redirects=False,
    )
    assert resp.status_code == 302, resp.text
    return browser


def test_every_page_works_with_the_root_file_deleted(app, session, master, database_url, tmp_path):
    root_file = tmp_path / "operator" / "root.key"
    root_file.parent.mkdir()
    with live_server(database_url, tmp_path) as server:
        env = server_env(database_url, tmp_path, server.url)
        assert flask_cli(env, "keys", "generate").returncode == 0
        made = flask_cli(env, "keys", "root", "generate", "--out", str(root_file), "--json")
        assert made.returncode == 0, made.stderr
        thumbprint = json.loads(made.stdout)["thumbprint"]
        public = key_root.read_root_file(root_file).public_key()
        root_file.unlink()  # the operator takes it away: from here on, no process can open it

        sample = sample_data(app, session, master)
        card = issue_credential(
            session, master, staff_code=sample.staff_code, base_url=server.url, now=datetime.now(UTC), actor="test"
        )
        session.commit()
        user, secret = make_admin(session, master, username="root-less-admin", now=NOW)
        values = sample.route_values(username=user.username)
        admin = _sign_in(server.url, user.username, secret)
        anonymous = requests.Session()
        answers: dict[str, int] = {}
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.rule in ("/admin/logout",):
                continue
            url = url_of(rule, values)
            who = admin if url.startswith("/admin") else anonymous
            resp = who.get(server.url + url, timeout=60, allow_redirects=False)
            answers[url] = resp.status_code
        failed = {url: status for url, status in answers.items() if status >= 500}
        assert failed == {}
        assert len(answers) >= 40
        for page in ("/", "/admin/", "/admin/keys", "/api/v1/keyset", "/api/v1/roster", "/readyz", "/report"):
            assert answers[page] == 200, (page, answers[page])
        assert requests.get(f"{server.url}/readyz", timeout=30).json()["warnings"] == []

        token = requests.get(f"{server.url}/api/v1/keyset", timeout=30).text
        claims = jwt.decode(token, public, algorithms=["EdDSA"])  # the wall clock: within its 30 days
        assert claims["iss"] == server.url and jwt.get_unverified_header(token)["kid"] == thumbprint

        cache = ["--cache-dir", str(tmp_path / "cache")]
        synced = run_cli("sync", "--server", server.url, "--trust", thumbprint, *cache)
        assert synced.returncode == 0, synced.stderr
        checked = run_cli(card.token, "--server", server.url, "--offline", "--json", *cache)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["verdict"] == "valid"
    log = server.log.read_text()
    assert "Traceback" not in log
