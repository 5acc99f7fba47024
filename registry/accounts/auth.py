"""The Flask side of admin sign-in: the console's session cookie, the idle and
absolute timeouts, and ``require_role``, which guards every admin view on the server.

The session lives on the server (``registry.sessions``): the cookie carries only a
random id (``__Host-`` name, Secure, HttpOnly, SameSite=Lax in production), whose hash
names a row. The row and the account are read again on every request, so signing out,
a reset, suspension or "sign out everywhere" end a session at once, on every
instance, and a cookie copied before any of them opens nothing afterwards. Flask's
signed cookie carries only the CSRF token and flashed messages: whoever knows
``SECRET_KEY`` can mint one, and it opens nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from registry.accounts.models import AdminRole, AdminUser
from registry.errors import ForbiddenError, SignInRequiredError
from registry.platform.clock import now
from registry.platform.console import admin as bp
from registry.platform.db import db, sessions
from registry.platform.web import wants_json
from registry.sessions import service as server_sessions
from registry.sessions.models import AdminSession

IDLE_TIMEOUT = timedelta(minutes=30)  # an unattended console signs itself out
ABSOLUTE_TIMEOUT = timedelta(hours=12)  # one working day, then sign in again
COOKIE_DEV = "chinhdanh_admin"
COOKIE_PRODUCTION = "__Host-chinhdanh_admin"  # Secure, Path=/, no Domain: only this host sets it
MAX_NEXT = 2000
_SET = "_admin_cookie_set"
_CLEAR = "_admin_cookie_clear"
ALL_ROLES = tuple(AdminRole)
ISSUERS = (AdminRole.ADMIN, AdminRole.ISSUER)
REVIEWERS = (AdminRole.ADMIN, AdminRole.REVIEWER)
ADMINS = (AdminRole.ADMIN,)

F = TypeVar("F", bound=Callable[..., Any])


def timeouts() -> server_sessions.Timeouts:
    """The configured idle (``ADMIN_IDLE_TIMEOUT_S``) and absolute
    (``ADMIN_ABSOLUTE_TIMEOUT_S``) timeouts."""
    idle = current_app.config.get("ADMIN_IDLE_TIMEOUT_S")
    absolute = current_app.config.get("ADMIN_ABSOLUTE_TIMEOUT_S")
    return server_sessions.Timeouts(
        idle=timedelta(seconds=int(idle)) if idle else IDLE_TIMEOUT,
        absolute=timedelta(seconds=int(absolute)) if absolute else ABSOLUTE_TIMEOUT,
    )


def cookie_name() -> str:
    return COOKIE_PRODUCTION if current_app.config.get("SESSION_COOKIE_SECURE") else COOKIE_DEV


def sign_in(user: AdminUser) -> None:
    """Start a server session for ``user`` (committed) and send its id as the cookie.
    Flask's cookie is emptied first, so its CSRF token is a new one, and a session
    this browser still had is ended."""
    previous = current_session()
    if previous is not None:
        server_sessions.end(db(), previous, now())
    session.clear()
    raw = server_sessions.start(
        db(),
        user,
        now=now(),
        address=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        timeouts=timeouts(),
    )
    db().commit()
    g.pop(_CLEAR, None)
    setattr(g, _SET, raw)
    g.admin_user = user
    g.admin_session = None


def sign_out() -> None:
    """End this request's server session (committed) and drop the cookie."""
    current_admin()
    row: AdminSession | None = g.get("admin_session")
    if row is not None:
        server_sessions.end(db(), row, now())
        db().commit()
    session.clear()
    g.pop(_SET, None)
    setattr(g, _CLEAR, True)
    g.admin_user = None
    g.admin_session = None


def current_session() -> AdminSession | None:
    """The server session of this request, or None."""
    current_admin()
    return cast(AdminSession | None, g.get("admin_session"))


def current_admin() -> AdminUser | None:
    """The signed-in account of this request, or None (and a dead cookie dropped)."""
    if "admin_user" in g:
        return cast(AdminUser | None, g.admin_user)
    at = now()
    raw = request.cookies.get(cookie_name())
    row = server_sessions.find_live(db(), raw, now=at, timeouts=timeouts())
    user = db().get(AdminUser, row.user_id) if row is not None else None
    if row is None and raw is not None:
        setattr(g, _CLEAR, True)
    if row is not None and server_sessions.needs_touch(row, at):
        with sessions()() as own:  # its own transaction: the view's stays untouched
            server_sessions.touch(own, row.id, at)
            own.commit()
        row.last_seen_at = at
    g.admin_user = user
    g.admin_session = row
    return user


@bp.after_app_request
def _session_cookie(response: Response) -> Response:
    raw = g.get(_SET)
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    if raw:
        response.set_cookie(cookie_name(), raw, path="/", secure=secure, httponly=True, samesite="Lax")
    elif g.get(_CLEAR):
        response.delete_cookie(cookie_name(), path="/", secure=secure, httponly=True, samesite="Lax")
    return response


def actor_name() -> str:
    user = current_admin()
    return user.username if user is not None else "anonymous"


def safe_next(target: str | None) -> str | None:
    """A post-sign-in destination, only if it is a path inside the console: no
    scheme, no host (``//host``), no backslash, no control character or space (a CR
    or LF would split the ``Location`` header), at most 2000 characters."""
    if not target or len(target) > MAX_NEXT:
        return None
    if any(ch <= " " or ch == "\x7f" or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//") or not parts.path.startswith("/admin"):
        return None
    return target


def require_role(*roles: AdminRole) -> Callable[[F], F]:
    """Guard a view: no valid session -> sign-in page (401 for JSON); a role not in
    ``roles`` -> 403. ``roles`` are recorded on the view for the console's menus."""
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_admin()
            if user is None:
                if wants_json():
                    raise SignInRequiredError("sign in to the admin console first")
                target = request.full_path if request.method == "GET" else None
                return redirect(url_for("admin.login", next=safe_next(target)))
            if user.role not in allowed:
                raise ForbiddenError("your role does not allow this")
            return view(*args, **kwargs)

        wrapped.admin_roles = allowed  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def signed_in() -> AdminUser:
    """The signed-in account, in a view that ``require_role`` guards."""
    user = current_admin()
    if user is None:
        raise SignInRequiredError("sign in to the admin console first")
    return user
