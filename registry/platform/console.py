"""The admin console's blueprint (``/admin``). Every room's console views join it, so
their endpoints are ``admin.<view>`` wherever they are written; its pages show
personal data, so none of them is stored by a cache or the browser's history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, url_for
from werkzeug.wrappers import Response

from registry.platform.db import db

admin = Blueprint("admin", __name__, url_prefix="/admin")


@admin.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def done(message: str, endpoint: str, **values: Any) -> Response:
    """After a change: commit the request's unit of work, say what was done, and
    redirect (POST, then GET) to ``endpoint``."""
    db().commit()
    flash(message)
    return redirect(url_for(endpoint, **values))
