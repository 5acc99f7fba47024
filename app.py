"""The chinhdanh application factory: configuration, the platform (database, clock,
web set-up), every room's pages and commands, and THE error table, which says how
each error family is shown as a page, as the API's JSON and on the command line.

Configuration is layered (``registry.platform.config``): defaults, then
``instance/config.py`` if present, then the environment, then the mapping given to
``create_app`` (tests). Nothing happens at import time.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import MetaData

from keys.errors import KeysError, MalformedTokenError, MasterKeyError
from keys.orm import Base
from registry.audit.chain import AuditContext
from registry.audit.chain import configure as configure_audit
from registry.audit.checkpoints import enqueue as enqueue_checkpoint
from registry.errors import RegistryError
from registry.platform import clock, db, web
from registry.platform.config import MASTER_KEY, ConfigError, load_config
from registry.platform.errors import ErrorTable, Shown, install
from verify.core.claims import origin
from verify.core.qrdecode import QrDecodeError
from verify.errors import VerifyError
from verify.verification.fastpage import FastPage
from verify.verification.fastpath import FastVerify
from verify.verification.views import OWN_ORIGIN

ROOT = Path(__file__).resolve().parent

# THE error table: how each family is shown, the first row that matches deciding.
# A master key that opens nothing is the server's fault and its operator's business:
# the public gets a plain 500, the log and the operator's command line the reason.
# The registry's and keys' messages are the API's English; the public side's (reports,
# photos) speak the officer's language everywhere. Pages always translate.
ERRORS = ErrorTable(
    Shown(MasterKeyError, public=False),
    Shown(KeysError),
    Shown(RegistryError),
    Shown(VerifyError, english_api=False),
    Shown(QrDecodeError, english_api=False),
)

# Every room: its tables, its pages, its commands (each module is imported by name,
# so a room's parts load only with the app).
MODEL_MODULES = (
    "keys.models",
    "registry.staff.models",
    "registry.credentials.models",
    "registry.audit.models",
    "registry.channels.models",
    "registry.livecode.models",
    "registry.accounts.models",
    "registry.sessions.models",
    "registry.assignments.models",
    "registry.outbox.models",
    "registry.alerts.models",
    "verify.reports.models",
    "verify.warnings.models",
)
VIEW_MODULES = (
    "verify.verification.views",
    "verify.verification.photo",
    "verify.lookup.views",
    "verify.documents.views",
    "verify.reports.views",
    "verify.letters.views",
    "verify.receipts.views",
    "verify.api.views",
    "verify.reports.admin",
    "verify.warnings.views",
    "verify.warnings.admin",
    "registry.console.views",
    "registry.accounts.views",
    "registry.staff.views",
    "registry.credentials.views",
    "registry.livecode.views",
    "registry.assignments.views",
    "registry.channels.views",
    "registry.signing.views",
    "registry.audit.views",
    "registry.alerts.views",
)
CLI_MODULES = (
    "registry.platform.cli",
    "registry.demo.cli",
    "registry.signing.cli",
    "registry.staff.cli",
    "registry.credentials.cli",
    "registry.audit.cli",
    "registry.channels.cli",
    "registry.livecode.cli",
    "registry.accounts.cli",
    "registry.assignments.cli",
    "verify.reports.cli",
    "verify.warnings.cli",
    "registry.outbox.cli",
    "registry.alerts.cli",
    "registry.backup.cli",
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides everything else (tests use it)."""
    instance_path = os.environ.get("CHINHDANH_INSTANCE") or str(ROOT / "instance")
    if config and config.get("INSTANCE_PATH"):
        instance_path = str(config["INSTANCE_PATH"])
    app = Flask(__name__, instance_path=os.path.abspath(instance_path), instance_relative_config=True)
    load_config(app, config)
    try:
        # computed once: every presented URL is compared with it (the foreign_site verdict)
        app.extensions[OWN_ORIGIN] = origin(app.config["PUBLIC_BASE_URL"])
    except MalformedTokenError as exc:
        raise ConfigError("PUBLIC_BASE_URL must be an absolute URL, such as https://xacminh.example.vn") from exc
    app.json.sort_keys = False  # type: ignore[attr-defined]  # answers read in a stable, logical order

    db.init_app(app)
    # the audit log's MAC key, derived from the master key, travels with every session
    audit_context = AuditContext.of(
        app.extensions[MASTER_KEY],
        checkpoint_every=app.config["AUDIT_CHECKPOINT_EVERY"],
        issuer=app.config["PUBLIC_BASE_URL"],
        enqueue=enqueue_checkpoint,
    )
    configure_audit(db.sessions(app), audit_context)
    clock.init_app(app)
    security_headers = web.init_app(app)
    install(app, ERRORS)
    blueprints = {id(bp): bp for bp in (importlib.import_module(name).bp for name in VIEW_MODULES)}
    for blueprint in blueprints.values():  # the console's rooms share one blueprint, registered once
        app.register_blueprint(blueprint)
    for name in CLI_MODULES:
        importlib.import_module(name).register_cli(app)
    if app.config["VERIFY_FAST_PATH"]:  # the scan page and the verify API below Flask, the same answers
        app.wsgi_app = FastPage(app, app.wsgi_app, security_headers)  # type: ignore[method-assign]
        app.wsgi_app = FastVerify(app, app.wsgi_app, security_headers)  # type: ignore[method-assign]
    return app


def load_models() -> MetaData:
    """Import every model module so the metadata is complete; returns it."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
