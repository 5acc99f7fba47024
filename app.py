"""The chinhdanh application factory: configuration, database, i18n, rate limits,
security headers, blueprints, CLI and error handlers.

Configuration is layered: defaults, then ``instance/config.py`` if present, then the
environment, then the mapping given to ``create_app`` (tests). Nothing happens at
import time.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from keys.crypto import MasterKey
from keys.db import make_engine, make_read_engine, make_sessionmaker
from keys.errors import KeysError, MalformedTokenError
from registry.errors import RegistryError
from verify.claims import origin

log = logging.getLogger("chinhdanh")

ROOT = Path(__file__).resolve().parent
ENV_KEYS = (
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "CHINHDANH_MASTER_KEY",
    "CHINHDANH_TRUSTED_PROXIES",
    "SECRET_KEY",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_ENABLED",
    "VERIFY_FAST_PATH",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "CHINHDANH_ENV",
    "HSTS_SECONDS",
    "CENTRE_NEVER_DOES",
    "ADMIN_IDLE_TIMEOUT_S",
    "EVIDENCE_QUOTA_PER_ADDRESS_MB",
    "EVIDENCE_QUOTA_TOTAL_MB",
)
DEFAULTS: dict[str, Any] = {
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "CHINHDANH_TRUSTED_PROXIES": 0,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "VERIFY_FAST_PATH": True,  # GET /api/v1/verify below Flask (verify/fastpath.py)
    "WEBHOOK_URL": None,
    "WEBHOOK_SECRET": None,
    "CHINHDANH_ENV": "development",
    "HSTS_SECONDS": 0,
    "ADMIN_IDLE_TIMEOUT_S": 1800,  # a console left open signs out after 30 minutes
    # evidence a client network may store per day (ten reports with full photos), and in all
    "EVIDENCE_QUOTA_PER_ADDRESS_MB": 100,
    "EVIDENCE_QUOTA_TOTAL_MB": 10 * 1024,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # 3 evidence files of 5 MB and the form
    # any single non-file field; werkzeug also counts its 64 KiB multipart read chunk
    # (file parts included) against this limit, so it must stay well above 64 KiB
    "MAX_FORM_MEMORY_SIZE": 256 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
}
BOOL_KEYS = {"RATELIMIT_ENABLED", "VERIFY_FAST_PATH"}
INT_KEYS = {
    "CHINHDANH_TRUSTED_PROXIES",
    "HSTS_SECONDS",
    "ADMIN_IDLE_TIMEOUT_S",
    "EVIDENCE_QUOTA_PER_ADDRESS_MB",
    "EVIDENCE_QUOTA_TOTAL_MB",
}
PRODUCTION_REQUIRED = ("CHINHDANH_MASTER_KEY", "SECRET_KEY", "DATABASE_URL")


class ConfigError(RuntimeError):
    """A configuration the service refuses to start with."""


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def _secret_file(path: Path, make: Any, what: str) -> str:
    """Read a generated secret, creating it (mode 0600) the first time."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
        return path.read_text().strip()
    value = str(make())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    # stderr, so that `--json` commands keep exactly one object on stdout
    print(f"chinhdanh: generated a new {what} in {path} (mode 0600); keep it safe and back it up", file=sys.stderr)
    return value


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    env = {k: os.environ[k] for k in ENV_KEYS if os.environ.get(k)}
    app.config.update(env)
    if overrides:
        app.config.update(overrides)
    for key in BOOL_KEYS:
        app.config[key] = _as_bool(app.config[key])
    for key in INT_KEYS:
        try:
            app.config[key] = int(app.config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a whole number") from exc
    production = app.config["CHINHDANH_ENV"] == "production"
    if production:
        explicit = {**env, **(overrides or {})}
        missing = [k for k in PRODUCTION_REQUIRED if not explicit.get(k)]
        if missing:
            raise ConfigError(
                "CHINHDANH_ENV=production needs explicit "
                + ", ".join(missing)
                + ": refusing to start with generated secrets or the embedded database"
            )
        app.config["SESSION_COOKIE_SECURE"] = True
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'chinhdanh.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_file(
            instance / "secret.key", lambda: secrets.token_urlsafe(48), "session secret key"
        )
    if not app.config.get("CHINHDANH_MASTER_KEY"):
        app.config["CHINHDANH_MASTER_KEY"] = _secret_file(instance / "master.key", MasterKey.generate_b64, "master key")
    app.config["PUBLIC_BASE_URL"] = str(app.config["PUBLIC_BASE_URL"]).rstrip("/")
    try:
        # computed once: every presented URL is compared with it (the foreign_site verdict)
        app.extensions["chinhdanh.own_origin"] = origin(app.config["PUBLIC_BASE_URL"])
    except MalformedTokenError as exc:
        raise ConfigError("PUBLIC_BASE_URL must be an absolute URL, such as https://xacminh.example.vn") from exc
    try:
        app.extensions["chinhdanh.master_key"] = MasterKey.from_b64(app.config["CHINHDANH_MASTER_KEY"])
    except KeysError as exc:
        raise ConfigError(f"CHINHDANH_MASTER_KEY: {exc}") from exc


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


def dispose_engines(app: Flask) -> None:
    """Close every pooled connection of ``app`` (tests and benches that build many apps)."""
    for name in ("chinhdanh.read_engine", "chinhdanh.engine"):
        app.extensions[name].dispose()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides everything else (tests use it)."""
    instance_path = os.environ.get("CHINHDANH_INSTANCE") or str(ROOT / "instance")
    if config and config.get("INSTANCE_PATH"):
        instance_path = str(config["INSTANCE_PATH"])
    app = Flask(__name__, instance_path=os.path.abspath(instance_path), instance_relative_config=True)
    load_config(app, config)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # answers read in a stable, logical order

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["chinhdanh.engine"] = engine
    app.extensions["chinhdanh.sessionmaker"] = make_sessionmaker(engine)
    app.extensions["chinhdanh.read_engine"] = make_read_engine(engine)

    if app.config["CHINHDANH_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["CHINHDANH_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from registry import web

    web.init_app(app)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("_db_session", None)
        if session is not None:
            session.close()

    security_headers = security_header_list(app)
    _add_security_headers(app, security_headers)
    _register_errors(app)

    import importlib

    for name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(name).bp)
    for name in CLI_MODULES:
        importlib.import_module(name).register_cli(app)
    if app.config["VERIFY_FAST_PATH"]:
        from verify.fastpath import FastVerify

        app.wsgi_app = FastVerify(app, app.wsgi_app, security_headers)  # type: ignore[method-assign]
    return app


def _register_errors(app: Flask) -> None:
    from registry.web import error_response, translated_message, wants_json

    @app.errorhandler(RegistryError)
    def _registry_error(exc: RegistryError) -> Response:
        message = exc.message if wants_json() else translated_message(exc)
        return error_response(exc.status, exc.code, message, field=exc.field)

    @app.errorhandler(KeysError)
    def _keys_error(exc: KeysError) -> Response:
        return error_response(409, exc.code, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", None)


# Each part of the service registers itself here: its tables, its blueprint, its commands.
MODEL_MODULES = (
    "keys.models",
    "registry.models",
    "registry.models_lookup",
    "registry.models_admin",
    "registry.models_assignment",
    "verify.models",
)
BLUEPRINT_MODULES = (
    "verify.views",
    "verify.public",
    "verify.reports_views",
    "verify.letters",
    "verify.roster_views",
    "verify.admin_reports",
    "registry.views",
)
CLI_MODULES = (
    "registry.cli",
    "registry.cli_lookup",
    "registry.cli_admin",
    "registry.cli_assignment",
    "verify.cli",
)


def load_models() -> Any:
    """Import every model module so the metadata is complete; returns it."""
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)
    from keys.db import Base

    return Base.metadata
