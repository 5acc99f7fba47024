"""The OpenAPI 3.1 document of the public JSON API, generated from the code.

Every registered view whose docstring ends with a YAML block after a line holding
only ``---`` contributes its operations (apispec's FlaskPlugin convention): the
document can never list an endpoint that does not exist, and a new endpoint appears
as soon as its view is documented. The shared shapes (``Error``, ``StaffCard``,
``Channel``, ``VerifyAnswer``), responses (``Error``, ``TooManyRequests``, ``NotModified``) and the
``lang`` parameter are components that any view's YAML may ``$ref``.

The plugin is the few lines of ``apispec_webframeworks.flask.FlaskPlugin`` that we
need, written against the apispec we pin, so no further package is required.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec, BasePlugin, yaml_utils
from flask import Flask
from werkzeug.routing import Rule

from registry.channels.models import ChannelKind
from registry.credentials.models import CredentialKind
from verify.core.verdicts import Verdict

OPENAPI_VERSION = "3.1.0"  # 3.1: JSON Schema proper, so "null" is a type like any other
API_VERSION = "1.0.0"
_PATH_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")
_EXTENSION_KEY = "chinhdanh.openapi"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable snake_case code"},
                "message": {"type": "string", "description": "in the user's language"},
                "field": {"type": "string"},
            },
        }
    },
}
# Responses the views' YAML refers to; an operation gives the Error response its own
# description ({$ref: "#/components/responses/Error", description: ...}).
ERROR_RESPONSE: dict[str, Any] = {
    "description": "An error: its code says which, its message says it in the user's language.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
LANG_PARAMETER: dict[str, Any] = {"required": False, "schema": {"type": "string", "enum": ["vi", "en"]}}
TOO_MANY_REQUESTS: dict[str, Any] = {**ERROR_RESPONSE, "description": "Too many requests from this address."}
# the answer of every document served with an ETag to a client that already holds it
NOT_MODIFIED: dict[str, Any] = {"description": "Unchanged since the ETag given in If-None-Match."}
STAFF_CARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "What the printed card shows. phone, phone_display and email are the person's own contacts, "
        "given only beside a valid answer for an active person (null otherwise: call back on the "
        "answer's official_contacts); photo_url is null for a departed person."
    ),
    "required": ["code", "name", "title", "unit", "phone", "phone_display", "email", "status", "photo_url"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "title": {"type": "string"},
        "unit": {"type": "string"},
        "phone": {"type": ["string", "null"], "description": "E.164"},
        "phone_display": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["active", "suspended", "departed"]},
        "photo_url": {"type": ["string", "null"]},
    },
}
CHANNEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "value", "display", "label"],
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in ChannelKind]},
        "value": {"type": "string"},
        "display": {"type": "string"},
        "label": {"type": "string"},
    },
}
VERDICTS = [v.value for v in Verdict]
VERIFY_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["verdict", "foreign_host", "credential", "staff", "official_contacts", "checked_at"],
    "properties": {
        "verdict": {"type": "string", "enum": VERDICTS},
        "foreign_host": {
            "type": ["string", "null"],
            "maxLength": 253,
            "description": (
                "For foreign_site: the host (or, when only the scheme or port differs, the origin) "
                "that the presented URL points at instead of this service. Null otherwise."
            ),
        },
        "credential": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["id", "kind", "issued_at", "not_before", "expires_at"],
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"type": "string", "enum": [k.value for k in CredentialKind]},
                        "issued_at": {"type": "string", "format": "date-time"},
                        "not_before": {"type": ["string", "null"], "format": "date-time"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "agency": {"type": "string"},
                        "agency_domain": {"type": "string"},
                        "purpose": {"type": "string"},
                    },
                },
                {"type": "null"},
            ]
        },
        "staff": {"oneOf": [{"$ref": "#/components/schemas/StaffCard"}, {"type": "null"}]},
        "official_contacts": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Channel"},
            "description": (
                "The Centre's official channels to call back on (phones first), given whenever the "
                "answer gives none of the person's own contacts: every answer but valid for an active "
                "person with a phone or email, for whom the list is empty."
            ),
        },
        "checked_at": {"type": "string", "format": "date-time"},
        "receipt": {
            "type": "string",
            "description": (
                "Only with receipt=1: this answer as a compact JWS (header typ verification-receipt+jwt, "
                "alg EdDSA, kid of the active signing key, verifiable with /.well-known/jwks.json). Claims: "
                "iss, iat (when checked), jti (random), verdict; kind when the token's type is known; sub, "
                "name and credential (the checked token's jti) when its signature verified; agency when "
                "one was given. Its page is PUBLIC_BASE_URL/r/<receipt>. Receipts are not stored."
            ),
        },
    },
}


def openapi_path(rule: str) -> str:
    """``/api/v1/status-lists/<int:list_id>`` -> ``/api/v1/status-lists/{list_id}``."""
    return _PATH_VARIABLE.sub(r"{\1}", rule)


def has_operations(view: Callable[..., Any]) -> bool:
    """Whether ``view``'s docstring carries a YAML block after a ``---`` line."""
    doc = view.__doc__ or ""
    return any(line.strip() == "---" for line in doc.splitlines())


class FlaskPlugin(BasePlugin):
    """Paths from Flask rules, operations from the YAML at the end of view docstrings."""

    def path_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        parameters: list[dict[str, Any]] | None = None,
        *,
        view: Callable[..., Any] | None = None,
        rule: Rule | None = None,
        **kwargs: Any,
    ) -> str | None:
        if view is None or rule is None:
            return path
        if operations is not None:
            operations.update(yaml_utils.load_operations_from_docstring(view.__doc__ or ""))
            allowed = {m.lower() for m in (rule.methods or ())}
            for method in list(operations):
                if method not in allowed:
                    del operations[method]  # documented but not routed here: never advertise it
        return openapi_path(rule.rule)


def build_spec(app: Flask) -> dict[str, Any]:
    """The document for ``app``: every rule whose view has a YAML docstring."""
    spec = APISpec(
        title="chinhdanh public API",
        version=API_VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[FlaskPlugin()],
        info={
            "description": (
                "Verification of staff of the Information-Communication Centre of the Central "
                "Emulation and Commendation Board (Viet Nam), official-channel lookup, live codes, "
                "and impersonation reports. Answers are in Vietnamese unless ?lang=en. While its "
                "database cannot be reached, any endpoint answers 503 with the error code "
                "database_unavailable and Retry-After: try again then."
            )
        },
        servers=[{"url": str(app.config["PUBLIC_BASE_URL"])}],
    )
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.schema("StaffCard", STAFF_CARD_SCHEMA)
    spec.components.schema("Channel", CHANNEL_SCHEMA)
    spec.components.schema("VerifyAnswer", VERIFY_ANSWER_SCHEMA)
    spec.components.parameter("lang", "query", LANG_PARAMETER)
    spec.components.response("Error", ERROR_RESPONSE)
    spec.components.response("TooManyRequests", TOO_MANY_REQUESTS)
    spec.components.response("NotModified", NOT_MODIFIED)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        if view is not None and has_operations(view):
            spec.path(view=view, rule=rule)
    return spec.to_dict()


def document(app: Flask) -> dict[str, Any]:
    """The document for ``app``, built on first use: routes do not change while it runs."""
    built = app.extensions.get(_EXTENSION_KEY)
    if built is None:
        built = build_spec(app)
        app.extensions[_EXTENSION_KEY] = built
    return dict(built)
