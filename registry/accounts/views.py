"""The console's doors and accounts: sign-in, sign-out and the one-time setup link;
one's own account ("sign out everywhere"); the admins' list of accounts, where an
account is created (with its setup link), enabled, disabled or reset."""

from __future__ import annotations

import threading
from typing import cast

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from registry import qr
from registry.accounts import service as accounts
from registry.accounts import signin
from registry.accounts.auth import (
    ADMINS,
    ALL_ROLES,
    actor_name,
    current_admin,
    current_session,
    require_role,
    safe_next,
    sign_in,
    sign_out,
    signed_in,
    timeouts,
)
from registry.accounts.models import AccountStatus, AdminRole, AdminUser
from registry.audit import service as audit
from registry.console.views import home
from registry.errors import AuthenticationError, SignInThrottledError, ValidationError
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.config import base_url, master_key
from registry.platform.console import admin as bp
from registry.platform.console import done
from registry.platform.db import db
from registry.platform.i18n import STATUS_WORDS, translated
from registry.platform.web import limiter
from registry.sessions import service as server_sessions

HASH_SLOTS = "chinhdanh.signin_hash_slots"
LOGIN_RATE = "20 per minute"  # per IP, on top of the per-account lockout
MAX_USERNAME_INPUT = 200
MAX_CODE_INPUT = 32


def qr_markup(svg: str) -> Markup:
    return Markup(svg)  # noqa: S704 - segno's own SVG of a URI we built


@bp.record_once
def _make_hash_slots(state: BlueprintSetupState) -> None:
    """This process's cap on concurrent password hashes (``SIGNIN_HASH_CONCURRENCY``),
    made once with the app."""
    state.app.extensions[HASH_SLOTS] = signin.hash_slots(state.app.config["SIGNIN_HASH_CONCURRENCY"])


def _hash_slots() -> threading.BoundedSemaphore:
    return cast(threading.BoundedSemaphore, current_app.extensions[HASH_SLOTS])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_RATE, methods=["POST"])
def login() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]] | str:
    nxt = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_admin() is not None:
            return redirect(nxt or home())
        return render_template("admin/login.html", next=nxt, error=None, username="")
    username = forms.field("username", MAX_USERNAME_INPUT)
    session = db()
    try:
        user = signin.authenticate(
            session,
            master_key(),
            username,
            forms.field("password", accounts.MAX_PASSWORD),
            forms.field("code", MAX_CODE_INPUT),
            now=now(),
            client=request.remote_addr or "",
            slots=_hash_slots(),
        )
    except AuthenticationError as exc:
        session.commit()  # the failure count and its audit entry are what makes throttling work
        error = translated(exc) if isinstance(exc, SignInThrottledError) else True
        body = render_template("admin/login.html", next=nxt, error=error, username=username[:64])
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        return body, exc.status, headers
    session.commit()
    sign_in(user)
    return redirect(nxt or home())


@bp.post("/logout")
def logout() -> Response:
    user = current_admin()
    if user is not None:
        audit.append(db(), actor=user.username, action="auth.logout", target=user.username, now=now())
        db().commit()
    sign_out()
    flash(_("You are signed out."))
    return redirect(url_for("admin.login"))


@bp.route("/setup/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_RATE, methods=["POST"])
def setup(token: str) -> Response | tuple[str, int] | str:
    """The one-time setup link. Its first visit makes and shows the authenticator
    secret (QR code and text); later visits do not show it again."""
    session = db()
    user = accounts.setup_account_for(session, token, now=now())
    secret = None
    error = None
    if request.method == "GET":
        secret = accounts.reveal_setup_secret(session, master_key(), token, now=now())
        session.commit()
    else:
        password = forms.field("password", accounts.MAX_PASSWORD)
        if password != forms.field("password2", accounts.MAX_PASSWORD):
            error = _("The two passwords differ.")
        else:
            try:
                accounts.complete_setup(
                    session, master_key(), token, password=password, code=forms.field("code", MAX_CODE_INPUT), now=now()
                )
            except ValidationError as exc:
                error = _setup_error(exc)
            else:
                session.commit()
                sign_out()
                flash(_("Your account is ready. Sign in with your password and a code from the app."))
                return redirect(url_for("admin.login"))
    body = render_template(
        "admin/setup.html",
        user=user,
        qr_svg=qr_markup(qr.svg(accounts.otpauth_uri_for(user.username, secret))) if secret else None,
        secret=secret,
        error=error,
        min_password=accounts.MIN_PASSWORD,
    )
    return (body, 400) if error else body


def _setup_error(exc: ValidationError) -> str:
    if exc.field == "code":
        return str(_("The code from the authenticator app is not right; try the next one."))
    return str(
        _(
            "The password must have between %(min)d and %(max)d characters.",
            min=accounts.MIN_PASSWORD,
            max=accounts.MAX_PASSWORD,
        )
    )


@bp.get("/account")
@require_role(*ALL_ROLES)
def my_account() -> str:
    return render_template(
        "admin/account.html",
        open_sessions=server_sessions.open_sessions(db(), signed_in(), now=now(), timeouts=timeouts()),
        this_session=current_session(),
    )


@bp.post("/account/sessions/<int:session_id>/end")
@require_role(*ALL_ROLES)
def end_session(session_id: int) -> Response:
    """Sign out one of one's own sessions (another device, or this one)."""
    user = signed_in()
    row = server_sessions.get_own(db(), user, session_id)
    if row is None:
        abort(404)
    this = current_session()
    if this is not None and row.id == this.id:
        return logout()
    server_sessions.end(db(), row, now())
    details = {"session": row.id, "address": row.address}
    audit.append(db(), actor=user.username, action="auth.session_end", target=user.username, details=details, now=now())
    return done(_("That session has ended."), "admin.my_account")


@bp.post("/account/sign-out-others")
@require_role(*ALL_ROLES)
def sign_out_others() -> Response:
    """End every other session of one's account; this one stays."""
    user = signed_in()
    this = current_session()
    ended = server_sessions.end_others(db(), user, this.id if this is not None else None, now())
    details = {"ended": ended}
    audit.append(
        db(), actor=user.username, action="auth.sign_out_others", target=user.username, details=details, now=now()
    )
    return done(_("Every other session of your account has ended."), "admin.my_account")


@bp.post("/account/sign-out-everywhere")
@require_role(*ALL_ROLES)
def sign_out_everywhere() -> Response:
    user = signed_in()
    accounts.sign_out_everywhere(db(), user, actor=user.username, now=now())
    db().commit()
    sign_out()
    flash(_("Every session of your account has ended, on every device."))
    return redirect(url_for("admin.login"))


def _accounts_page(link: tuple[AdminUser, str] | None = None) -> str:
    """The account list, with a freshly made setup link to hand over when there is one."""
    return render_template(
        "admin/accounts.html",
        users=accounts.list_accounts(db()),
        roles=list(AdminRole),
        link=link,
        statuses=AccountStatus,
    )


def _setup_url(token: str) -> str:
    return base_url() + url_for("admin.setup", token=token)


@bp.get("/accounts")
@require_role(*ADMINS)
def accounts_list() -> str:
    return _accounts_page()


@bp.post("/accounts")
@require_role(*ADMINS)
def accounts_create() -> str:
    role = accounts.parse_role(forms.field("role", forms.MAX_WORD))
    user = accounts.create_account(
        db(),
        master_key(),
        username=forms.field("username", accounts.MAX_USERNAME),
        role=role,
        password=None,
        actor=actor_name(),
        now=now(),
    )
    token = accounts.create_setup_link(db(), user, actor=actor_name(), now=now())
    db().commit()
    return _accounts_page((user, _setup_url(token)))


@bp.post("/accounts/<username>/status")
@require_role(*ADMINS)
def account_status(username: str) -> Response:
    user = accounts.get_account(db(), username)
    to = forms.state_to(AccountStatus)
    accounts.change_status_of_other(db(), user, to, by=signed_in(), now=now())
    return done(
        _("Account %(name)s is now %(status)s.", name=user.username, status=STATUS_WORDS[user.status.value]),
        "admin.accounts_list",
    )


@bp.post("/accounts/<username>/reset")
@require_role(*ADMINS)
def account_reset(username: str) -> str:
    user = accounts.get_account(db(), username)
    forms.confirmed()
    token = accounts.reset_other(db(), master_key(), user, by=signed_in(), now=now())
    db().commit()
    return _accounts_page((user, _setup_url(token)))
