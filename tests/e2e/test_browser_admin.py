"""Acceptance 2 in Debian's chromium: an admin signs in with password and a live TOTP
code, issues a credential, revokes it, and the public page answers `revoked`; a
form posted without its CSRF token is refused. CSRF protection is on, as in
production, so the happy path also proves the forms carry their tokens."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from conftest import NOW, TEST_OUTPUT, add_person
from helpers_admin import PASSWORD, cheap_argon2, make_admin  # noqa: F401 - fixture
from helpers_browser import NEEDS_CHROMIUM
from helpers_server import serve
from sqlalchemy import select

from registry.accounts.models import AdminRole
from registry.audit.models import AuditEntry
from registry.credentials.models import Credential, CredentialStatus

TIMEOUT_MS = 15_000  # per action; the machine is shared

pytestmark = [
    *NEEDS_CHROMIUM,
    pytest.mark.usefixtures("cheap_argon2", "signing_key"),
    pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True),
]


def fresh_code(secret: str) -> str:
    """The code of the moment the app's clock stands at (NOW): the server accepts it
    however long the form takes to arrive."""
    return str(pyotp.TOTP(secret).at(NOW))


def sign_in(page: Any, url: str, username: str, secret: str) -> None:
    page.goto(f"{url}/admin/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#code", fresh_code(secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/")


def test_sign_in_issue_revoke_and_public_page_says_revoked(app, session, master, browser):
    add_person(session)
    _user, secret = make_admin(session, master, AdminRole.ISSUER, "issuer-ann")
    TEST_OUTPUT.mkdir(exist_ok=True)
    with serve(app) as url:
        context = browser.new_context(viewport={"width": 360, "height": 780})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, url, "issuer-ann", secret)
        assert page.locator(".tile").count() >= 4
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(TEST_OUTPUT / "admin-dashboard-360.png"), full_page=True)

        page.goto(f"{url}/admin/staff?q=nguyen van duc")
        page.click("a[href='/admin/staff/TTTT-001']")
        page.fill("#days", "90")
        page.check("form[action$='/credentials'] input[name=confirm]")
        page.click("button[data-action=issue]")
        page.wait_for_url(re.compile(r".*/admin/credentials/[A-Za-z0-9_-]+$"))
        credential_id = page.url.rsplit("/", 1)[1]
        token = session.scalars(select(Credential.token).where(Credential.id == credential_id)).one()

        public = context.new_page()
        public.goto(f"{url}/v/{token}")
        assert public.locator("[data-verdict]").get_attribute("data-verdict") == "valid"

        revoke_form = page.locator("form:has(button[data-action=revoked])")
        revoke_form.locator("input[name=reason]").fill("Cán bộ nghỉ việc")
        revoke_form.locator("input[name=confirm]").check()
        revoke_form.locator("button[data-action=revoked]").click()
        page.wait_for_load_state()
        assert page.locator("[data-status=revoked]").count() == 1
        page.screenshot(path=str(TEST_OUTPUT / "admin-credential-revoked-360.png"), full_page=True)

        public.goto(f"{url}/v/{token}")
        assert public.locator("[data-verdict]").get_attribute("data-verdict") == "revoked"
        assert not [e for e in errors if "Content Security Policy" in e], errors
        context.close()
    session.expire_all()
    actions = [(e.actor, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert ("issuer-ann", "auth.login") in actions
    assert ("issuer-ann", "credential.issue") in actions
    assert ("issuer-ann", "credential.revoke") in actions


def test_form_without_csrf_token_is_refused(app, session, master, browser, signing_key):
    from conftest import issue

    add_person(session)
    cred = issue(session, master)
    _user, secret = make_admin(session, master, AdminRole.ISSUER, "issuer-ann")
    with serve(app) as url:
        context = browser.new_context(bypass_csp=True)  # lets the test edit the form in the page
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        sign_in(page, url, "issuer-ann", secret)
        page.goto(f"{url}/admin/credentials/{cred.id}")
        revoke_form = page.locator("form:has(button[data-action=revoked])")
        revoke_form.locator("input[name=csrf_token]").evaluate("el => el.remove()")
        revoke_form.locator("input[name=reason]").fill("forged")
        revoke_form.locator("input[name=confirm]").check()
        revoke_form.locator("button[data-action=revoked]").click()
        page.wait_for_load_state()
        assert page.locator("[data-error]").get_attribute("data-error") == "bad_request"
        context.close()
    session.expire_all()
    assert session.get(Credential, cred.id).status is CredentialStatus.VALID


def test_every_console_page_fits_a_phone(app, session, master, browser):
    """Every /admin page, as an admin, at 360 px: no sideways scrolling of the page
    (wide tables scroll inside their own box), and no CSP violation in the console."""
    from helpers_admin import sample_data

    from registry.accounts import service as accounts

    sample = sample_data(app, session, master)
    secret = accounts.totp_secret(master, sample.admin)
    values = {
        "code": sample.staff_code,
        "credential_id": sample.credential_id,
        "assignment_id": sample.assignment_id,
        "reference": sample.report_ref,
    }
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods:
            continue
        if rule.endpoint in (
            "admin.staff_photo",
            "admin_reports.report_file",
            "admin_reports.report_file_view",
            "admin.setup",
            "admin.login",
        ):
            continue  # images and pages for the signed-out
        url = str(rule.rule)
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", values[arg])
        pages.append(url)
    with serve(app) as base:
        context = browser.new_context(viewport={"width": 360, "height": 780})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None,
        )
        page.on(
            "response",
            lambda r: problems.append(f"{r.url}: {r.status}") if r.status >= 400 and "favicon" not in r.url else None,
        )
        sign_in(page, base, sample.admin.username, secret)
        for url in sorted(pages):
            response = page.goto(base + url)
            assert response is not None and response.status == 200, url
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 360:
                problems.append(f"{url}: {width} px wide")
        context.close()
    assert len(pages) >= 15
    assert not problems, "\n".join(problems)
