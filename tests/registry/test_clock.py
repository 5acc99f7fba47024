"""One clock: the views, the verification fast path and the commands all read the
app's clock (configuration CLOCK), which the tests stop at NOW; nothing here depends
on today's date."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from factories import NOW, add_person, issue
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from verify.verification.fastpath import FastVerify


def test_the_fast_path_and_the_view_answer_at_the_apps_clock(
    app: Any, client: Any, session: Session, master: MasterKey, signing_key: Any, clock: Any
) -> None:
    assert isinstance(app.wsgi_app.next, FastVerify)  # behind the request timer (metrics)
    add_person(session)
    token = issue(session, master, days=30).token
    fast = "/api/v1/verify?" + urlencode({"token": token})
    page = f"/v/{token}"
    assert client.get(fast).json["verdict"] == "valid"
    clock.at = NOW + timedelta(days=31)
    answer = client.get(fast).json
    assert answer["verdict"] == "expired" and answer["checked_at"] == clock.at.isoformat()
    assert client.get(page, headers={"Accept": "application/json"}).json["verdict"] == "expired"


def test_commands_read_the_apps_clock(runner: Any, clock: Any) -> None:
    clock.at = NOW + timedelta(days=1000)
    assert runner.invoke(args=["keys", "generate"]).exit_code == 0
    add = ["staff", "add", "--code", "TTTT-001", "--name", "A", "--title", "T", "--unit", "U"]
    assert runner.invoke(args=add).exit_code == 0
    issued = runner.invoke(args=["credential", "issue", "TTTT-001", "--days", "10", "--json"])
    assert issued.exit_code == 0, issued.output
    assert json.loads(issued.stdout)["expires_at"] == (clock.at + timedelta(days=10)).replace(microsecond=0).isoformat()
