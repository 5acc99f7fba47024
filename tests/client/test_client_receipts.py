"""``python -m verify receipt`` (issue 15): a receipt checked with the client's trust
(the pinned root's key set): exit 0 genuine, 1 changed or forged, 2 when it cannot be
decided; ``--json`` prints one object."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE_URL, NOW, add_person, issue
from helpers_client import altered_payload, flask_fetcher, foreign_key, resign, run_cli

from keys import jose
from keys.contract import RECEIPT_TYP
from verify.client import ClientError, Verifier, receipts
from verify.client.cli import main
from verify.core.receipts import ReceiptStatus


@pytest.fixture()
def cache(app: Any, tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture()
def verifier(app, cache):
    fetcher, _adapter = flask_fetcher(app, BASE_URL)
    return Verifier(BASE_URL, tofu=True, cache_dir=cache, clock=lambda: NOW, fetcher=fetcher)


@pytest.fixture()
def receipt(client: Any, session: Any, master: Any, signing_key: Any) -> str:
    add_person(session)
    cred = issue(session, master)
    answer = client.get("/api/v1/verify", query_string={"token": cred.token, "receipt": "1"}).json
    assert answer["verdict"] == "valid"
    return str(answer["receipt"])


def _cli(*args: str) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), environ={}, now=lambda: NOW, stdout=out, stderr=err)
    return code, json.loads(out.getvalue()) if "--json" in args else {}, out.getvalue() + err.getvalue()


def test_library_checks_a_receipt_with_the_pinned_root(verifier, receipt):
    result = receipts.check(verifier, receipt)
    assert result.status is ReceiptStatus.GENUINE and result.exit_code == 0
    assert result.claims is not None and result.claims["sub"] == "TTTT-001"
    assert receipts.check(verifier, f"{BASE_URL}/r/{receipt}").status is ReceiptStatus.GENUINE
    changed = receipts.check(verifier, altered_payload(receipt, verdict="revoked"))
    assert (changed.status, changed.claims, changed.exit_code) == (ReceiptStatus.FORGED, None, 1)


def test_a_receipt_signed_by_a_key_the_root_does_not_list_is_not_genuine(verifier, receipt):
    private, kid = foreign_key()
    forged = resign(receipt, private, kid)
    assert json.loads(jose.b64url_decode(forged.split(".")[0]))["typ"] == RECEIPT_TYP
    assert receipts.check(verifier, forged).status is ReceiptStatus.UNKNOWN_KEY
    assert receipts.check(verifier, "not a receipt").status is ReceiptStatus.MALFORMED


def test_cli_exit_codes_and_json(verifier, receipt, cache, tmp_path):
    verifier.sync()
    common = ["--server", BASE_URL, "--offline", "--cache-dir", str(cache), "--json"]
    code, answer, _ = _cli("receipt", receipt, *common)
    assert code == 0
    assert answer["receipt"] == "genuine" and answer["exit_code"] == 0 and answer["mode"] == "offline"
    assert answer["claims"]["verdict"] == "valid" and answer["error"] is None
    code, answer, _ = _cli("receipt", altered_payload(receipt, name="Kẻ Mạo Danh"), *common)
    assert (code, answer["receipt"], answer["claims"]) == (1, "forged", None)
    # a file holding the receipt's URL, as saved from a phone
    saved = tmp_path / "bien-ban.txt"
    saved.write_text(f"{BASE_URL}/r/{receipt}\n", encoding="utf-8")
    assert _cli("receipt", str(saved), *common)[0] == 0
    # people's words, in Vietnamese by default
    code, _, text = _cli("receipt", receipt, "--server", BASE_URL, "--offline", "--cache-dir", str(cache))
    assert code == 0
    assert "BIÊN BẢN HỢP LỆ" in text and "Nguyễn Văn Đức (TTTT-001)" in text


def test_cli_cannot_decide_without_synced_keys(receipt, tmp_path):
    code, answer, _ = _cli(
        "receipt", receipt, "--server", BASE_URL, "--offline", "--cache-dir", str(tmp_path / "empty"), "--json"
    )
    assert code == 2
    assert answer["receipt"] is None and answer["error"]["code"] == "not_synced"


def test_the_real_entry_point_exits_0_then_1(verifier, receipt, cache):
    """``python -m verify receipt`` in a child process, on the synced cache (whose key
    set the wall clock finds expired: the tests' clock stands at NOW)."""
    verifier.sync()
    args = ["--server", BASE_URL, "--offline", "--allow-stale", "--cache-dir", str(cache), "--lang", "en"]
    done = run_cli("receipt", receipt, *args)
    assert done.returncode == 0, done.stderr
    assert "GENUINE RECEIPT" in done.stdout
    done = run_cli("receipt", altered_payload(receipt, verdict="valid", agency="Sở Nội vụ"), *args)
    assert done.returncode == 1, done.stderr
    assert "NOT GENUINE: this receipt was changed or forged" in done.stdout


def test_offline_a_receipt_of_a_newer_key_asks_for_a_sync(app, client, session, master, verifier, receipt, cache):
    from datetime import timedelta

    from conftest import NOW as BEFORE

    from keys import service as key_service

    verifier.sync()
    app.config["CLOCK"].at = BEFORE + timedelta(hours=1)
    key_service.rotate_key(session, master, now=BEFORE + timedelta(hours=1))
    session.commit()
    newer = client.get("/api/v1/verify", query_string={"token": "x", "receipt": "1"}).json["receipt"]
    later = BEFORE + timedelta(hours=2)
    common = ["--server", BASE_URL, "--cache-dir", str(cache), "--json"]
    out, err = io.StringIO(), io.StringIO()
    code = main(["receipt", newer, "--offline", *common], environ={}, now=lambda: later, stdout=out, stderr=err)
    assert (code, json.loads(out.getvalue())["error"]["code"]) == (2, "not_synced")
    # the receipt signed before the rotation is still genuine offline: its key is retired, not revoked
    out = io.StringIO()
    assert main(["receipt", receipt, "--offline", *common], environ={}, now=lambda: later, stdout=out) == 0


def test_the_receipt_pdf_itself_can_be_checked(client, session, master, signing_key, verifier, tmp_path):
    add_person(session)
    cred = issue(session, master)
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(client.get(f"/v/{cred.token}/receipt.pdf").data)
    result = receipts.check(verifier, str(pdf))
    assert result.status is ReceiptStatus.GENUINE
    assert result.claims is not None and result.claims["credential"] == cred.id
    # a PDF without a receipt's link is no receipt: the file cannot be read as one
    other = tmp_path / "khac.pdf"
    other.write_bytes(b"%PDF-1.4\n" + b"x" * 10_000)
    with pytest.raises(ClientError):
        receipts.check(verifier, str(other))
