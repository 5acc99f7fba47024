"""Issue 11, acceptance 5 (the client's part): against a real server, an online check
sees a revocation made a moment ago, and a 304 that the client did not ask for
(answered by a proxy in the middle) never keeps an older status list alive."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import add_person, sign_keys
from helpers_client import flask_cli, live_server, run_cli, server_env, tampering_proxy
from sqlalchemy.orm import Session

from keys import jose
from keys import service as key_service
from keys.crypto import MasterKey
from keys.models import KeyPurpose
from registry.credentials.models import CredentialStatus
from registry.credentials.service import change_status, issue_credential
from verify.client.cli import main

pytestmark = pytest.mark.slow


def _issue(session: Session, master: MasterKey, code: str, base: str) -> tuple[str, str]:
    """(credential id, token) of a new card for a new person."""
    add_person(session, code, phone=None, email=None)
    cred = issue_credential(session, master, staff_code=code, base_url=base, now=datetime.now(UTC), actor="test")
    session.commit()
    return str(cred.id), str(cred.token)


def _claims(token: str) -> dict[str, Any]:
    return dict(json.loads(jose.b64url_decode(token.split(".")[1])))


def test_a_card_revoked_a_moment_ago_is_revoked_at_the_next_online_check(
    app, session, master, signing_key, database_url, tmp_path
):
    with live_server(database_url, tmp_path) as server:
        sign_keys(session, issuer=server.url, now=datetime.now(UTC))
        _a_id, card_a = _issue(session, master, "TTTT-031", server.url)
        b_id, card_b = _issue(session, master, "TTTT-032", server.url)
        root = key_service.active_key(session, KeyPurpose.ROOT).kid
        # as an agency's system runs it: one process per check, the cache between them
        client = ["--server", server.url, "--cache-dir", str(tmp_path / "cache"), f"--trust={root}", "--json"]

        first = run_cli(card_a, *client)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["verdict"] == "valid"

        admin = server_env(database_url, tmp_path, server.url)
        revoked = flask_cli(admin, "credential", "revoke", b_id, "--reason", "mất thẻ", "--json")
        assert revoked.returncode == 0, revoked.stderr
        assert json.loads(revoked.stdout)["status"] == "revoked"

        second = run_cli(card_b, *client)
        assert second.returncode == 1, second.stderr
        answer = json.loads(second.stdout)
        assert answer["verdict"] == "revoked" and answer["mode"] == "online" and answer["error"] is None

        again = run_cli(card_a, *client)  # the same list, revalidated: A is untouched
        assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    "age",
    [timedelta(hours=2), timedelta(hours=13)],
    ids=["past its ttl", "past half its validity"],
)
def test_a_304_the_client_did_not_ask_for_never_hides_a_revocation(
    app, session, master, signing_key, database_url, tmp_path, age
):
    upstream = {"url": ""}
    forging = {"on": False}

    def mutate(path: str, status: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if forging["on"] and path.startswith("/api/v1/status-lists/"):
            # "nothing changed", whatever was asked, with the server's own ETag
            return 304, {k: v for k, v in headers.items() if k.lower() == "etag"}, b""
        return status, headers, body

    with (
        tampering_proxy(lambda: upstream["url"], mutate) as proxy,
        live_server(database_url, tmp_path, public_url=proxy) as server,
    ):
        upstream["url"] = server.url
        sign_keys(session, issuer=proxy, now=datetime.now(UTC))
        b_id, card_b = _issue(session, master, "TTTT-041", proxy)
        root = key_service.active_key(session, KeyPurpose.ROOT).kid
        cache = tmp_path / "cache"
        sink = io.StringIO()
        synced = main(
            ["sync", "--server", proxy, "--cache-dir", str(cache), f"--trust={root}"],
            environ={},
            stdout=sink,
            stderr=sink,
        )
        assert synced == 0, sink.getvalue()

        # the cached list becomes the same list as the server signed it ``age`` ago,
        # fetched then: genuine, within its one-day validity, past its one-hour ttl
        (state_file,) = (cache / "servers").glob("*.json")
        state = json.loads(state_file.read_text())
        cached = state["status_lists"]["1"]
        then = int((datetime.now(UTC) - age).timestamp())
        signer = key_service.active_key(session)
        cached["body"] = jose.sign(
            {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": signer.kid},
            {**_claims(cached["body"]), "iat": then, "exp": then + 86400},
            key_service.private_key(signer, master),
        )
        cached["fetched_at"] = then
        state_file.write_text(json.dumps(state))

        change_status(session, b_id, CredentialStatus.REVOKED, actor="test", now=datetime.now(UTC))
        session.commit()

        def check() -> tuple[int, dict[str, Any], str]:
            out, err = io.StringIO(), io.StringIO()
            code = main(
                [card_b, "--server", proxy, "--cache-dir", str(cache), "--json", "--lang", "en"],
                environ={},
                stdout=out,
                stderr=err,
            )
            return code, json.loads(out.getvalue()), err.getvalue()

        forging["on"] = True
        code, answer, err = check()
        assert code == 2, answer
        assert answer["verdict"] is None and answer["error"]["code"] == "invalid_response"
        assert 'says "not modified" about a copy this computer did not ask about' in err

        forging["on"] = False
        code, answer, err = check()
        assert code == 1, err
        assert answer["verdict"] == "revoked"
