"""Issue 13, acceptance 1 in Debian's chromium: the console's cookie copied into
another browser before sign-out opens the console there, and nothing once the admin
has signed out; "sign out everywhere else" ends another browser's session. CSRF
protection is on, as in production."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from conftest import NOW
from helpers_admin import PASSWORD, cheap_argon2, make_admin  # noqa: F401 - fixture
from helpers_browser import NEEDS_CHROMIUM
from helpers_server import serve

from registry.accounts.auth import COOKIE_DEV

TIMEOUT_MS = 15_000

pytestmark = [
    *NEEDS_CHROMIUM,
    pytest.mark.usefixtures("cheap_argon2"),
    pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True),
]


def sign_in(page: Any, url: str, secret: str, steps: int = 0) -> None:
    page.goto(f"{url}/admin/login")
    page.fill("#username", "admin-user")
    page.fill("#password", PASSWORD)
    page.fill("#code", pyotp.TOTP(secret).at(int(NOW.timestamp()) + 30 * steps))
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/")


def test_a_copied_cookie_stops_working_after_sign_out(app, session, master, browser):
    _user, secret = make_admin(session, master)
    with serve(app) as url:
        mine = browser.new_context()
        mine.set_default_timeout(TIMEOUT_MS)
        page = mine.new_page()
        sign_in(page, url, secret)
        cookies = [c for c in mine.cookies() if c["name"] == COOKIE_DEV]
        assert len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Lax"

        thief = browser.new_context()
        thief.set_default_timeout(TIMEOUT_MS)
        thief.add_cookies(cookies)
        stolen = thief.new_page()
        stolen.goto(f"{url}/admin/account")
        assert stolen.url == f"{url}/admin/account"
        assert stolen.locator("tr[data-session]").count() == 1

        page.click("nav .admin-me button[type=submit]")  # Sign out
        page.wait_for_url(f"{url}/admin/login")

        stolen.goto(f"{url}/admin/account")
        assert stolen.url.startswith(f"{url}/admin/login")
        assert stolen.locator("#username").count() == 1
        mine.close()
        thief.close()


def test_sign_out_everywhere_else_from_the_sessions_page(app, session, master, browser):
    _user, secret = make_admin(session, master)
    with serve(app) as url:
        laptop, phone = browser.new_context(), browser.new_context()
        for context in (laptop, phone):
            context.set_default_timeout(TIMEOUT_MS)
        here, there = laptop.new_page(), phone.new_page()
        sign_in(here, url, secret)
        sign_in(there, url, secret, steps=1)
        here.goto(f"{url}/admin/account")
        assert here.locator("tr[data-session]").count() == 2
        assert here.locator("tr[data-this-session]").count() == 1
        here.click("form[action$='/account/sign-out-others'] button")
        here.wait_for_url(f"{url}/admin/account")
        assert here.locator("tr[data-session]").count() == 1
        there.goto(f"{url}/admin/staff")
        assert there.url.startswith(f"{url}/admin/login")
        laptop.close()
        phone.close()
