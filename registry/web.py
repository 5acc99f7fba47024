"""Flask glue shared by the admin and public blueprints: the per-request database
session, i18n (Flask-Babel with catalogs compiled at start-up), rate limiting, CSRF,
template helpers, the one JSON-body reader and the one error-response builder."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Request, current_app, g, has_request_context, jsonify, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from keys import strictjson
from keys.crypto import MasterKey
from registry.errors import N_, BodyError, BodyTooDeepError, RegistryError

LANGUAGES = ("vi", "en")
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
MAX_JSON_BODY = 64 * 1024  # the longest public body, a report with every field full, fits
MAX_JSON_DEPTH = 16  # every body we read is one flat object; a client's wrapping fits

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
csrf = CSRFProtect()
babel = Babel()


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "_db_session" not in g:
        g._db_session = current_app.extensions["chinhdanh.sessionmaker"]()
    session: Session = g._db_session
    return session


def master_key() -> MasterKey:
    key: MasterKey = current_app.extensions["chinhdanh.master_key"]
    return key


def base_url() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"])


def now() -> datetime:
    return datetime.now(UTC)


def select_locale() -> str:
    if not has_request_context():
        return "vi"  # CLI renders (cards, letters) are in Vietnamese
    lang = request.args.get("lang") or request.form.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGUAGES else "vi"


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.startswith("/.well-known/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes["application/json"] > request.accept_mimetypes["text/html"]
    )


def json_object(*, max_bytes: int = MAX_JSON_BODY) -> dict[str, Any] | None:
    """The request's JSON body, which must be an object, or None when the request
    does not say it is JSON (its ``Content-Type``). Read bounded:
    raise RequestEntityTooLarge (413) past ``max_bytes``, BodyTooDeepError (400)
    past MAX_JSON_DEPTH levels, BodyError (400) for anything else that is not a
    JSON object. Call it once per request. Flask's ``get_json`` is not used: it lets
    a RecursionError out."""
    if not request.is_json:
        return None
    too_large = RequestEntityTooLarge(f"the JSON body is over {max_bytes // 1024} KiB")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    if request.max_content_length is None or request.max_content_length > max_bytes:
        # bounds a body sent without Content-Length, unless a hook opened the stream first
        request.max_content_length = max_bytes
    data = request.get_data(cache=True)
    if len(data) > max_bytes:
        raise too_large
    try:
        value = strictjson.loads(data, max_depth=MAX_JSON_DEPTH)
    except strictjson.JsonTooDeepError as exc:
        raise BodyTooDeepError(
            N_("the JSON body is nested deeper than {depth} levels"), field="body", params={"depth": MAX_JSON_DEPTH}
        ) from exc
    except strictjson.JsonInputError as exc:
        raise BodyError(N_("the body is not valid JSON (RFC 8259, in UTF-8)"), field="body") from exc
    if not isinstance(value, dict):
        raise BodyError(N_("the body must be a JSON object"), field="body")
    return value


def error_response(status: int, code: str, message: str | None, *, field: str | None = None) -> Response:
    """``{"error": {"code", "message"}}`` for the API, a page in the user's language
    otherwise. 5xx never shows the exception."""
    if status >= 500 or not message:
        message = (
            _("Something went wrong on our side. Please try again in a minute.")
            if status >= 500
            else _("The request could not be handled.")
        )
    if wants_json():
        body: dict[str, Any] = {"code": code, "message": message}
        if field:
            body["field"] = field
        resp = jsonify({"error": body})
    else:
        resp = current_app.make_response(render_template("error.html", status=status, code=code, message=message))
    resp.status_code = status
    return resp


# Words that registry error templates carry as parameters, as a page shows them.
ERROR_WORDS = {
    "field": {
        "code": _l("staff code"),
        "name": _l("name"),
        "title": _l("title"),
        "unit": _l("unit"),
        "phone": _l("phone"),
        "email": _l("email"),
        "reason": _l("reason"),
        "agency": _l("agency"),
        "agency_domain": _l("agency domain"),
        "purpose": _l("purpose"),
        "channel": _l("channel"),
        "value": _l("value"),
        "note": _l("note"),
        "label": _l("label"),
        "username": _l("username"),
        "password": _l("password"),
    },
    "status": {
        "active": _l("active"),
        "suspended": _l("suspended"),
        "departed": _l("departed"),
        "valid": _l("valid"),
        "revoked": _l("revoked"),
        "pending": _l("waiting for setup"),
        "disabled": _l("disabled"),
    },
    "kind": {
        "staff": _l("staff card"),
        "assignment": _l("assignment"),
        "email": _l("email"),
        "phone": _l("phone"),
        "domain": _l("domain"),
        "url": _l("web address"),
    },
}
ERROR_WORDS["to"] = ERROR_WORDS["status"]


def translated_message(exc: RegistryError) -> str:
    """A registry error in the page's language: its template from the catalog, with
    field names and status words translated too (the API keeps the English)."""
    words = {name: str(ERROR_WORDS.get(name, {}).get(str(value), value)) for name, value in exc.params.items()}
    try:
        return str(_(exc.template)).format(**words) if exc.params else str(_(exc.template))
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
        return exc.message


def vn_date(value: datetime | str | None) -> str:
    """dd/mm/yyyy in Viet Nam time (accepts an ISO string too)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y")


def vn_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def compile_catalogs(target: Path) -> list[str]:
    """Compile every ``translations/<part>/<lang>/LC_MESSAGES/messages.po`` into
    ``target`` when the .mo is missing or older. Written atomically, so gunicorn
    workers starting together never read half a file. Returns the directories."""
    dirs = []
    for po_path in sorted(TRANSLATIONS.glob("*/*/LC_MESSAGES/messages.po")):
        part = po_path.parents[2].name
        lang = po_path.parents[1].name
        mo_path = target / part / lang / "LC_MESSAGES" / "messages.mo"
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            fd, tmp = tempfile.mkstemp(dir=mo_path.parent)
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.replace(tmp, mo_path)
        if str(target / part) not in dirs:
            dirs.append(str(target / part))
    return dirs


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building a signing serializer for the
    many requests that carry no session cookie (every API call)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = LazyCookieSessionInterface()
    dirs = compile_catalogs(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs) or str(TRANSLATIONS)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Ho_Chi_Minh")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    csrf.init_app(app)
    app.jinja_env.filters["vn_date"] = vn_date
    app.jinja_env.filters["vn_datetime"] = vn_datetime
    app.jinja_env.filters["error_text"] = translated_message
    app.jinja_env.policies["ext.i18n.trimmed"] = True

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_lang": select_locale(), "languages": LANGUAGES}

    @app.after_request
    def _remember_lang(response: Response) -> Response:
        lang = request.args.get("lang")
        if lang in LANGUAGES and request.cookies.get("lang") != lang:
            response.set_cookie(
                "lang",
                lang,
                max_age=365 * 86400,
                samesite="Lax",
                httponly=True,
                secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
            )
        return response
