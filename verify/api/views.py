"""The API's own pages: the OpenAPI document generated from the views, and the
liveness and readiness checks."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from registry.platform.db import db
from registry.platform.errors import DATABASE_RETRY_AFTER_S, DATABASE_UNAVAILABLE, SORRY_NO_DATABASE
from registry.platform.web import public_cache
from verify.api import openapi

bp = Blueprint("api", __name__)


@bp.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document of this API, generated from the views' docstrings.
    ---
    get:
      tags: [meta]
      summary: This OpenAPI 3.1 document
      responses:
        "200":
          description: The document.
          content:
            application/json:
              schema: {type: object, required: [openapi, info, paths]}
    """
    resp = jsonify(openapi.document(current_app))
    return public_cache(resp, 300)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness.
    ---
    get:
      tags: [meta]
      summary: Liveness check
      responses:
        "200":
          description: The process answers.
          content:
            application/json:
              schema: {type: object, required: [status], properties: {status: {type: string, enum: [ok]}}}
    """
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: the database answers.
    ---
    get:
      tags: [meta]
      summary: Readiness check (the database answers)
      responses:
        "200":
          description: Ready.
          content:
            application/json:
              schema: {type: object, required: [status], properties: {status: {type: string, enum: [ready]}}}
        "503":
          $ref: "#/components/responses/Error"
          description: The database does not answer.
    """
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        current_app.logger.warning("readiness check: database unreachable (%s)", type(exc).__name__)
        # JSON whatever the probe accepts: load balancers read the status, people the message
        resp = jsonify({"error": {"code": DATABASE_UNAVAILABLE, "message": str(SORRY_NO_DATABASE)}})
        resp.status_code = 503
        resp.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
        return resp
    return jsonify({"status": "ready"})
