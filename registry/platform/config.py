"""Configuration, layered: defaults, then ``instance/config.py`` if present, then the
environment, then the mapping given to ``create_app`` (tests). Generated secrets are
written once (0600) and said so; production refuses to start without explicit ones.
Nothing happens at import time."""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from keys.contract import VN_TZ
from keys.crypto import MasterKey
from keys.errors import KeysError
from registry.platform.smtp import SmtpServer, parse_smtp_url

# settings read as whole numbers, and as true/false; every one may come from the environment
INT_KEYS = (
    "CHINHDANH_TRUSTED_PROXIES",
    "HSTS_SECONDS",
    "ADMIN_IDLE_TIMEOUT_S",
    "ADMIN_ABSOLUTE_TIMEOUT_S",
    "SIGNIN_HASH_CONCURRENCY",
    "EVIDENCE_QUOTA_PER_ADDRESS_MB",
    "EVIDENCE_QUOTA_TOTAL_MB",
    "AUDIT_CHECKPOINT_EVERY",
)
BOOL_KEYS = ("RATELIMIT_ENABLED", "VERIFY_FAST_PATH", "MAIL_SEND_AT_ONCE")
ENV_KEYS = (
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "CHINHDANH_MASTER_KEY",
    "SECRET_KEY",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "SMTP_URL",
    "MAIL_FROM",
    "CHINHDANH_ENV",
    "CENTRE_NEVER_DOES",
    "METRICS_TOKEN",
    "LOG_FORMAT",
    *INT_KEYS,
    *BOOL_KEYS,
)
DEFAULTS: dict[str, Any] = {
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "CHINHDANH_TRUSTED_PROXIES": 0,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    # Redis down: the limits go on from each process's memory (a warning is logged) and
    # Redis is tried again, backing off, until it answers; a dead Redis never hangs a
    # request for more than the socket timeouts
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    "VERIFY_FAST_PATH": True,  # GET /api/v1/verify below Flask (verify/verification/fastpath.py)
    "WEBHOOK_URL": None,
    "WEBHOOK_SECRET": None,
    "SMTP_URL": None,  # alerts to staff members by email: smtp://host:port or smtps://host:port
    "MAIL_FROM": None,
    "MAIL_SEND_AT_ONCE": True,  # a background thread sends each alert as it is queued
    "CHINHDANH_ENV": "development",
    "HSTS_SECONDS": None,  # production: a year unless set (0 turns it off); elsewhere off
    "METRICS_TOKEN": None,  # /metrics answers 404 until one is set
    "LOG_FORMAT": "text",  # "json": one JSON object per line (registry/platform/logs.py)
    "ADMIN_IDLE_TIMEOUT_S": 1800,  # a console left open signs out after 30 minutes
    "ADMIN_ABSOLUTE_TIMEOUT_S": 12 * 3600,  # one working day, then sign in again
    "SIGNIN_HASH_CONCURRENCY": 4,  # password hashes at once per process (64 MiB each); beyond: 503
    # evidence a client network may store per day (ten reports with full photos), and in all
    "EVIDENCE_QUOTA_PER_ADDRESS_MB": 100,
    "EVIDENCE_QUOTA_TOTAL_MB": 10 * 1024,
    "AUDIT_CHECKPOINT_EVERY": 100,  # a signed audit checkpoint joins the outbox every N entries (0: never)
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # 3 evidence files of 5 MB and the form
    # any single non-file field; werkzeug also counts its 64 KiB multipart read chunk
    # (file parts included) against this limit, so it must stay well above 64 KiB
    "MAX_FORM_MEMORY_SIZE": 256 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": VN_TZ.key,
}
PRODUCTION_REQUIRED = ("CHINHDANH_MASTER_KEY", "SECRET_KEY", "DATABASE_URL")
MIN_SECRET_KEY_BYTES = 32
PRODUCTION_HSTS_SECONDS = 365 * 24 * 3600
MASTER_KEY = "chinhdanh.master_key"
SMTP_SERVER = "chinhdanh.smtp_server"
MASTER_KEY_FILE = "CHINHDANH_MASTER_KEY_FILE"  # set when the master key is the embedded default's file


class ConfigError(RuntimeError):
    """A configuration the service refuses to start with."""


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def write_secret_file(path: Path, value: str, *, replace: bool = False) -> None:
    """Write ``value`` to ``path`` with mode 0600 from the start: a new file (refuse an
    existing one), or with ``replace`` atomically in place of the old one."""
    target = path.with_name(path.name + ".new") if replace else path
    if replace:
        target.unlink(missing_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    if replace:
        os.replace(target, path)


def _secret_file(path: Path, make: Callable[[], str], what: str) -> str:
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
    """Fill ``app.config`` from every layer and check it; raise ConfigError."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    env = {k: os.environ[k] for k in ENV_KEYS if os.environ.get(k)}
    app.config.update(env)
    if overrides:
        app.config.update(overrides)
    for key in BOOL_KEYS:
        app.config[key] = _as_bool(app.config[key])
    if app.config.get("HSTS_SECONDS") in (None, ""):
        production = app.config["CHINHDANH_ENV"] == "production"
        app.config["HSTS_SECONDS"] = PRODUCTION_HSTS_SECONDS if production else 0
    for key in INT_KEYS:
        try:
            app.config[key] = int(app.config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key} must be a whole number") from exc
    if app.config["CHINHDANH_ENV"] == "production":
        _check_production(app, {**env, **(overrides or {})})
    instance = Path(app.instance_path)
    private_folder(instance)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'chinhdanh.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_file(
            instance / "secret.key", lambda: secrets.token_urlsafe(48), "session secret key"
        )
    if not app.config.get("CHINHDANH_MASTER_KEY"):
        app.config["CHINHDANH_MASTER_KEY"] = _secret_file(instance / "master.key", MasterKey.generate_b64, "master key")
        app.config[MASTER_KEY_FILE] = str(instance / "master.key")  # `keys reseal` replaces it
    app.config["PUBLIC_BASE_URL"] = str(app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if app.config.get("SMTP_URL"):
        try:
            app.extensions[SMTP_SERVER] = parse_smtp_url(str(app.config["SMTP_URL"]))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if not app.config.get("MAIL_FROM"):
            raise ConfigError("SMTP_URL is set without MAIL_FROM, the address alerts are sent from")
    try:
        app.extensions[MASTER_KEY] = MasterKey.from_b64(app.config["CHINHDANH_MASTER_KEY"])
    except KeysError as exc:
        raise ConfigError(f"CHINHDANH_MASTER_KEY: {exc}") from exc


def _check_production(app: Flask, explicit: Mapping[str, Any]) -> None:
    """Refuse a production configuration that would be unsafe to serve; raise
    ConfigError naming every problem."""
    problems = []
    missing = [k for k in PRODUCTION_REQUIRED if not explicit.get(k)]
    if missing:
        problems.append(
            "needs explicit "
            + ", ".join(missing)
            + ": refusing to start with generated secrets or the embedded database"
        )
    secret = app.config.get("SECRET_KEY") or ""
    size = len(secret.encode() if isinstance(secret, str) else secret)
    if explicit.get("SECRET_KEY") and size < MIN_SECRET_KEY_BYTES:
        problems.append(f"SECRET_KEY has {size} bytes; it must have at least {MIN_SECRET_KEY_BYTES} (random)")
    if not str(app.config.get("PUBLIC_BASE_URL") or "").lower().startswith("https://"):
        problems.append("PUBLIC_BASE_URL must start with https:// (it goes into every QR code)")
    webhook = app.config.get("WEBHOOK_URL")
    if webhook and not str(webhook).lower().startswith("https://"):
        problems.append("WEBHOOK_URL must start with https:// (reports' personal data travel in it)")
    if problems:
        raise ConfigError("CHINHDANH_ENV=production " + "; ".join(problems))
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_NAME"] = "__Host-session"  # Flask's: Secure, Path=/, no Domain


def private_folder(path: Path) -> None:
    """Create ``path`` (mode 0700: it holds the database, keys and evidence), or
    take group and other access away from an existing one."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o700)


def master_key() -> MasterKey:
    key: MasterKey = current_app.extensions[MASTER_KEY]
    return key


def base_url() -> str:
    """PUBLIC_BASE_URL without a trailing slash: in every QR code and ``iss``."""
    return str(current_app.config["PUBLIC_BASE_URL"])


def smtp_server(app: Flask) -> SmtpServer | None:
    """The SMTP server alerts go through, or None when SMTP_URL is not set."""
    server = app.extensions.get(SMTP_SERVER)
    return server if isinstance(server, SmtpServer) else None
