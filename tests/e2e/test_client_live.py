"""Acceptance 1 of the offline client: against a real server started here, sync, then
every verdict online, each compared with the server's own /api/v1/verify answer;
then stop the server and get the same verdicts offline."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
import requests
from helpers_client import every_state, foreign_key, live_server, run_cli

from registry import qr
from verify.client import NotSyncedError, Verdict, Verifier
from verify.client.cli import main

pytestmark = pytest.mark.slow


def server_verdict(url: str, token: str, agency: str | None) -> str:
    params = {"token": token}
    if agency:
        params["agency"] = agency
    resp = requests.get(url + "/api/v1/verify", params=params, timeout=10)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["verdict"])


def test_every_verdict_online_like_the_server_then_offline(app, session, master, signing_key, database_url, tmp_path):
    cache = tmp_path / "cache"
    with live_server(database_url, tmp_path) as server:
        cases = every_state(session, master, server.url, now=datetime.now(UTC))  # a live server: the wall clock
        card = tmp_path / "card.png"
        card.write_bytes(qr.png(f"{server.url}/v/{cases['valid'].token}"))

        sync = run_cli("sync", "--server", server.url, "--cache-dir", str(cache), "--json", "--lang", "en", "--tofu")
        assert sync.returncode == 0, sync.stderr
        report = json.loads(sync.stdout)
        assert report["root"]["source"] == "tofu" and report["root"]["newly_pinned"] is True
        assert "TRUST ON FIRST USE" in sync.stderr
        assert report["keys"] == 2 and report["status_lists"] == [1] and report["roster_staff"] == 10
        assert report["error"] is None

        # the Board's letter, through the environment: a wrong thumbprint is refused, the right one pins
        _private, wrong = foreign_key()
        out, err = io.StringIO(), io.StringIO()
        env = {"CHINHDANH_SERVER": server.url, "CHINHDANH_TRUST": wrong, "CHINHDANH_CACHE_DIR": str(cache)}
        assert main(["sync", "--json"], environ=env, stdout=out, stderr=err) == 2
        assert json.loads(out.getvalue())["error"]["code"] == "root_changed"
        assert "không phải khóa gốc tin cậy" in err.getvalue()
        out = io.StringIO()
        env["CHINHDANH_TRUST"] = report["root"]["thumbprint"]
        assert main(["sync", "--json"], environ=env, stdout=out, stderr=io.StringIO()) == 0
        assert json.loads(out.getvalue())["root"] == {
            "thumbprint": report["root"]["thumbprint"],
            "source": "trust",
            "newly_pinned": False,
        }

        online = Verifier(server.url, cache_dir=cache)
        seen_online = {}
        for name, case in cases.items():
            result = online.verify(case.token, agency=case.agency)
            seen_online[name] = result.verdict.value
            assert server_verdict(server.url, case.token, case.agency) == case.expected, name
        assert seen_online == {name: case.expected for name, case in cases.items()}

        photo = online.verify(card)
        assert photo.verdict is Verdict.VALID
        assert photo.staff is not None and photo.staff.code == "TTTT-002"
        assert photo.staff.title == "Phóng viên" and photo.staff.phone == "+84912345002"

        # the same through the command line a user runs, online
        valid = run_cli(cases["valid"].token, "--server", server.url, "--cache-dir", str(cache), "--lang", "vi")
        assert valid.returncode == 0, valid.stderr
        assert "HỢP LỆ" in valid.stdout and "Nguyễn Văn Đức" in valid.stdout and "TTTT-002" in valid.stdout

    assert server.process.poll() is not None  # stopped: from here on nothing answers

    offline = Verifier(server.url, cache_dir=cache, offline=True)
    seen_offline = {name: offline.verify(case.token, agency=case.agency).verdict.value for name, case in cases.items()}
    assert seen_offline == seen_online
    assert offline.verify(card).verdict is Verdict.VALID

    revoked = run_cli(cases["revoked"].token, "--offline", "--json", "--cache-dir", str(cache))
    assert revoked.returncode == 1, revoked.stderr
    answer = json.loads(revoked.stdout)
    assert answer["verdict"] == "revoked" and answer["mode"] == "offline"
    assert answer["server"] == server.url  # the server synced last
    assert answer["staff"]["code"] == "TTTT-004"
    assert answer["data"]["status_list"] == 1 and answer["data"]["stale"] is False

    # offline never touches the network, even for a token it cannot settle from the cache
    fresh = Verifier(server.url, cache_dir=tmp_path / "empty", offline=True)
    with pytest.raises(NotSyncedError):
        fresh.verify(cases["valid"].token)
