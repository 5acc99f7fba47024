"""The exception family of ``registry``: its messages are English message ids (the
API's stable wording), translated on pages (``registry.platform.i18n``). The kinds
(``Invalid``, ``NotFound``, …) come from ``keys.errors`` and carry code and status;
``app.py``'s table says how the family is shown."""

from __future__ import annotations

from keys.errors import ChinhdanhError, Conflict, Invalid, InvalidTransition, NotFound

__all__ = [
    "AuthenticationError",
    "BodyError",
    "BodyTooDeepError",
    "ConflictError",
    "ForbiddenError",
    "ImportRowsError",
    "NotFoundError",
    "RegistryError",
    "SetupLinkError",
    "SignInRequiredError",
    "TransitionError",
    "ValidationError",
]


class RegistryError(ChinhdanhError):
    """Base of the registry's errors."""


class ValidationError(RegistryError, Invalid):
    """A field, a form or a command's argument that is not what it must be."""


class BodyError(ValidationError):
    """A request body that is not the JSON object the endpoint reads."""

    code = "invalid_json"


class BodyTooDeepError(BodyError):
    code = "json_too_deep"


class ImportRowsError(ValidationError):
    """A CSV import with bad rows; ``rows`` maps line number to problems."""

    code = "invalid_import"

    def __init__(self, rows: dict[int, list[str]]) -> None:
        lines = [f"line {n}: {'; '.join(msgs)}" for n, msgs in sorted(rows.items())]
        super().__init__("no row was imported:\n" + "\n".join(lines))
        self.rows = rows


class NotFoundError(RegistryError, NotFound):
    """Nothing of that kind has that name or id."""


class SetupLinkError(NotFoundError):
    """A setup link that is unknown, used or expired (one answer for all three)."""

    code = "setup_link_invalid"


class ConflictError(RegistryError, Conflict):
    """It exists already, or someone changed it meanwhile."""


class TransitionError(RegistryError, InvalidTransition):
    """A status change the lifecycle table does not allow."""


class AuthenticationError(RegistryError):
    """Sign-in refused. One message for every cause: unknown user, wrong password,
    wrong or replayed code, disabled or locked account."""

    code = "sign_in_failed"
    status = 401


class SignInRequiredError(RegistryError):
    """No valid admin session (JSON callers get this; pages redirect to sign-in)."""

    code = "sign_in_required"
    status = 401


class ForbiddenError(RegistryError):
    """Signed in, but the role does not allow this."""

    code = "forbidden"
    status = 403
