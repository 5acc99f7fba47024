"""The admin console's blueprint (``/admin``). Every room's console views join it, so
their endpoints are ``admin.<view>`` wherever they are written; its pages show
personal data, so none of them is stored by a cache or the browser's history."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

admin = Blueprint("admin", __name__, url_prefix="/admin")


@admin.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
