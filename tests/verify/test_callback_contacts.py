"""Who to call back (DESIGN.md): a person's own phone and email are shown only beside a
``valid`` answer for an active person. A departed collaborator keeps their old card,
a suspended one too, and either can cause any other answer; their own numbers are
theirs, not the Centre's. So every other verdict, live-code answer and lookup, on the
page and in the JSON, shows the Centre's official channels instead, and a departed
person's photo is not served."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from factories import BASE_URL, NOW, add_person, issue
from PIL import Image
from test_fastpath import both_paths, comparable
from test_photo import card_png, photograph

from keys.contract import verification_url
from registry.credentials import service as credentials
from registry.credentials.models import CredentialStatus
from registry.livecode import service as livecode
from registry.staff.models import StaffStatus
from registry.staff.photos import set_photo
from registry.staff.service import change_status, get_staff

PHONE = "0983 456 712"  # not the home page's example number, 0912 345 678
PHONE_DIGITS = "983456712"  # without its trunk or country prefix
EMAIL = "duc.nv@tdkt.gov.vn"
CENTRE_PHONE_DIGITS = "2438234567"  # the demo hotline, 024 3823 4567
CENTRE_EMAIL = "dienhinhtientien.tdkt@gmail.com"
# what sits between the digits of a phone number as people write it
_PHONE_SEPARATORS = re.compile(r"(?<=\d)[\s.\-()\u00a0]+(?=\d)")


def digits_joined(text: str) -> str:
    """``text`` with the separators inside numbers taken out, so 0983 456 712,
    +84 983 456 712, 84983456712 and 0983.456.712 all contain 983456712."""
    return _PHONE_SEPARATORS.sub("", text)


def assert_no_own_contacts(text: str) -> None:
    assert PHONE_DIGITS not in digits_joined(text)
    assert EMAIL not in text.lower() and "duc.nv" not in text.lower()


def assert_centre_contacts(text: str) -> None:
    assert CENTRE_PHONE_DIGITS in digits_joined(text)
    assert CENTRE_EMAIL in text


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 128), "#777").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture()
def person(centre: Any, master: Any, signing_key: Any) -> Any:
    """TTTT-001 (phone 0983 456 712, email duc.nv@tdkt.gov.vn) with a photo and a card
    issued now, so that it is in force."""
    add_person(centre, phone=PHONE, email=EMAIL)
    set_photo(get_staff(centre, "TTTT-001"), jpeg(), "image/jpeg")
    centre.commit()
    return issue(centre, master, now=NOW)


def _staff_becomes(session: Any, status: StaffStatus) -> None:
    change_status(session, "TTTT-001", status, actor="test", now=NOW)
    session.commit()


def verify_answers(client: Any, token: str) -> dict[str, Any]:
    """Every way of asking the server about ``token``: JSON answers and pages."""
    url = f"{BASE_URL}/v/{token}"
    return {
        "api-get": client.get("/api/v1/verify?" + urlencode({"token": token})),
        "api-get-url": client.get("/api/v1/verify?" + urlencode({"token": url})),
        "api-post-json": client.post("/api/v1/verify", json={"token": url}),
        "api-post-form": client.post("/api/v1/verify", data={"token": token}),
        "page-json": client.get(f"/v/{token}", headers={"Accept": "application/json"}),
        "page-vi": client.get(f"/v/{token}"),
        "page-en": client.get(f"/v/{token}?lang=en"),
    }


def withheld(answers: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """Each answer (its name, the response, its text) once checked to be a 200 that
    gives the Centre's contacts and none of the person's own."""
    for name, resp in answers.items():
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200, name
        assert_no_own_contacts(text)
        assert_centre_contacts(text)
        yield name, resp, text


def check_withheld(answers: dict[str, Any], verdict: str) -> None:
    for name, resp, text in withheld(answers):
        if resp.mimetype == "application/json":
            body = resp.json
            assert body["verdict"] == verdict, name
            assert body["staff"]["code"] == "TTTT-001", name
            assert body["staff"]["phone"] is None and body["staff"]["email"] is None, name
            assert body["staff"]["phone_display"] is None, name
            assert [c["value"] for c in body["official_contacts"]] == [
                "+842438234567",
                CENTRE_EMAIL,
                "thiduakhenthuongvn.org.vn",
            ]
        else:
            assert f'data-verdict="{verdict}"' in text, name
            assert "centre-contacts" in text, name


def test_valid_card_of_an_active_person_shows_their_own_contacts(client: Any, person: Any) -> None:
    answers = verify_answers(client, person.token)
    for name, resp in answers.items():
        text = resp.get_data(as_text=True)
        assert PHONE_DIGITS in digits_joined(text), name
        assert EMAIL in text, name
        if resp.mimetype == "application/json":
            assert resp.json["verdict"] == "valid"
            assert resp.json["staff"]["phone"] == "+84983456712"
            assert resp.json["staff"]["photo_url"] == f"{BASE_URL}/api/v1/staff/TTTT-001/photo"
            assert resp.json["official_contacts"] == []  # their own are the ones to call back on
    assert client.get("/api/v1/staff/TTTT-001/photo").status_code == 200


def test_valid_card_of_a_person_without_contacts_shows_the_centres(
    client: Any, centre: Any, master: Any, signing_key: Any
) -> None:
    add_person(centre, phone="", email="")
    cred = issue(centre, master, now=NOW)
    for name, resp in verify_answers(client, cred.token).items():
        assert_centre_contacts(resp.get_data(as_text=True))
        if resp.mimetype == "application/json":
            assert resp.json["verdict"] == "valid", name
            assert len(resp.json["official_contacts"]) == 3, name


def test_departed_persons_revoked_card_shows_the_centres_channels(client: Any, session: Any, person: Any) -> None:
    _staff_becomes(session, StaffStatus.DEPARTED)
    answers = verify_answers(client, person.token)
    check_withheld(answers, "revoked")
    for resp in answers.values():
        text = resp.get_data(as_text=True)
        assert "/api/v1/staff/TTTT-001/photo" not in text
        if resp.mimetype == "application/json":
            assert resp.json["staff"]["photo_url"] is None
            assert resp.json["staff"]["status"] == "departed"


def test_suspended_persons_card_shows_the_centres_channels(client: Any, session: Any, person: Any) -> None:
    _staff_becomes(session, StaffStatus.SUSPENDED)
    check_withheld(verify_answers(client, person.token), "suspended")
    assert client.get("/api/v1/staff/TTTT-001/photo").status_code == 200  # still staff: the card's photo


def test_suspended_card_of_an_active_person_shows_the_centres_channels(client: Any, session: Any, person: Any) -> None:
    credentials.change_status(session, person.id, CredentialStatus.SUSPENDED, actor="t", now=NOW)
    session.commit()
    check_withheld(verify_answers(client, person.token), "suspended")


def test_expired_card_of_an_active_person_shows_the_centres_channels(
    client: Any, centre: Any, master: Any, signing_key: Any
) -> None:
    add_person(centre, phone=PHONE, email=EMAIL)
    cred = issue(centre, master, now=NOW - timedelta(days=2), days=1)
    check_withheld(verify_answers(client, cred.token), "expired")


def test_the_fast_path_withholds_alike(session: Any, person: Any, database_url: str, tmp_path: Any) -> None:
    """GET /api/v1/verify answered below Flask and by the view: the same answer."""
    _staff_becomes(session, StaffStatus.DEPARTED)
    url = "/api/v1/verify?" + urlencode({"token": person.token})
    with both_paths(database_url, tmp_path) as (fast, slow):
        got, want = fast.test_client().get(url), slow.test_client().get(url)
    assert comparable(got) == comparable(want)
    assert got.json is not None and got.json["staff"]["phone"] is None and got.json["official_contacts"]


def test_departed_persons_photo_is_not_served(client: Any, session: Any, person: Any) -> None:
    assert client.get("/api/v1/staff/TTTT-001/photo").status_code == 200
    _staff_becomes(session, StaffStatus.DEPARTED)
    resp = client.get("/api/v1/staff/TTTT-001/photo")
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"


def test_the_console_still_shows_a_departed_persons_photo(session: Any, person: Any) -> None:
    from registry.queries import staff_photo

    _staff_becomes(session, StaffStatus.DEPARTED)
    assert staff_photo(session, "TTTT-001") is None
    assert staff_photo(session, "TTTT-001", include_departed=True) == (jpeg(), "image/jpeg")


def test_photo_check_of_a_departed_persons_card(client: Any, session: Any, person: Any) -> None:
    _staff_becomes(session, StaffStatus.DEPARTED)
    photo = photograph(card_png(verification_url(BASE_URL, person.token)), scale=1, angle=3, fmt="PNG")
    api = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(photo), "card.png")})
    page = client.post("/check-photo", data={"image": (io.BytesIO(photo), "card.png")})
    check_withheld({"image-api": api, "image-page": page}, "revoked")


# ------------------------------------------------------------------ live code


def _enrol(session: Any, master: Any) -> str:
    from urllib.parse import parse_qs, urlsplit

    enrolment = livecode.enrol(session, master, "TTTT-001", actor="test", now=NOW)
    session.commit()
    return parse_qs(urlsplit(enrolment.otpauth_uri).query)["secret"][0]


def live_answers(client: Any, code: str) -> dict[str, Any]:
    return {
        "api": client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": code}),
        "page": client.post("/live-code", data={"staff_code": "TTTT-001", "code": code}),
    }


def check_live_withheld(answers: dict[str, Any], answer: str) -> None:
    for name, resp, text in withheld(answers):
        if resp.mimetype == "application/json":
            assert resp.json["answer"] == answer, name
            assert resp.json["staff"]["phone"] is None and resp.json["staff"]["email"] is None
            assert resp.json["official_contacts"], name
        else:
            assert f'data-live-code="{answer}"' in text, name


def test_live_code_of_a_departed_staff_code(client: Any, session: Any, master: Any, person: Any) -> None:
    _enrol(session, master)
    _staff_becomes(session, StaffStatus.DEPARTED)
    answers = live_answers(client, "123456")
    check_live_withheld(answers, "unknown_staff")
    assert "/api/v1/staff/TTTT-001/photo" not in answers["page"].get_data(as_text=True)
    assert answers["api"].json["staff"]["photo_url"] is None


def test_wrong_and_locked_live_codes_show_the_centres_channels(
    client: Any, session: Any, master: Any, person: Any
) -> None:
    import pyotp

    secret = _enrol(session, master)
    right = pyotp.TOTP(secret).at(NOW)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    check_live_withheld(live_answers(client, wrong), "invalid")
    for _ in range(3):
        client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": wrong})
    check_live_withheld(live_answers(client, right), "locked")


def test_right_live_code_shows_the_persons_own_contacts(client: Any, session: Any, master: Any, person: Any) -> None:
    import pyotp

    secret = _enrol(session, master)
    body = client.post("/api/v1/live-code", json={"staff_code": "TTTT-001", "code": pyotp.TOTP(secret).at(NOW)}).json
    assert body["answer"] == "valid"
    assert body["staff"]["phone"] == "+84983456712" and body["staff"]["email"] == EMAIL
    assert body["official_contacts"] == []


# ------------------------------------------------------------------ lookups


@pytest.mark.parametrize("q", [PHONE, "+84 983 456 712", EMAIL, "TTTT-001", "Nguyen Van Duc"])
def test_lookup_of_a_departed_person(client: Any, session: Any, person: Any, q: str) -> None:
    _staff_becomes(session, StaffStatus.DEPARTED)
    body = client.get("/api/v1/lookup", query_string={"q": q}).json
    assert body["answer"] == "unknown"
    assert body["staff"] == []
    assert [c["value"] for c in body["official_contacts"]][:2] == ["+842438234567", CENTRE_EMAIL]
    page = client.get("/", query_string={"q": q}).get_data(as_text=True)
    assert 'data-answer="unknown"' in page and "centre-contacts" in page
    assert 'data-staff-code="TTTT-001"' not in page
    assert "/api/v1/staff/TTTT-001/photo" not in page


@pytest.mark.parametrize("q", ["TTTT-001", "Nguyen Van Duc"])
def test_lookup_of_a_suspended_person_withholds_their_contacts(client: Any, session: Any, person: Any, q: str) -> None:
    _staff_becomes(session, StaffStatus.SUSPENDED)
    body = client.get("/api/v1/lookup", query_string={"q": q}).json
    assert body["answer"] == "unknown"
    assert [s["code"] for s in body["staff"]] == ["TTTT-001"]
    assert body["staff"][0]["phone"] is None and body["staff"][0]["email"] is None
    assert "staff_suspended" in [w["code"] for w in body["warnings"]]
    page = client.get("/", query_string={"q": q}).get_data(as_text=True)
    assert_no_own_contacts(page.split('id="live-code"')[0])
    assert_centre_contacts(page)


def test_lookup_of_an_active_person_shows_their_contacts(client: Any, person: Any) -> None:
    body = client.get("/api/v1/lookup", query_string={"q": "TTTT-001"}).json
    assert body["answer"] == "official_staff"
    assert body["staff"][0]["phone"] == "+84983456712" and body["staff"][0]["email"] == EMAIL
