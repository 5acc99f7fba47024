"""Flask set-up shared by every page and endpoint: the language of the request
(Flask-Babel with the catalogs compiled at start-up), rate limiting, CSRF, the
session cookie, security headers, proxies, the template filters."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Request, current_app, has_request_context, make_response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from keys.contract import VN_TZ
from registry.platform import i18n

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
csrf = CSRFProtect()
babel = Babel()


def language_of(lang: str | None) -> str:
    """The page language that a requested ``lang`` stands for."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE  # CLI renders (cards, letters) and messages are in Vietnamese
    return language_of(request.args.get("lang") or request.form.get("lang") or request.cookies.get("lang"))


@lru_cache(maxsize=256)  # browsers send a handful of distinct Accept headers
def prefers_json(accept_header: str | None) -> bool:
    """Whether an ``Accept`` header asks for JSON rather than HTML."""
    accept = parse_accept_header(accept_header, MIMEAccept)
    best = accept.best_match(["text/html", "application/json"])
    return best == "application/json" and accept["application/json"] > accept["text/html"]


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.path.startswith("/.well-known/"):
        return True
    return prefers_json(request.headers.get("Accept"))


def public_cache(response: Response, seconds: int) -> Response:
    """A public answer that browsers and proxies may keep for ``seconds``."""
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return response


def pdf_response(pdf: bytes, filename: str, *, inline: bool) -> Response:
    """A PDF made for this request alone, never kept by a browser or a proxy (what it
    says can change at any moment: a letter suspended, a receipt signed afresh): shown
    in the browser with ``inline``, else saved; ``filename`` is ASCII, for every mail
    client."""
    resp = make_response(pdf, 200)
    resp.mimetype = "application/pdf"
    resp.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def security_header_list(app: Flask) -> list[tuple[str, str]]:
    """Every security header a response of ``app`` carries, built once at start-up:
    the Flask hook adds them and the verification fast path sends them."""
    headers = list(SECURITY_HEADERS.items())
    if app.config["HSTS_SECONDS"]:
        headers.append(("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"))
    return headers


def _add_security_headers(app: Flask, headers: list[tuple[str, str]]) -> None:
    items = [(name.lower(), name, value) for name, value in headers]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # one pass over the response's headers, not one per security header: this
        # runs on every response; a view's own header (a stricter CSP) stays
        present = {name.lower() for name, _value in response.headers}
        response.headers.extend([(name, value) for low, name, value in items if low not in present])
        return response


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building a signing serializer for the
    many requests that carry no session cookie (every API call)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def trust_proxies(app: Flask) -> None:
    """The client address and scheme from the last n proxies (deploy/nginx replaces any
    X-Forwarded-For a client sends); the host never: PUBLIC_BASE_URL names it. Call
    after the fast paths are in, so that what they answer is read as Flask reads it."""
    n = app.config["CHINHDANH_TRUSTED_PROXIES"]
    if n:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]


def init_app(app: Flask) -> list[tuple[str, str]]:
    """Set ``app`` up; returns its security headers (the fast path sends them too)."""
    app.session_interface = LazyCookieSessionInterface()
    dirs = i18n.compile_catalogs(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs) or str(i18n.TRANSLATIONS)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: VN_TZ.key)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    csrf.init_app(app)
    app.jinja_env.filters["vn_date"] = i18n.vn_date
    app.jinja_env.filters["vn_datetime"] = i18n.vn_datetime
    app.jinja_env.filters["error_text"] = i18n.translated
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

    headers = security_header_list(app)
    _add_security_headers(app, headers)
    return headers
