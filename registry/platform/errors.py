"""How an error is shown at the edge: as a page in the user's language, as the API's
``{"error": {"code", "message", "field"}}``, or as one line on the command line,
``error (<code>): <message>``. ``app.py`` holds the table that says how each error
family is shown; ``install`` puts it to work for the app's requests, and
``cli_line`` reads it for the app's commands."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from keys.errors import ChinhdanhError
from registry.platform.i18n import translated
from registry.platform.web import wants_json

log = logging.getLogger("chinhdanh")

TABLE = "chinhdanh.error_table"
INTERNAL = "internal_error"
SORRY_5XX = _l("Something went wrong on our side. Please try again in a minute.")
SORRY_4XX = _l("The request could not be handled.")
DATABASE_UNAVAILABLE = "database_unavailable"
SORRY_NO_DATABASE = _l("The service cannot reach its database right now. Please try again in a minute.")
DATABASE_RETRY_AFTER_S = 30
# What a database that is down, unreachable, restarting, locked past the busy timeout
# (SQLite) or out of pooled connections raises: the request may succeed later, so 503.
# Errors of the request itself (a constraint, a bad statement) stay 500s.
UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
# Set in the WSGI environ by code below Flask (the verification fast path) that already
# found the database unreachable: Flask then answers the 503 at once instead of
# waiting a second connect timeout.
DATABASE_DOWN_ENVIRON = "chinhdanh.database_down"


@dataclass(frozen=True, slots=True)
class Shown:
    """How one error family is shown.

    ``public``: its message may reach whoever asked; otherwise the answer is a plain
    500 ``internal_error`` and the message goes to the operator's log (and to the
    operator's own command line). ``english_api``: the JSON API and the command line
    give the message in English, the API's stable wording; otherwise in the user's
    language there too (Vietnamese on the command line). Pages always translate."""

    family: type[ChinhdanhError]
    public: bool = True
    english_api: bool = True


class ErrorTable:
    """Rows read top to bottom: the first whose family an error belongs to decides."""

    def __init__(self, *rows: Shown) -> None:
        self.rows = rows

    def row_for(self, exc: ChinhdanhError) -> Shown:
        for row in self.rows:
            if isinstance(exc, row.family):
                return row
        return Shown(ChinhdanhError)

    @property
    def families(self) -> Iterable[type[ChinhdanhError]]:
        return (row.family for row in self.rows)


def error_response(
    status: int, code: str, message: str | None, *, field: str | None = None, retry_after: int | None = None
) -> Response:
    """The error for this request, as JSON or as a page; without a message, the
    generic sorry of its class (a 5xx never shows what went wrong)."""
    shown = message or str(SORRY_5XX if status >= 500 else SORRY_4XX)
    if wants_json():
        body: dict[str, Any] = {"code": code, "message": shown}
        if field:
            body["field"] = field
        resp = jsonify({"error": body})
    else:
        resp = current_app.make_response(render_template("error.html", status=status, code=code, message=shown))
    resp.status_code = status
    if retry_after:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def database_unavailable(exc: Exception) -> Response:
    """503 ``database_unavailable`` in the user's language, with Retry-After; the
    cause goes to the log (one line, no traceback: it is an outage, not a bug)."""
    log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    return error_response(503, DATABASE_UNAVAILABLE, str(SORRY_NO_DATABASE), retry_after=DATABASE_RETRY_AFTER_S)


def _table(app: Flask) -> ErrorTable:
    table: ErrorTable = app.extensions[TABLE]
    return table


def respond(exc: ChinhdanhError) -> Response:
    """An error of one of the table's families, shown as its row says."""
    row = _table(current_app).row_for(exc)
    if not row.public:
        log.error("%s (%s): %s", type(exc).__name__, exc.code, exc.message)
        return error_response(500, INTERNAL, None)
    message = exc.message if wants_json() and row.english_api else translated(exc)
    return error_response(exc.status, exc.code, message, field=exc.field, retry_after=exc.retry_after)


def cli_line(exc: ChinhdanhError) -> str:
    """The one line a command prints on stderr for ``exc``. The operator at the
    command line is told even what the public never is."""
    row = _table(current_app).row_for(exc)
    message = exc.message if row.english_api or not row.public else translated(exc)
    return f"error ({exc.code}): {message}"


def install(app: Flask, table: ErrorTable) -> None:
    """Answer every request's errors as ``table`` says; anything else unexpected is
    a generic 500, logged."""
    app.extensions[TABLE] = table
    for family in table.families:
        app.register_error_handler(family, respond)

    for unavailable in UNAVAILABLE:
        app.register_error_handler(unavailable, database_unavailable)

    @app.before_request
    def _database_known_down() -> Response | None:
        exc = request.environ.get(DATABASE_DOWN_ENVIRON)
        return database_unavailable(exc) if exc is not None else None

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        status = exc.code or 500
        return error_response(status, code, None if status >= 500 else exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, INTERNAL, None)
