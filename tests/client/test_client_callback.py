"""Who to call back, the offline client's side (issue 11, point 1): a person's own
phone and email only beside ``valid`` for an active person; for every other verdict,
and always for a departed person, the Centre's official channels, which the signed
roster now carries. The library, its JSON and the command line (English, Vietnamese,
``--json``) follow the server's one rule (``verify.core.callback``) and give the same
contacts as the server's own answer."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from babel.messages.pofile import read_po
from factories import BASE_URL, NOW, ROOT, add_person, issue
from helpers_client import flask_fetcher

from keys import service as key_service
from keys.models import KeyPurpose
from registry.credentials import service as credentials
from registry.credentials.models import CredentialStatus
from registry.staff.models import StaffStatus
from registry.staff.service import change_status
from verify.client import Verdict, VerificationResult, Verifier
from verify.client import words as client_words
from verify.client.cli import main
from verify.client.i18n import translator
from verify.core import callback

PHONE = "0912 345 678"
# every way the person's number may be written, and its digits without any prefix
PHONE_SPELLINGS = ("0912 345 678", "0912345678", "+84912345678", "84912345678", "+84 912 345 678", "912345678")
EMAIL = "duc.nv@tdkt.gov.vn"
CENTRE_EMAIL = "dienhinhtientien.tdkt@gmail.com"
CENTRE = [("phone", "+842438234567"), ("email", CENTRE_EMAIL), ("url", "thiduakhenthuongvn.org.vn")]
_PHONE_SEPARATORS = re.compile(r"(?<=\d)[\s.\-()\u00a0]+(?=\d)")
WITHHELD = {
    "en": "This person's own phone and email are not shown with this answer.",
    "vi": "Số điện thoại và email riêng của người này không được hiển thị với kết quả này.",
}
CENTRE_HEADER = {"en": "The Centre's official contacts:", "vi": "Đầu mối liên hệ chính thức của Trung tâm:"}


def digits_joined(text: str) -> str:
    return _PHONE_SEPARATORS.sub("", text)


def assert_no_own_contacts(text: str) -> None:
    for spelling in PHONE_SPELLINGS:
        assert spelling not in text
    assert "912345678" not in digits_joined(text)
    assert EMAIL not in text.lower() and "duc.nv" not in text.lower()


def assert_centre_contacts(text: str) -> None:
    assert "2438234567" in digits_joined(text)  # the hotline, 024 3823 4567
    assert CENTRE_EMAIL in text and "thiduakhenthuongvn.org.vn" in text


def card_of(session: Any, master: Any, case: str) -> str:
    """TTTT-001's card (phone 0912 345 678, email duc.nv@tdkt.gov.vn) in ``case``."""
    now = NOW
    add_person(session, phone="" if case == "no_contacts" else PHONE, email="" if case == "no_contacts" else EMAIL)
    if case == "expired":
        return str(issue(session, master, now=now - timedelta(days=3), days=1).token)
    cred = issue(session, master, now=now)
    if case in ("departed", "suspended"):
        status = StaffStatus.DEPARTED if case == "departed" else StaffStatus.SUSPENDED
        change_status(session, "TTTT-001", status, actor="test", now=now, reason="kiểm tra")
    elif case == "card_suspended":
        credentials.change_status(session, cred.id, CredentialStatus.SUSPENDED, actor="test", now=now)
    session.commit()
    return str(cred.token)


@pytest.fixture()
def synced(app: Any, centre: Any, signing_key: Any, tmp_path: Path, clock: Any) -> Any:
    """A verifier for the app, pinned to its root with the Board's thumbprint."""

    def build() -> Verifier:
        fetcher, _adapter = flask_fetcher(app, BASE_URL)
        root = key_service.active_key(centre, KeyPurpose.ROOT).kid
        return Verifier(BASE_URL, cache_dir=tmp_path / "cache", fetcher=fetcher, trust=root, clock=clock)

    return build


def server_answer(client: Any, token: str) -> dict[str, Any]:
    resp = client.get("/api/v1/verify?" + urlencode({"token": token}))
    assert resp.status_code == 200
    return dict(resp.json)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), environ={}, now=lambda: NOW, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


WITHHELD_CASES = [
    ("departed", "revoked", "departed"),
    ("suspended", "suspended", "suspended"),
    ("expired", "expired", "active"),
    ("card_suspended", "suspended", "active"),
]


@pytest.mark.parametrize(("case", "verdict", "status"), WITHHELD_CASES, ids=[c[0] for c in WITHHELD_CASES])
def test_the_library_and_its_json_show_the_centres_channels(
    client: Any, centre: Any, master: Any, synced: Any, case: str, verdict: str, status: str
) -> None:
    token = card_of(centre, master, case)
    result = synced().verify(token)
    assert isinstance(result, VerificationResult)
    assert result.verdict == verdict
    assert result.staff is not None and result.staff.code == "TTTT-001" and result.staff.status == status
    assert result.staff.phone is None and result.staff.email is None
    assert [(c.kind, c.value) for c in result.official_contacts] == CENTRE
    answer = result.as_json()
    assert answer["staff"]["phone"] is None and answer["staff"]["email"] is None
    text = repr(result) + json.dumps(answer, ensure_ascii=False)
    assert_no_own_contacts(text)
    assert_centre_contacts(text)
    # the server's own answer, by the same rule: the same contacts, written alike
    server = server_answer(client, token)
    assert server["verdict"] == verdict
    assert answer["official_contacts"] == server["official_contacts"]
    assert (answer["staff"]["phone"], answer["staff"]["email"]) == (server["staff"]["phone"], server["staff"]["email"])


@pytest.mark.parametrize(("case", "verdict", "status"), WITHHELD_CASES, ids=[c[0] for c in WITHHELD_CASES])
def test_the_command_line_shows_the_centres_channels(
    centre: Any, master: Any, synced: Any, tmp_path: Path, case: str, verdict: str, status: str
) -> None:
    token = card_of(centre, master, case)
    synced().sync()
    common = ["--server", BASE_URL, "--cache-dir", str(tmp_path / "cache"), "--offline"]
    for lang in ("en", "vi"):
        code, out, err = run(token, *common, "--lang", lang)
        assert code == 1, err
        assert f"{translator(lang)('Verdict')}: {verdict}" in out.splitlines()
        assert_no_own_contacts(out + err)
        assert_centre_contacts(out)
        assert WITHHELD[lang] in out and CENTRE_HEADER[lang] in out
        assert "  Đường dây nóng Trung tâm Thông tin - Truyền thông (số minh họa): 024 3823 4567" in out.splitlines()
        code, out, err = run(token, *common, "--lang", lang, "--json")
        assert code == 1, err
        answer = json.loads(out)
        assert answer["verdict"] == verdict and answer["staff"]["status"] == status
        assert answer["staff"]["phone"] is None and answer["staff"]["email"] is None
        assert [(c["kind"], c["value"]) for c in answer["official_contacts"]] == CENTRE
        assert answer["official_contacts"][0]["display"] == "024 3823 4567"
        assert_no_own_contacts(out + err)
        assert_centre_contacts(out)


def test_a_valid_card_of_an_active_person_shows_their_own_contacts(
    client: Any, centre: Any, master: Any, synced: Any, tmp_path: Path
) -> None:
    token = card_of(centre, master, "valid")
    result = synced().verify(token)
    assert result.verdict is Verdict.VALID
    assert result.staff is not None and (result.staff.phone, result.staff.email) == ("+84912345678", EMAIL)
    assert result.official_contacts == ()
    answer = result.as_json()
    assert answer["staff"]["phone"] == "+84912345678" and answer["official_contacts"] == []
    assert answer["official_contacts"] == server_answer(client, token)["official_contacts"]
    common = ["--server", BASE_URL, "--cache-dir", str(tmp_path / "cache"), "--offline"]
    for lang, phone_label in (("en", "Official phone"), ("vi", "Điện thoại chính thức")):
        code, out, err = run(token, *common, "--lang", lang)
        assert code == 0, err
        assert f"{phone_label}: 0912 345 678" in out.splitlines() and EMAIL in out
        assert WITHHELD[lang] not in out and CENTRE_HEADER[lang] not in out
        assert "2438234567" not in digits_joined(out)
        code, out, err = run(token, *common, "--lang", lang, "--json")
        assert code == 0, err
        answer = json.loads(out)
        assert (answer["staff"]["phone"], answer["staff"]["email"]) == ("+84912345678", EMAIL)
        assert answer["official_contacts"] == []


def test_a_valid_card_of_a_person_without_contacts_shows_the_centres(
    client: Any, centre: Any, master: Any, synced: Any
) -> None:
    token = card_of(centre, master, "no_contacts")
    result = synced().verify(token)
    assert result.verdict is Verdict.VALID
    assert [(c.kind, c.value) for c in result.official_contacts] == CENTRE
    assert result.as_json()["official_contacts"] == server_answer(client, token)["official_contacts"]


@pytest.mark.parametrize("given", ["xin chào", "https://mao-danh.example/v/abc.def.ghi"])
def test_an_answer_without_a_card_shows_the_centres_channels_from_the_cached_roster(
    client: Any, centre: Any, master: Any, synced: Any, tmp_path: Path, given: str
) -> None:
    verifier = synced()
    verifier.sync()
    result = verifier.verify(given)
    assert result.verdict in (Verdict.MALFORMED, Verdict.FOREIGN_SITE) and result.staff is None
    assert [(c.kind, c.value) for c in result.official_contacts] == CENTRE
    assert result.as_json()["official_contacts"] == server_answer(client, given)["official_contacts"]
    # nothing cached: a forged QR is still judged, with no channel to offer
    bare = Verifier(BASE_URL, cache_dir=tmp_path / "empty", offline=True).verify(given)
    assert bare.verdict is result.verdict and bare.official_contacts == ()


def test_the_rule_is_the_servers_and_its_words_are_the_pages():
    assert callback.ACTIVE == StaffStatus.ACTIVE and callback.DEPARTED == StaffStatus.DEPARTED
    web: dict[str, str] = {}
    for domain in ("core", "lookup"):
        with (ROOT / f"translations/{domain}/vi/LC_MESSAGES/messages.po").open("rb") as fh:
            web.update({m.id: str(m.string) for m in read_po(fh) if isinstance(m.id, str) and m.id})
    vi = translator("vi")
    for msgid in (client_words.OWN_CONTACTS_WITHHELD, client_words.LABEL_CENTRE_CONTACTS):
        assert vi(msgid) == web[msgid], msgid


def test_the_command_line_imports_no_registry(centre: Any, master: Any, synced: Any, tmp_path: Path) -> None:
    """Showing a phone number (valid) and the Centre's channels (expired) needs
    neither the registry nor Flask nor a database."""
    valid = card_of(centre, master, "valid")
    add_person(centre, "TTTT-002", "Trần Thị Minh Hằng", phone="0983 456 712", email="hang.ttm@tdkt.gov.vn")
    expired = str(issue(centre, master, "TTTT-002", now=NOW - timedelta(days=3), days=1).token)
    synced().sync()
    cache = str(tmp_path / "cache")
    code = (
        "import io, sys\n"
        "from datetime import datetime\n"
        "from verify.client.cli import main\n"
        "common = ['--server', sys.argv[3], '--cache-dir', sys.argv[4], '--offline', '--lang', 'en']\n"
        "out = io.StringIO()\n"
        "now = lambda: datetime.fromisoformat(sys.argv[5])\n"
        "assert main([sys.argv[1], *common], environ={}, now=now, stdout=out, stderr=io.StringIO()) == 0\n"
        "assert main([sys.argv[2], *common], environ={}, now=now, stdout=out, stderr=io.StringIO()) == 1\n"
        "print(out.getvalue())\n"
        "roots = ('registry', 'flask', 'sqlalchemy', 'psycopg', 'werkzeug')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in roots)\n"
        "assert loaded == [], loaded\n"
    )
    done = subprocess.run(  # our own interpreter
        [sys.executable, "-c", code, valid, expired, BASE_URL, cache, NOW.isoformat()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Official phone: 0912 345 678" in done.stdout and "024 3823 4567" in done.stdout
    assert "983456712" not in digits_joined(done.stdout)  # the expired card's holder's own number
