"""The Flask side of admin sign-in: what the session cookie holds, the idle and
absolute timeouts, "sign out everywhere" (a generation number that must match the
account's), and ``require_role``, which guards every admin view on the server.

The cookie is Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure in
production: app configuration). It holds only the account id, its session
generation, and when the session started and was last used; the account row is read
again on every request, so disabling an account or bumping its generation ends its
sessions at once, on every instance.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from registry.accounts.models import AccountStatus, AdminRole, AdminUser
from registry.errors import ForbiddenError, SignInRequiredError
from registry.platform.clock import now
from registry.platform.db import db
from registry.platform.web import wants_json

IDLE_TIMEOUT = timedelta(minutes=30)  # an unattended console signs itself out
ABSOLUTE_TIMEOUT = timedelta(hours=12)  # one working day, then sign in again
KEY_UID = "admin_uid"
KEY_GEN = "admin_gen"
KEY_START = "admin_start"
KEY_SEEN = "admin_seen"
SESSION_KEYS = (KEY_UID, KEY_GEN, KEY_START, KEY_SEEN)
ALL_ROLES = tuple(AdminRole)
ISSUERS = (AdminRole.ADMIN, AdminRole.ISSUER)
REVIEWERS = (AdminRole.ADMIN, AdminRole.REVIEWER)
ADMINS = (AdminRole.ADMIN,)

F = TypeVar("F", bound=Callable[..., Any])


def idle_timeout() -> timedelta:
    seconds = current_app.config.get("ADMIN_IDLE_TIMEOUT_S")
    return timedelta(seconds=int(seconds)) if seconds else IDLE_TIMEOUT


def session_payload(user: AdminUser, at: datetime) -> dict[str, Any]:
    """The cookie's contents for a freshly signed-in ``user``."""
    ts = int(at.timestamp())
    return {KEY_UID: user.id, KEY_GEN: user.session_generation, KEY_START: ts, KEY_SEEN: ts}


def sign_in(user: AdminUser) -> None:
    """Start a session: everything in the old cookie is dropped first."""
    session.clear()
    session.update(session_payload(user, now()))
    session.permanent = False


def sign_out() -> None:
    for key in SESSION_KEYS:
        session.pop(key, None)


def _valid_user(at: datetime) -> AdminUser | None:
    uid, gen, start, seen = (session.get(k) for k in SESSION_KEYS)
    if not (isinstance(uid, int) and isinstance(gen, int) and isinstance(start, int) and isinstance(seen, int)):
        return None
    ts = at.timestamp()
    if ts - seen > idle_timeout().total_seconds() or ts - start > ABSOLUTE_TIMEOUT.total_seconds():
        return None
    user = db().get(AdminUser, uid)
    if user is None or user.status is not AccountStatus.ACTIVE or user.session_generation != gen:
        return None
    return user


def current_admin() -> AdminUser | None:
    """The signed-in account of this request, or None (and the stale cookie dropped)."""
    if "admin_user" in g:
        return cast(AdminUser | None, g.admin_user)
    at = now()
    user = _valid_user(at)
    if user is None:
        if KEY_UID in session:
            sign_out()
    else:
        session[KEY_SEEN] = int(at.timestamp())
    g.admin_user = user
    return user


def actor_name() -> str:
    user = current_admin()
    return user.username if user is not None else "anonymous"


def safe_next(target: str | None) -> str | None:
    """A post-sign-in destination, only if it is a path inside the console."""
    if not target or len(target) > 2000:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or target.startswith("//"):
        return None
    if "\\" in target:
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
