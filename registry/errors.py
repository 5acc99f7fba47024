"""The exception family of ``registry``: its messages are English message ids (the
API's stable wording), translated on pages (``registry.platform.i18n``). The kinds
(``Invalid``, ``NotFound``, …) come from ``keys.errors`` and carry code and status;
``app.py``'s table says how the family is shown."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from keys.errors import ChinhdanhError, Conflict, Invalid, InvalidTransition, NotFound

T = TypeVar("T")
S = TypeVar("S", bound=StrEnum)

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
    "SignInBusyError",
    "SignInRequiredError",
    "SignInThrottledError",
    "TransitionError",
    "ValidationError",
    "allowed",
    "found",
]


class RegistryError(ChinhdanhError):
    """Base of the registry's errors."""


class ValidationError(RegistryError, Invalid):
    """A field, a form or a command's argument that is not what it must be."""


class BodyError(ValidationError, code="invalid_json"):
    """A request body that is not the JSON object the endpoint reads."""


class BodyTooDeepError(BodyError, code="json_too_deep"):
    """A JSON body nested deeper than any request of ours."""


class ImportRowsError(ValidationError, code="invalid_import"):
    """A CSV import with bad rows; ``rows`` maps line number to problems."""

    def __init__(self, rows: dict[int, list[str]]) -> None:
        lines = [f"line {n}: {'; '.join(msgs)}" for n, msgs in sorted(rows.items())]
        super().__init__("no row was imported:\n" + "\n".join(lines))
        self.rows = rows


class NotFoundError(RegistryError, NotFound):
    """Nothing of that kind has that name or id."""


class SetupLinkError(NotFoundError, code="setup_link_invalid"):
    """A setup link that is unknown, used or expired (one answer for all three)."""


class ConflictError(RegistryError, Conflict):
    """It exists already, or someone changed it meanwhile."""


class TransitionError(RegistryError, InvalidTransition):
    """A status change the lifecycle table does not allow."""


class AuthenticationError(RegistryError, code="sign_in_failed", status=401):
    """Sign-in refused. One message for every cause: unknown user, wrong password,
    wrong or replayed code, disabled or locked account."""


class SignInThrottledError(AuthenticationError, code="sign_in_throttled", status=429):
    """Too many failed sign-ins for that username from this address: this source
    waits (``retry_after``); other addresses are not affected. Unknown usernames are
    throttled the same way, so it tells nothing about which exist."""


class SignInBusyError(RegistryError, code="busy", status=503):
    """Every password-hashing slot of this process is taken; try again shortly."""


class SignInRequiredError(RegistryError, code="sign_in_required", status=401):
    """No valid admin session (JSON callers get this; pages redirect to sign-in)."""


class ForbiddenError(RegistryError, code="forbidden", status=403):
    """Signed in, but the role does not allow this."""


def found(value: T | None, message: str, *, field: str, **params: object) -> T:
    """``value``, or NotFoundError(``message`` with ``params``) when there is none."""
    if value is None:
        raise NotFoundError(message, field=field, params=params)
    return value


def allowed(table: Mapping[S, frozenset[S]], current: S, to: S, message: str, **params: object) -> None:
    """Return if a lifecycle ``table`` lets ``current`` become ``to``; else raise
    TransitionError(``message``, with ``params`` and the two states)."""
    if to not in table[current]:
        raise TransitionError(message, params={**params, "status": current.value, "to": to.value})
