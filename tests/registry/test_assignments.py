"""Assignments (issue 7): issue, verify, suspend, reinstate, revoke, expiry, agency
matching, the staff member's own status, an independent JOSE library, the typ swap,
and the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from click.testing import Result
from factories import BASE_URL, NOW, VN_TODAY, add_person, end_of_vn_day, issue, pyjwt_leeway
from flask.testing import FlaskClient
from helpers_assignments import AGENCY, DOMAIN, PURPOSE, app_now, assign
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys import jose
from keys.contract import ASSIGNMENT_TYP, STAFF_TYP, VN_TZ
from keys.statuslist import get_entry
from registry.assignments import service as assignments
from registry.audit.models import AuditEntry
from registry.credentials import service as credentials
from registry.credentials.models import CredentialStatus, StatusList
from registry.errors import NotFoundError, TransitionError, ValidationError
from registry.staff.models import StaffStatus
from registry.staff.service import change_status as change_staff_status
from verify.letters.views import verify_assignment
from verify.verification.service import verify_token

JSON = {"Accept": "application/json"}


def _verdict(client: FlaskClient, token: str, agency: str | None = None) -> str:
    url = f"/v/{token}" + (f"?agency={quote(agency)}" if agency is not None else "")
    resp = client.get(url, headers=JSON)
    assert resp.status_code == 200
    assert resp.json is not None
    return str(resp.json["verdict"])


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parsed = jose.parse_token(token, typs=frozenset({ASSIGNMENT_TYP}))
    return parsed.header, parsed.claims


# ---------------------------------------------------------------- issue


def test_issue_signs_exactly_the_contract_claims(session, master, signing_key):
    add_person(session)
    a = assign(session, master, now=NOW)
    header, claims = _claims(a.credential.token)
    assert header == {"alg": "EdDSA", "typ": "assignment+jwt", "kid": signing_key.kid}
    assert set(claims) == {
        "iss",
        "sub",
        "jti",
        "iat",
        "exp",
        "nbf",
        "name",
        "agency",
        "agency_domain",
        "purpose",
        "status",
    }
    assert claims["iss"] == BASE_URL
    assert claims["sub"] == "TTTT-001"
    assert claims["name"] == "Nguyễn Văn Đức"
    assert claims["agency"] == AGENCY
    assert claims["agency_domain"] == DOMAIN
    assert claims["purpose"] == PURPOSE
    assert claims["jti"] == a.credential_id and len(jose.b64url_decode(claims["jti"])) * 8 >= 96
    assert claims["nbf"] == claims["iat"] == int(NOW.timestamp())
    # 14 days: to the end of the 14th day after NOW's, Viet Nam time (NOW 10:00 on 20/11/2026 in
    # Viet Nam: the end of 04/12/2026, 16:59:59 UTC)
    assert datetime.fromtimestamp(claims["exp"], UTC) == end_of_vn_day(VN_TODAY + timedelta(days=14))
    assert claims["status"]["status_list"]["uri"].startswith(f"{BASE_URL}/api/v1/status-lists/")
    assert a.credential.kind.value == "assignment"
    assert a.issued_by == "test-admin"


def test_issue_without_domain_omits_the_claim(session, master, signing_key):
    add_person(session)
    a = assign(session, master, now=NOW, agency_domain=None)
    _, claims = _claims(a.credential.token)
    assert "agency_domain" not in claims
    assert a.agency_domain is None


def test_issue_records_letter_number_channels_and_audit(session, master, signing_key):
    add_person(session)
    first = assign(session, master, now=NOW)
    second = assign(session, master, now=NOW, channels=("zalo:0912 345 678", "email:Duc.NV@TDKT.gov.vn"))
    next_year = assign(session, master, now=datetime(VN_TODAY.year + 1, 1, 2, 3, tzinfo=UTC))
    assert assignments.letter_number(first) == "01/GGT-TTTT"
    assert assignments.letter_number(second) == "02/GGT-TTTT"
    assert (next_year.letter_year, next_year.letter_seq) == (VN_TODAY.year + 1, 1)  # numbering starts again
    # without --channel the letter lists the official phone and email
    assert first.channels == [
        {"kind": "phone", "value": "+84912345678"},
        {"kind": "email", "value": "duc.nv@tdkt.gov.vn"},
    ]
    assert second.channels == [
        {"kind": "zalo", "value": "+84912345678"},
        {"kind": "email", "value": "duc.nv@tdkt.gov.vn"},
    ]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.target == first.credential_id)).one()
    assert entry.action == "assignment.issue"
    assert entry.actor == "test-admin"
    assert entry.details["agency"] == AGENCY
    assert entry.details["letter"] == "01/GGT-TTTT"


def test_issue_an_assignment_leaves_the_staff_card_alone(client, session, master, signing_key):
    add_person(session)
    card = issue(session, master, now=app_now())
    assign(session, master)
    assert _verdict(client, card.token) == "valid"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"agency": ""}, "agency"),
        ({"agency": "   "}, "agency"),
        ({"agency": "x" * 201}, "agency"),
        ({"agency": "Sở\x00Nội vụ"}, "agency"),
        ({"purpose": ""}, "purpose"),
        ({"purpose": "p" * 201}, "purpose"),
        ({"purpose": "bài\x1bviết"}, "purpose"),
        ({"agency_domain": "khanhhoa"}, "agency_domain"),
        ({"agency_domain": "http://khanhhoa.gov.vn"}, "agency_domain"),
        ({"agency_domain": "khanh hoa.gov.vn"}, "agency_domain"),
        ({"agency_domain": "btdkt@khanhhoa.gov.vn"}, "agency_domain"),
        ({"agency_domain": "khánhhòa.gov.vn"}, "agency_domain"),
        ({"agency_domain": "-bad.gov.vn"}, "agency_domain"),
        ({"agency_domain": "a." * 130 + "vn"}, "agency_domain"),
        ({"days": 0}, "days"),
        ({"days": 61}, "days"),
        ({"days": -3}, "days"),
        ({"channels": ("fax:0912345678",)}, "channel"),
        ({"channels": ("0912345678",)}, "channel"),
        ({"channels": ("phone:12",)}, "channel"),
        ({"channels": ("email:not-an-address",)}, "channel"),
        ({"channels": ("zalo:" + "9" * 400,)}, "channel"),
        ({"channels": tuple(f"phone:09123456{i:02d}" for i in range(6))}, "channel"),
    ],
)
def test_issue_refuses_bad_input(session, master, signing_key, fields, field):
    add_person(session)
    with pytest.raises(ValidationError) as err:
        assign(session, master, now=NOW, **fields)
    assert err.value.code == "invalid_input"
    assert err.value.field == field
    session.rollback()
    assert assignments.list_assignments(session) == []


def test_realistic_longest_fields_keep_a_readable_qr(session, master, signing_key):
    from registry import qr

    add_person(session)
    a = assign(
        session,
        master,
        now=NOW,
        agency=("Ủy ban nhân dân thành phố Hồ Chí Minh, Sở Nội vụ, Ban Thi đua - Khen thưởng thành phố " * 3)[:200],
        agency_domain="a" * 60 + ".hochiminhcity.gov.vn",
        purpose=("Phỏng vấn, chụp ảnh, viết bài giới thiệu điển hình tiên tiến cho Đặc san Thi đua Khen thưởng " * 3)[
            :200
        ],
    )
    assert int(qr.describe(f"{BASE_URL}/v/{a.credential.token}")["version"]) <= assignments.MAX_QR_VERSION


@pytest.mark.parametrize("letter", ["ữ", "ẵ", "ợ"])
def test_fields_too_dense_for_a_qr_code_are_refused_and_nothing_is_kept(session, master, signing_key, letter):
    add_person(session)
    with pytest.raises(ValidationError) as err:
        assign(session, master, now=NOW, agency=letter * 200, purpose=letter * 200, agency_domain="b" * 60 + ".gov.vn")
    assert (err.value.code, err.value.field) == ("invalid_input", "purpose")
    session.rollback()
    assert assignments.list_assignments(session) == []
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "assignment.issue")).first() is None


@pytest.mark.parametrize("status", [StaffStatus.SUSPENDED, StaffStatus.DEPARTED])
def test_only_an_active_staff_member_can_be_assigned(session, master, signing_key, status):
    add_person(session)
    change_staff_status(session, "TTTT-001", status, actor="test", now=NOW)
    session.commit()
    with pytest.raises(TransitionError) as err:
        assign(session, master, now=NOW)
    assert err.value.code == "invalid_transition"


def test_unknown_staff_cannot_be_assigned(session, master, signing_key):
    with pytest.raises(NotFoundError):
        assign(session, master, code="TTTT-999", now=NOW)


def test_domain_is_normalised(session, master, signing_key):
    add_person(session)
    a = assign(session, master, now=NOW, agency_domain="@KhanhHoa.GOV.vn ")
    assert a.agency_domain == "khanhhoa.gov.vn"


# ---------------------------------------------------------------- verify and lifecycle


def test_valid_assignment_answers_who_where_what_until_when(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    for resp in (
        client.get(f"/v/{a.credential.token}", headers=JSON),
        client.post("/api/v1/verify", json={"token": f"{BASE_URL}/v/{a.credential.token}"}),
    ):
        assert resp.status_code == 200
        body = resp.json
        assert body["verdict"] == "valid"
        assert body["credential"]["kind"] == "assignment"
        assert body["credential"]["agency"] == AGENCY
        assert body["credential"]["agency_domain"] == DOMAIN
        assert body["credential"]["purpose"] == PURPOSE
        assert body["credential"]["expires_at"] == a.credential.expires_at.isoformat()
        assert body["staff"]["name"] == "Nguyễn Văn Đức"
        assert body["staff"]["code"] == "TTTT-001"


def test_verdict_page_shows_the_assignment_and_the_agency_form(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    html = client.get(f"/v/{a.credential.token}").get_data(as_text=True)
    assert 'data-verdict="valid"' in html
    assert 'data-kind="assignment"' in html
    assert AGENCY in html and PURPOSE in html and "Nguyễn Văn Đức" in html
    assert a.credential.expires_at.astimezone(VN_TZ).strftime("%d/%m/%Y") in html
    assert f'action="/v/{a.credential.token}"' in html and 'name="agency"' in html
    assert f'href="/v/{a.credential.token}/letter"' in html
    html = client.get(f"/v/{a.credential.token}?agency={quote('Sở Nội vụ tỉnh Phú Yên')}").get_data(as_text=True)
    assert 'data-verdict="wrong_agency"' in html
    assert "Sở Nội vụ tỉnh Phú Yên" in html  # what it was checked against
    assert AGENCY in html  # and whom the letter was really for
    assert 'style="' not in html and "<script" not in html


def _entry(session: Session, a: Any) -> int:
    session.expire_all()
    row = session.get(StatusList, a.credential.status_list_id)
    assert row is not None
    return get_entry(row.bits, a.credential.status_index)


def test_suspend_reinstate_revoke(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    token, aid = a.credential.token, a.credential_id
    assert _entry(session, a) == 0

    assignments.change_status(session, aid, CredentialStatus.SUSPENDED, actor="admin", now=app_now(), reason="kiểm tra")
    session.commit()
    assert _verdict(client, token) == "suspended"
    assert _entry(session, a) == 2

    assignments.change_status(session, aid, CredentialStatus.VALID, actor="admin", now=app_now())
    session.commit()
    assert _verdict(client, token) == "valid"
    assert _entry(session, a) == 0

    assignments.change_status(session, aid, CredentialStatus.REVOKED, actor="admin", now=app_now())
    session.commit()
    assert _verdict(client, token) == "revoked"
    assert _entry(session, a) == 1
    with pytest.raises(TransitionError):
        assignments.change_status(session, aid, CredentialStatus.VALID, actor="admin", now=app_now())
    session.rollback()
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == aid).order_by(AuditEntry.seq))
    assert list(actions) == ["assignment.issue", "assignment.suspend", "assignment.reinstate", "assignment.revoke"]


def test_status_change_of_a_staff_card_id_is_not_found(session, master, signing_key):
    add_person(session)
    card = issue(session, master)
    with pytest.raises(NotFoundError):
        assignments.change_status(session, card.id, CredentialStatus.REVOKED, actor="admin", now=NOW)


LAST_SECOND = end_of_vn_day(VN_TODAY + timedelta(days=14))  # 23:59:59 on the last day, Viet Nam time


@pytest.mark.parametrize(
    ("at", "verdict"),
    [
        (NOW - timedelta(seconds=1), "not_yet_valid"),
        (NOW, "valid"),
        (LAST_SECOND - timedelta(seconds=1), "valid"),
        (LAST_SECOND, "expired"),
        (NOW + timedelta(days=40), "expired"),
    ],
    ids=["before", "issued", "last-second-but-one", "last-second", "weeks-later"],
)
def test_window(session, master, signing_key, at, verdict):
    add_person(session)
    a = assign(session, master, now=NOW)
    result = verify_token(session, a.credential.token, issuer=BASE_URL, now=at)
    assert result.verdict.value == verdict


def _card(session: Session, card: Any, to: CredentialStatus, reason: str | None = None) -> None:
    credentials.change_status(session, card.id, to, actor="admin", now=app_now(), reason=reason)
    session.commit()


def test_assignment_stands_on_its_holders_card(client, session, master, signing_key):
    """Issue 7: not valid if the staff member's own credential is not valid. The
    status-list entry says so too, which is what the offline client reads."""
    add_person(session)
    card = issue(session, master, now=app_now())
    a = assign(session, master)
    assert (_verdict(client, a.credential.token), _entry(session, a)) == ("valid", 0)
    _card(session, card, CredentialStatus.SUSPENDED)
    assert (_verdict(client, a.credential.token), _entry(session, a)) == ("suspended", 2)
    assert _verdict(client, a.credential.token, agency="Sở Nội vụ tỉnh Phú Yên") == "suspended"
    _card(session, card, CredentialStatus.VALID)
    assert (_verdict(client, a.credential.token), _entry(session, a)) == ("valid", 0)
    # a card revoked (lost, say) leaves no valid card: the letter waits, suspended
    _card(session, card, CredentialStatus.REVOKED, reason="lost")
    assert (_verdict(client, a.credential.token), _entry(session, a)) == ("suspended", 2)
    # a new card: the letter stands again; the assignment itself was never changed
    issue(session, master, now=app_now())
    assert (_verdict(client, a.credential.token), _entry(session, a)) == ("valid", 0)
    assert a.credential.status is CredentialStatus.VALID


def test_a_new_card_superseding_the_old_keeps_the_assignment_valid(client, session, master, signing_key):
    add_person(session)
    issue(session, master, now=app_now())
    a = assign(session, master)
    issue(session, master, now=app_now())  # supersedes the first card in the same transaction
    assert (_verdict(client, a.credential.token), _entry(session, a)) == ("valid", 0)


def test_suspending_the_assignment_is_not_undone_by_the_card(client, session, master, signing_key):
    add_person(session)
    card = issue(session, master, now=app_now())
    a = assign(session, master)
    assignments.change_status(session, a.credential_id, CredentialStatus.SUSPENDED, actor="admin", now=app_now())
    session.commit()
    _card(session, card, CredentialStatus.SUSPENDED)
    _card(session, card, CredentialStatus.VALID)
    assert (_verdict(client, a.credential.token), _entry(session, a)) == ("suspended", 2)


@pytest.mark.parametrize(("to", "reason"), [(CredentialStatus.SUSPENDED, None), (CredentialStatus.REVOKED, "lost")])
def test_no_assignment_for_a_holder_without_a_valid_card(session, master, signing_key, to, reason):
    add_person(session)
    card = issue(session, master, now=app_now())
    _card(session, card, to, reason)
    with pytest.raises(TransitionError, match="no valid card"):
        assign(session, master)


def test_expired_over_http(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master, now=app_now() - timedelta(days=30), days=3)
    assert _verdict(client, a.credential.token) == "expired"


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(StaffStatus.SUSPENDED, "suspended"), (StaffStatus.DEPARTED, "revoked")],
)
def test_assignment_follows_its_staff_member(client, session, master, signing_key, status, verdict):
    add_person(session)
    a = assign(session, master)
    change_staff_status(session, "TTTT-001", status, actor="admin", now=app_now())
    session.commit()
    assert _verdict(client, a.credential.token) == verdict
    assert _verdict(client, a.credential.token, agency=AGENCY) == verdict  # the person's status wins
    assert _entry(session, a) == (2 if verdict == "suspended" else 1)
    if status is StaffStatus.SUSPENDED:
        change_staff_status(session, "TTTT-001", StaffStatus.ACTIVE, actor="admin", now=app_now())
        session.commit()
        assert _verdict(client, a.credential.token) == "valid"


@pytest.mark.parametrize(
    ("agency", "verdict"),
    [
        (AGENCY, "valid"),
        ("sở nội vụ tỉnh khánh hòa", "valid"),
        ("SỞ NỘI VỤ TỈNH KHÁNH HÒA", "valid"),
        ("So Noi vu tinh Khanh Hoa", "valid"),
        ("  so   noi vu  tinh khanh hoa ", "valid"),
        ("So Noi vu tinh Khanh Hoà", "valid"),  # the other placement of the tone mark
        ("So Noi vu tinh Khanh Hoa\u0300", "valid"),  # decomposed diacritics
        (DOMAIN, "valid"),
        ("KhanhHoa.gov.vn", "valid"),
        ("@khanhhoa.gov.vn", "valid"),
        ("btdkt@khanhhoa.gov.vn", "valid"),  # the officer's own address: its domain counts
        ("  VanThu.SNV@KhanhHoa.gov.vn ", "valid"),
        ("", "valid"),  # no agency given: nothing to compare
        ("Sở Nội vụ tỉnh Phú Yên", "wrong_agency"),
        ("Sở Nội vụ", "wrong_agency"),
        ("Sở Nội vụ tỉnh Khánh Hòa và Phú Yên", "wrong_agency"),
        ("phuyen.gov.vn", "wrong_agency"),
        ("sub.khanhhoa.gov.vn", "wrong_agency"),
        ("khanhhoa.gov.vn.evil.example", "wrong_agency"),
        ("gov.vn", "wrong_agency"),
        ("khanhhoa.gov", "wrong_agency"),
        ("btdkt@phuyen.gov.vn", "wrong_agency"),
        ("khanhhoa.gov.vn@gmail.com", "wrong_agency"),
        ("btdkt@@khanhhoa.gov.vn", "wrong_agency"),
    ],
)
def test_wrong_agency(client, session, master, signing_key, agency, verdict):
    add_person(session)
    a = assign(session, master)
    assert _verdict(client, a.credential.token, agency=agency) == verdict
    resp = client.post("/api/v1/verify", json={"token": a.credential.token, "agency": agency})
    assert resp.json["verdict"] == verdict
    resp = client.get("/api/v1/verify", query_string={"token": a.credential.token, "agency": agency})
    assert resp.json["verdict"] == verdict


def test_domain_check_against_an_assignment_without_domain_is_wrong_agency(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master, agency_domain=None)
    assert _verdict(client, a.credential.token, agency=DOMAIN) == "wrong_agency"
    assert _verdict(client, a.credential.token, agency=AGENCY) == "valid"


def test_agency_is_ignored_for_a_staff_card(client, session, master, signing_key):
    add_person(session)
    card = issue(session, master, now=app_now())
    assert _verdict(client, card.token, agency="Sở Nội vụ tỉnh Phú Yên") == "valid"


def test_wrong_agency_never_hides_a_worse_verdict(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    assignments.change_status(session, a.credential_id, CredentialStatus.REVOKED, actor="admin", now=app_now())
    session.commit()
    assert _verdict(client, a.credential.token, agency="Sở Nội vụ tỉnh Phú Yên") == "revoked"


# ---------------------------------------------------------------- independent JOSE library, typ swap


def test_pyjwt_verifies_an_assignment_with_the_served_jwks(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    token = a.credential.token
    jwks = client.get("/.well-known/jwks.json").json
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "assignment+jwt"
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA"],
        issuer=BASE_URL,
        options={"require": ["iss", "sub", "jti", "iat", "nbf", "exp"]},
        leeway=pyjwt_leeway(),
    )
    assert claims["agency"] == AGENCY
    assert claims["purpose"] == PURPOSE
    assert claims["sub"] == "TTTT-001"
    # and PyJWT refuses the same token with one byte of the payload changed
    head, _payload, sig = token.split(".")
    forged_claims = {**claims, "agency": "Sở Nội vụ tỉnh Phú Yên"}
    forged = f"{head}.{jose.b64url_encode(jose.compact_json(forged_claims))}.{sig}"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key.key, algorithms=["EdDSA"], issuer=BASE_URL)
    assert _verdict(client, forged) == "bad_signature"


def test_swap_staff_card_is_not_an_assignment_and_back(client, session, master, signing_key):
    add_person(session)
    card = issue(session, master, now=app_now())
    a = assign(session, master)
    now = app_now()
    # as what they are: both valid
    assert verify_assignment(session, a.credential.token, issuer=BASE_URL, now=now).verdict.value == "valid"
    staff_only = frozenset({STAFF_TYP})
    assert verify_token(session, card.token, issuer=BASE_URL, now=now, typs=staff_only).verdict.value == "valid"
    # swapped: neither is accepted as the other
    assert verify_assignment(session, card.token, issuer=BASE_URL, now=now).verdict.value == "malformed"
    assert verify_token(session, a.credential.token, issuer=BASE_URL, now=now, typs=staff_only).verdict.value == (
        "malformed"
    )
    assert client.get(f"/v/{card.token}/letter").status_code == 404


def test_swap_with_typ_rewritten_breaks_the_signature(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    _, payload, sig = a.credential.token.split(".")
    header = {"alg": "EdDSA", "typ": STAFF_TYP, "kid": signing_key.kid}
    relabelled = f"{jose.b64url_encode(jose.compact_json(header))}.{payload}.{sig}"
    assert _verdict(client, relabelled) == "bad_signature"


@pytest.mark.parametrize("swap_to", [STAFF_TYP, ASSIGNMENT_TYP])
def test_swap_resigned_under_the_other_typ_is_refused(client, session, master, signing_key, swap_to):
    """Even a token our own key signed under the other typ (an issuing bug) is refused:
    the registry row's kind must match the typ."""
    from keys.service import sign_with_active

    add_person(session)
    card = issue(session, master, now=app_now())
    a = assign(session, master)
    source = a.credential.token if swap_to == STAFF_TYP else card.token
    claims = jose.parse_token(source, typs=frozenset({STAFF_TYP, ASSIGNMENT_TYP})).claims
    swapped, _key = sign_with_active(session, master, typ=swap_to, claims=claims)
    session.rollback()
    assert _verdict(client, swapped) == "revoked"


# ---------------------------------------------------------------- command line


def _json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    payload: dict[str, Any] = json.loads(lines[0])
    return payload


def test_cli_issue_list_suspend_reinstate_revoke(client, runner, session, master, signing_key, tmp_path):
    add_person(session)
    issued = _json(
        runner.invoke(
            args=[
                "assignment",
                "issue",
                "tttt-001",
                "--agency",
                AGENCY,
                "--agency-domain",
                DOMAIN,
                "--purpose",
                PURPOSE,
                "--days",
                "10",
                "--channel",
                "phone:0912 345 678",
                "--json",
            ]
        )
    )
    assert {"id", "token", "url", "letter_url"} <= set(issued)
    assert issued["url"] == f"{BASE_URL}/v/{issued['token']}"
    assert issued["letter_url"] == f"{issued['url']}/letter"
    assert issued["letter_number"] == "01/GGT-TTTT"
    assert _verdict(client, issued["token"]) == "valid"

    listed = _json(runner.invoke(args=["assignment", "list", "--json"]))
    assert [x["id"] for x in listed["assignments"]] == [issued["id"]]
    assert listed["assignments"][0]["channels"] == [{"kind": "phone", "value": "+84912345678"}]
    assert listed["assignments"][0]["agency"] == AGENCY

    for verb, status, verdict in [
        ("suspend", "suspended", "suspended"),
        ("reinstate", "valid", "valid"),
        ("revoke", "revoked", "revoked"),
    ]:
        out = _json(runner.invoke(args=["assignment", verb, issued["id"], "--reason", "thử", "--json"]))
        assert out["status"] == status
        assert _verdict(client, issued["token"]) == verdict

    again = runner.invoke(args=["assignment", "reinstate", issued["id"], "--json"])
    assert again.exit_code == 1
    assert again.stdout == ""
    assert "invalid_transition" in again.stderr


def test_cli_letter_writes_the_pdf(runner, session, master, signing_key, tmp_path):
    add_person(session)
    a = assign(session, master)
    target = tmp_path / "letter.pdf"
    out = _json(runner.invoke(args=["assignment", "letter", a.credential_id, "--pdf", str(target), "--json"]))
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and out["bytes"] == len(data)
    assert out["letter_number"] == "01/GGT-TTTT"


def test_cli_letter_of_a_revoked_assignment_is_refused(runner, session, master, signing_key, tmp_path):
    add_person(session)
    a = assign(session, master)
    assignments.change_status(session, a.credential_id, CredentialStatus.REVOKED, actor="admin", now=app_now())
    session.commit()
    target = tmp_path / "letter.pdf"
    result = runner.invoke(args=["assignment", "letter", a.credential_id, "--pdf", str(target)])
    assert result.exit_code == 1
    assert "revoked" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["TTTT-404", "--agency", AGENCY, "--purpose", PURPOSE], "not_found"),
        (["TTTT-001", "--agency", AGENCY, "--purpose", PURPOSE, "--agency-domain", "not a domain"], "invalid_input"),
        (["TTTT-001", "--agency", "", "--purpose", PURPOSE], "invalid_input"),
        (["TTTT-001", "--agency", AGENCY, "--purpose", PURPOSE, "--channel", "fax:123"], "invalid_input"),
    ],
)
def test_cli_issue_errors(runner, session, master, signing_key, args, code):
    add_person(session)
    result = runner.invoke(args=["assignment", "issue", *args, "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"({code})" in result.stderr
    assert assignments.list_assignments(session) == []


def test_cli_days_are_bounded(runner, session, master, signing_key):
    add_person(session)
    result = runner.invoke(
        args=["assignment", "issue", "TTTT-001", "--agency", AGENCY, "--purpose", "x", "--days", "61"]
    )
    assert result.exit_code == 2


def test_cli_unknown_assignment(runner, session, master, signing_key):
    result = runner.invoke(args=["assignment", "suspend", "nope", "--json"])
    assert result.exit_code == 1
    assert "(not_found)" in result.stderr


# ---------------------------------------------------------------- demo


def test_demo_assignment_is_realistic_and_idempotent(client, session, master, signing_key):
    from registry.demo.assignments import load_demo_assignments
    from registry.demo.service import load_demo

    now = app_now()
    load_demo(session, master, base_url=BASE_URL, now=now, actor="demo")
    first = load_demo_assignments(session, master, base_url=BASE_URL, now=now, actor="demo")
    session.commit()
    again = load_demo_assignments(session, master, base_url=BASE_URL, now=now, actor="demo")
    session.commit()
    assert first == again
    token = first["assignment_url"].rsplit("/", 1)[1]
    body = client.get(f"/v/{token}?agency=khanhhoa.gov.vn", headers=JSON).json
    assert body["verdict"] == "valid"
    assert body["staff"]["code"] == "TTTT-002"
    assert body["credential"]["agency"] == "Sở Nội vụ tỉnh Khánh Hòa"
    assert "Đặc san Thi đua Khen thưởng" in body["credential"]["purpose"]
    assert client.get(first["letter_url"].removeprefix(BASE_URL)).status_code == 200


# ---------------------------------------------------------------- expect= in the verify API


@pytest.mark.parametrize(
    ("shown", "expect", "verdict"),
    [
        ("assignment", "assignment", "valid"),
        ("assignment", "credential", "malformed"),
        ("card", "credential", "valid"),
        ("card", "assignment", "malformed"),
        ("card", "", "valid"),
        ("assignment", "", "valid"),
    ],
)
def test_expect_keeps_a_card_from_standing_in_for_a_letter(
    client, session, master, signing_key, shown, expect, verdict
):
    add_person(session)
    card = issue(session, master, now=app_now())
    a = assign(session, master)
    token = a.credential.token if shown == "assignment" else card.token
    assert client.get("/api/v1/verify", query_string={"token": token, "expect": expect}).json["verdict"] == verdict
    assert client.post("/api/v1/verify", json={"token": token, "expect": expect}).json["verdict"] == verdict
    resp = client.get(f"/v/{token}", query_string={"expect": expect}, headers=JSON)
    assert resp.json["verdict"] == verdict


@pytest.mark.parametrize("expect", ["staff", "ASSIGNMENT-ish", "x" * 300])
def test_expect_must_be_a_known_kind(client, session, master, signing_key, expect):
    add_person(session)
    a = assign(session, master)
    resp = client.get("/api/v1/verify", query_string={"token": a.credential.token, "expect": expect})
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "invalid_input" and resp.json["error"]["field"] == "expect"
    resp = client.post("/api/v1/verify", json={"token": a.credential.token, "expect": 7})
    assert resp.status_code == 400
