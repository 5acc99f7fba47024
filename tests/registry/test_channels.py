"""Official channels: normal forms, the CLI (add, list, remove, --json, errors) and the
demo loader of the agency's side."""

from __future__ import annotations

import json
from typing import Any

import pytest
from factories import BASE_URL, MASTER_B64, NOW

from registry.channels import service as channels
from registry.channels.models import ChannelKind
from registry.errors import ConflictError, NotFoundError, ValidationError


@pytest.mark.parametrize(
    ("kind", "value", "normal"),
    [
        (ChannelKind.PHONE, "024 3823 4567", "+842438234567"),
        (ChannelKind.PHONE, "+84 24 3823 4567", "+842438234567"),
        (ChannelKind.EMAIL, "DienHinhTienTien.TDKT@Gmail.com", "dienhinhtientien.tdkt@gmail.com"),
        (ChannelKind.DOMAIN, "TDKT.gov.vn.", "tdkt.gov.vn"),
        (ChannelKind.DOMAIN, "@tdkt.gov.vn", "tdkt.gov.vn"),
        (ChannelKind.DOMAIN, "thiđua.vn", "xn--thiua-7ya.vn"),
        (ChannelKind.URL, "HTTPS://www.ThiDuaKhenThuongVN.org.vn/", "thiduakhenthuongvn.org.vn"),
        (ChannelKind.URL, "thiduakhenthuongvn.org.vn/Tin-Tuc/", "thiduakhenthuongvn.org.vn/tin-tuc"),
    ],
)
def test_normal_forms(kind: ChannelKind, value: str, normal: str) -> None:
    assert channels.normalize_value(kind, value) == normal


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ChannelKind.PHONE, "12"),
        (ChannelKind.EMAIL, "not-an-email"),
        (ChannelKind.DOMAIN, "gmail.com"),
        (ChannelKind.DOMAIN, "yahoo.com.vn"),
        (ChannelKind.DOMAIN, "no_underscore.vn"),
        (ChannelKind.DOMAIN, "localhost"),
        (ChannelKind.URL, "javascript:alert(1)"),
        (ChannelKind.URL, "ftp://tdkt.gov.vn"),
        (ChannelKind.URL, "https://user:pw@tdkt.gov.vn"),
        (ChannelKind.URL, "https://tdkt.gov.vn/" + "a" * 400),
    ],
)
def test_bad_values_are_refused(kind: ChannelKind, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        channels.normalize_value(kind, value)
    assert info.value.field == "value"


def test_add_conflict_remove(session: Any) -> None:
    channels.add_channel(session, kind=ChannelKind.DOMAIN, value="tdkt.gov.vn", label="Ban", actor="t", now=NOW)
    with pytest.raises(ConflictError):
        channels.add_channel(session, kind=ChannelKind.DOMAIN, value="TDKT.GOV.VN", label="Ban", actor="t", now=NOW)
    with pytest.raises(ValidationError):
        channels.add_channel(session, kind=ChannelKind.DOMAIN, value="x.vn", label="  ", actor="t", now=NOW)
    removed = channels.remove_channel(session, kind=ChannelKind.DOMAIN, value="tdkt.gov.vn", actor="t", now=NOW)
    assert removed.value == "tdkt.gov.vn"
    with pytest.raises(NotFoundError):
        channels.remove_channel(session, kind=ChannelKind.DOMAIN, value="tdkt.gov.vn", actor="t", now=NOW)


def run_json(runner: Any, *args: str) -> Any:
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_add_list_remove(runner: Any) -> None:
    added = run_json(runner, "channels", "add", "dienhinhtientien.tdkt@gmail.com", "--label", "Hộp thư nhận bài")
    assert added == {"kind": "email", "value": "dienhinhtientien.tdkt@gmail.com", "label": "Hộp thư nhận bài"}
    assert run_json(runner, "channels", "add", "024 3823 4567", "--label", "Đường dây nóng")["kind"] == "phone"
    assert run_json(runner, "channels", "add", "tdkt.gov.vn", "--label", "Tên miền")["kind"] == "domain"
    added = run_json(runner, "channels", "add", "--kind", "url", "thiduakhenthuongvn.org.vn", "--label", "Cổng")
    assert added["kind"] == "url"
    listed = run_json(runner, "channels", "list")["channels"]
    assert [c["kind"] for c in listed] == ["domain", "email", "phone", "url"]
    assert run_json(runner, "channels", "list", "--kind", "phone")["channels"][0]["value"] == "+842438234567"
    removed = run_json(runner, "channels", "remove", "0243 823 4567")
    assert removed["removed"]["kind"] == "phone"
    assert len(run_json(runner, "channels", "list")["channels"]) == 3
    text = runner.invoke(args=["channels", "list"]).output
    assert "tdkt.gov.vn" in text


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["channels", "add", "gmail.com", "--label", "x"], "invalid_input"),
        (["channels", "add", "--kind", "phone", "abc", "--label", "x"], "invalid_input"),
        (["channels", "remove", "nothing.vn"], "not_found"),
    ],
)
def test_cli_errors(runner: Any, args: list[str], code: str) -> None:
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert code in result.stderr


def test_cli_duplicate_is_a_conflict(runner: Any) -> None:
    run_json(runner, "channels", "add", "tdkt.gov.vn", "--label", "Tên miền")
    result = runner.invoke(args=["channels", "add", "tdkt.gov.vn", "--label", "again", "--json"])
    assert result.exit_code == 1
    assert "conflict" in result.stderr


def test_demo_loader_is_idempotent(session: Any, client: Any) -> None:
    from keys.crypto import MasterKey
    from registry.demo.lookup import load_demo_lookup
    from registry.demo.service import load_demo

    master = MasterKey.from_b64(MASTER_B64)
    session.commit()
    # the demo command's loader calls ours; on a fresh database it enrols every demo code
    load_demo(session, master, base_url=BASE_URL, now=NOW, actor="test")
    first = load_demo_lookup(session, master, now=NOW, actor="test")
    session.commit()
    assert [c["value"] for c in first["channels"]] == [
        "tdkt.gov.vn",
        "dienhinhtientien.tdkt@gmail.com",
        "+842438234567",
        "thiduakhenthuongvn.org.vn",
    ]
    from registry.livecode import service as livecode

    assert all(livecode.is_enrolled(session, f"TTTT-00{n}") for n in range(1, 6))
    again = load_demo_lookup(session, master, now=NOW, actor="test")
    session.commit()
    assert again["live_codes"] == []
    assert again["channels"] == first["channels"]
    body = client.get("/api/v1/lookup", query_string={"q": "dienhinhtientien.tdkt@gmail.com"}).json
    assert body["answer"] == "official_channel"


def test_demo_loader_enrols_each_demo_staff_member_once(session: Any) -> None:
    from factories import add_person

    from keys.crypto import MasterKey
    from registry.demo.data import DEMO_STAFF
    from registry.demo.lookup import load_demo_lookup

    for code, name, *_ in DEMO_STAFF:
        add_person(session, code, name)
    master = MasterKey.from_b64(MASTER_B64)
    result = load_demo_lookup(session, master, now=NOW, actor="test")
    session.commit()
    assert [e["staff_code"] for e in result["live_codes"]] == [s[0] for s in DEMO_STAFF]
    assert all(e["otpauth_uri"].startswith("otpauth://totp/") for e in result["live_codes"])
    assert len(result["channels"]) == 4
    assert load_demo_lookup(session, master, now=NOW, actor="test")["live_codes"] == []
