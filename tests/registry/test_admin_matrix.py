"""Acceptance 1: every /admin route × every role (and no session) is allowed or
refused exactly as the roles say. The routes come from ``app.url_map``, so a new
admin route without a line in ROLE_TABLE fails this test instead of being forgotten."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from helpers_admin import client_as, sample_data, url_of

from registry.accounts.models import AdminRole

ADMIN, ISSUER, REVIEWER = AdminRole.ADMIN, AdminRole.ISSUER, AdminRole.REVIEWER
ALL = frozenset({ADMIN, ISSUER, REVIEWER})
ISSUERS = frozenset({ADMIN, ISSUER})
ADMINS = frozenset({ADMIN})
REVIEWERS = frozenset({ADMIN, REVIEWER})

# The issue's role table: admin everything (keys and accounts included); issuer staff
# and credentials; reviewer reports and the registry read-only.
ROLE_TABLE: dict[str, frozenset[AdminRole]] = {
    "admin_reports.dashboard": ALL,
    "admin.my_account": ALL,
    "admin.sign_out_everywhere": ALL,
    "admin.sign_out_others": ALL,
    "admin.end_session": ALL,
    "admin.staff_list": ALL,
    "admin.staff_detail": ALL,
    "admin.staff_photo": ALL,
    "admin.staff_new": ISSUERS,
    "admin.staff_edit": ISSUERS,
    "admin.staff_photo_upload": ISSUERS,
    "admin.staff_status": ISSUERS,
    "admin.staff_alerts": ISSUERS,
    "admin.credential_detail": ALL,
    "admin.credential_issue": ISSUERS,
    "admin.credential_status": ISSUERS,
    "admin.credential_card": ISSUERS,
    "admin.livecode": ISSUERS,
    "admin.livecode_enrol": ISSUERS,
    "admin.assignments_list": ALL,
    "admin.assignment_detail": ALL,
    "admin.assignment_issue": ISSUERS,
    "admin.assignment_status": ISSUERS,
    "admin.channels_list": ALL,
    "admin.channels_add": ADMINS,
    "admin.channels_remove": ADMINS,
    "admin.keys": ADMINS,
    "admin.keys_rotate": ADMINS,
    "admin.keys_revoke": ADMINS,
    "admin.audit_log": ADMINS,
    "admin.accounts_list": ADMINS,
    "admin.accounts_create": ADMINS,
    "admin.account_status": ADMINS,
    "admin.account_reset": ADMINS,
    "admin_reports.report_queue": REVIEWERS,
    "admin_reports.report_detail": REVIEWERS,
    "admin_reports.report_triage": REVIEWERS,
    "admin_reports.report_file": REVIEWERS,
    "admin_warnings.publish_form": REVIEWERS,
    "admin_warnings.publish": REVIEWERS,
    "admin_warnings.warning_admin_list": REVIEWERS,
    "admin_warnings.withdraw": REVIEWERS,
    "admin_reports.report_file_view": REVIEWERS,
}
# Reachable without a session: what a signed-out admin needs to sign in.
# method -> (status without a session, status when signed in)
PUBLIC: dict[str, dict[str, tuple[int, int]]] = {
    "admin.login": {"GET": (200, 302), "POST": (401, 401)},  # signed in: straight to the dashboard
    "admin.logout": {"POST": (302, 302)},
    "admin.setup": {"GET": (404, 404), "POST": (404, 404)},  # an unknown setup token
}


def admin_rules(app: Flask) -> list[Any]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.rule == "/admin" or r.rule.startswith("/admin/")),
        key=lambda r: r.rule,
    )


def test_every_admin_route_is_in_the_role_table(app):
    endpoints = {r.endpoint for r in admin_rules(app)}
    assert endpoints, "no admin routes registered"
    missing = endpoints - set(ROLE_TABLE) - set(PUBLIC)
    assert not missing, f"admin routes without an expected role list: {sorted(missing)}"
    stale = (set(ROLE_TABLE) | set(PUBLIC)) - endpoints
    assert not stale, f"role table names routes that do not exist: {sorted(stale)}"


def publish_a_warning(app: Any, session: Any, sample: Any) -> None:
    """The sample's report confirmed (publishing it without a text is then a 400), and
    warning 1 made of another confirmed report (withdrawing it unconfirmed is a 400)."""
    from helpers_admin import make_report

    from verify.reports.models import ReportStatus
    from verify.reports.triage import triage
    from verify.warnings.service import publish

    other = make_report(app, session).reference
    at = sample.admin.created_at
    for ref in (sample.report_ref, other):
        triage(session, ref, ReportStatus.REVIEWING, note=None, actor="test", now=at)
        triage(session, ref, ReportStatus.CONFIRMED, note="Đã xác minh", actor="test", now=at)
    publish(session, other, text="Cảnh báo", actor="test", now=at)
    session.commit()


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
def test_route_role_matrix(app, session, master):
    sample = sample_data(app, session, master)
    publish_a_warning(app, session, sample)
    failures: list[str] = []
    checked = 0
    for rule in admin_rules(app):
        url = url_of(rule, sample.route_values(token="not-a-setup-token"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in (None, *AdminRole):
                session.expire_all()
                client = client_as(app, session, master, role)
                resp = client.open(url, method=method)
                checked += 1
                who = role.value if role else "no session"
                if rule.endpoint in PUBLIC:
                    expected = PUBLIC[rule.endpoint][method][0 if role is None else 1]
                    if resp.status_code != expected:
                        failures.append(f"{method} {url} as {who}: {resp.status_code}, expected {expected}")
                    continue
                allowed = ROLE_TABLE[rule.endpoint]
                if role is None:
                    ok = resp.status_code == 302 and resp.location.startswith("/admin/login")
                    if not ok:
                        failures.append(f"{method} {url} without session: {resp.status_code} {resp.location}")
                elif role in allowed:
                    if method == "GET" and resp.status_code != 200:
                        failures.append(f"GET {url} as {who}: {resp.status_code}, expected 200")
                    fine = (200, 302, 400, 404) if rule.endpoint == "admin.end_session" else (200, 302, 400)
                    if method == "POST" and resp.status_code not in fine:
                        failures.append(f"POST {url} as {who}: {resp.status_code}, expected 200/302/400")
                elif resp.status_code != 403:
                    failures.append(f"{method} {url} as {who}: {resp.status_code}, expected 403")
    print(f"route x role matrix: {checked} requests")
    assert not failures, "\n".join(failures)
    assert checked > 100


@pytest.mark.parametrize("role", list(AdminRole))
def test_forbidden_json_answer(app, session, master, role):
    """A refused role gets the error family's JSON when it asks for JSON."""
    client = client_as(app, session, master, role)
    resp = client.get("/admin/keys", headers={"Accept": "application/json"})
    if role is ADMIN:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 403
        assert resp.json["error"]["code"] == "forbidden"


def test_no_session_json_answer(client):
    resp = client.get("/admin/staff", headers={"Accept": "application/json"})
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "sign_in_required"
