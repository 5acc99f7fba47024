"""The one error table (app.py): a not-found is a 404 whatever family raises it, the
command line prints one format, and a master key that opens nothing is the server's
fault: the public gets a plain 500 that names no configuration, the operator's
command line and log the reason."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from factories import NOW, add_person, app_config, issue
from sqlalchemy.orm import Session

from app import create_app
from keys import service as key_service
from keys.crypto import MasterKey
from registry.livecode import service as livecode
from registry.platform.db import dispose_engines

OTHER_MASTER = base64.b64encode(bytes(range(100, 132))).decode()
CONFIGURATION_WORDS = ("MASTER_KEY", "master key", "master_key", "stored secret", "CHINHDANH")


@pytest.fixture()
def wrong_master(
    app: Any,
    session: Session,
    master: MasterKey,
    signing_key: Any,
    database_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """A card and a live code sealed under the tests' master key, and the same
    service started with another master key on the same database (in a fresh
    process, as a misconfigured instance would be: no key opened yet)."""
    add_person(session)
    issue(session, master)
    livecode.enrol(session, master, "TTTT-001", actor="test", now=NOW)
    session.commit()
    monkeypatch.setattr(key_service, "_private_cache", {})
    other = create_app(app_config(database_url, tmp_path / "other", CHINHDANH_MASTER_KEY=OTHER_MASTER))
    yield other
    dispose_engines(other)


def test_revoking_an_unknown_key_is_not_found_on_the_command_line(runner: Any) -> None:
    assert runner.invoke(args=["keys", "generate"]).exit_code == 0
    result = runner.invoke(args=["keys", "revoke", "nokid"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error (not_found): no key with kid nokid"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/live-code", {"staff_code": "TTTT-001", "code": "123456"}),
        ("get", "/api/v1/roster", None),
        ("get", "/api/v1/status-lists/1", None),
    ],
)
def test_a_wrong_master_key_is_a_plain_500_to_the_public(
    wrong_master: Any, method: str, path: str, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="chinhdanh"):
        resp = getattr(wrong_master.test_client(), method)(path, json=body)
    assert resp.status_code == 500
    error = resp.get_json()["error"]
    assert error["code"] == "internal_error"
    text = resp.get_data(as_text=True)
    assert not any(word in text for word in CONFIGURATION_WORDS), text
    assert any("master_key_error" in r.getMessage() for r in caplog.records)  # the operator's log says why


def test_the_key_set_is_served_without_any_key_of_the_server(wrong_master: Any) -> None:
    """The key set is stored as the offline root signed it: serving it opens nothing."""
    resp = wrong_master.test_client().get("/api/v1/keyset")
    assert resp.status_code == 200 and resp.mimetype == "application/jwt"


def test_a_wrong_master_key_is_a_plain_500_on_the_live_code_page(wrong_master: Any) -> None:
    resp = wrong_master.test_client().post("/live-code", data={"staff_code": "TTTT-001", "code": "123456"})
    assert resp.status_code == 500
    text = resp.get_data(as_text=True)
    assert 'data-error="internal_error"' in text
    assert not any(word in text for word in CONFIGURATION_WORDS), text


def test_the_operator_is_told_what_the_public_is_not(wrong_master: Any) -> None:
    result = wrong_master.test_cli_runner().invoke(args=["credential", "issue", "TTTT-001"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error (master_key_error): ")
    assert "CHINHDANH_MASTER_KEY" in result.stderr


def test_every_command_error_has_one_format(runner: Any, tmp_path: Any) -> None:
    add_person_via_cli = ["staff", "add", "--code", "TTTT-001", "--name", "A", "--title", "T", "--unit", "U"]
    assert runner.invoke(args=add_person_via_cli).exit_code == 0
    unwritable = tmp_path / "missing-folder" / "qr.png"
    result = runner.invoke(args=["live-code", "enrol", "TTTT-001", "--png", str(unwritable)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error (cannot_write): cannot write {unwritable}: ")
    assert "Traceback" not in result.output
