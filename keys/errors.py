"""Errors: the shape every family shares, the kinds every family reuses, and the
one family of ``keys``.

Every error that reaches an edge (a page, the JSON API, a command) is a
``ChinhdanhError``: a stable snake_case ``code``, the HTTP ``status`` it answers with,
the ``field`` it is about, and its message as a message id (the English text, marked
with ``N_`` for the catalogs) with ``params``. Nothing is translated where an error is
raised: ``app.py``'s error table shows each family at the edge, translated there.

A family (one per package: ``KeysError``, ``registry.errors.RegistryError``,
``verify.errors.VerifyError``) says whose message it is; a kind (``Invalid``,
``NotFound``, ``Conflict``, ``InvalidTransition``) says what went wrong, with one code
and one status in every family: a ``NotFound`` is a 404 whoever raises it. A family
base sets neither, so that its kinds' code and status are the ones that count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Marks a message id for the catalogs; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Message:
    """A message id with its parameters, given as the parameter of another message
    (a form field's label, a file named in an error): translated along with it."""

    id: str
    params: Mapping[str, object] = field(default_factory=dict)


def format_message(template: str, params: Mapping[str, object]) -> str:
    """``template`` (``%(name)s`` or ``{name}`` placeholders) filled in with
    ``params``, nested ``Message`` parameters in English. A template that does not
    fit its parameters is returned as it is rather than raising at the edge."""
    if not params:
        return template
    values = {k: format_message(v.id, v.params) if isinstance(v, Message) else v for k, v in params.items()}
    try:
        return template % values if "%(" in template else template.format(**values)
    except (KeyError, IndexError, ValueError, TypeError):
        return template


class ChinhdanhError(Exception):
    """An error with a stable ``code``, an HTTP ``status``, the ``field`` it is about,
    its message id (``template``) and ``params``; ``retry_after`` (seconds) when the
    same request can succeed later. ``code`` and ``status`` may be given per error
    where one class covers several causes."""

    code: str = "error"
    status: int = 400
    retry_after: int | None = None

    def __init_subclass__(cls, *, code: str | None = None, status: int | None = None, **kwargs: object) -> None:
        """A family's class names its code and status where it is declared:
        ``class NotFound(ChinhdanhError, code="not_found", status=404)``."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
        code: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.template = message
        self.params = dict(params or {})
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The message in English (the API's and the log's wording)."""
        return format_message(self.template, self.params)


class Invalid(ChinhdanhError, code="invalid_input"):
    """Input that the operation does not take."""


class NotFound(ChinhdanhError, code="not_found", status=404):
    """Nothing of that kind has that name or id."""


class Conflict(ChinhdanhError, code="conflict", status=409):
    """It exists already, or someone changed it meanwhile."""


class InvalidTransition(ChinhdanhError, code="invalid_transition", status=409):
    """A state change that a lifecycle table does not allow."""


class KeysError(ChinhdanhError):
    """Base of every error raised by ``keys``. Its messages are operators' English."""


class MalformedTokenError(KeysError, code="malformed"):
    """The token cannot be parsed: size, encoding, JSON, header or claim shape."""


class UnknownKeyError(KeysError, code="unknown_key"):
    """The token names a ``kid`` that no key of ours has."""


class BadSignatureError(KeysError, code="bad_signature"):
    """The signature does not verify under the key the token names."""


class KeyNotFoundError(KeysError, NotFound):
    """No signing or root key has that ``kid``."""


class NoActiveKeyError(KeysError, code="no_signing_key", status=503):
    """Nothing can be signed until an operator creates the key (``no_signing_key``
    or ``no_root_key``): the service is unavailable for it, and says why."""


class ActiveKeyExistsError(KeysError, Conflict, code="active_key_exists"):
    """A key of that purpose is active already: replacing it is a rotation."""


class KeyStateError(KeysError, InvalidTransition, code="invalid_key_transition"):
    """A key state change that the lifecycle does not allow."""


class MasterKeyError(KeysError, code="master_key_error", status=500):
    """The master key is missing, malformed, or does not open a stored key: a fault
    of the server's configuration, which only its operator may be told of."""


class RootFileError(KeysError, Invalid, code="root_file"):
    """The root file cannot be written (it exists) or read, or is not an Ed25519
    private key in PEM, or the root is not where the command expects it."""


class RootMismatchError(KeysError, Conflict, code="root_mismatch"):
    """The root file holds another key than the active root."""


class KeySetDaysError(KeysError, Invalid):
    """A key set's validity out of range."""


class NoKeySetError(KeysError, code="no_keyset", status=503):
    """No key set is signed by the active root yet: ``keys root sign`` has not run.
    The service is unavailable for offline verifiers, and says why."""
