"""The exception family of ``verify``: messages for the officers who use the public
side, so they are shown in the user's language on the JSON API too (and in
Vietnamese on the command line). The kinds come from ``keys.errors``; ``app.py``'s
table says how the family is shown."""

from __future__ import annotations

from collections.abc import Mapping

from keys.errors import ChinhdanhError, Conflict, Invalid, InvalidTransition, Message, NotFound


class VerifyError(ChinhdanhError):
    """Base of the public side's errors."""


class ValidationError(VerifyError, Invalid):
    """A field, a form or an argument that is not what it must be."""


class ReportInputError(ValidationError):
    """A report refused at the edge. ``code`` and ``field`` name the first problem;
    ``errors`` holds a message for every bad field (the form shows them all)."""

    def __init__(self, errors: Mapping[str, tuple[str, Message]], *, status: int = 400) -> None:
        first_field, (code, message) = next(iter(errors.items()))
        super().__init__(message.id, field=first_field, params=message.params, code=code, status=status)
        self.errors = {name: msg for name, (_code, msg) in errors.items()}


class SpamError(ValidationError, code="spam_suspected"):
    """A report whose hidden field a person never fills was filled: a bot."""


class EvidenceError(ValidationError, code="invalid_file"):
    """An evidence file refused; ``code`` says why (stable), ``index`` which file."""

    def __init__(
        self,
        code: str,
        message: Message,
        *,
        status: int = 400,
        index: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(
            message.id, field="evidence", params=message.params, code=code, status=status, retry_after=retry_after
        )
        self.index = index


class NotFoundError(VerifyError, NotFound):
    """No report, or no file of it, has that reference."""


class WithdrawnError(VerifyError, code="withdrawn", status=410):
    """A public warning that the Centre has withdrawn."""


class ConflictError(VerifyError, Conflict):
    """Someone else changed it meanwhile."""


class TransitionError(VerifyError, InvalidTransition):
    """A status change the lifecycle table does not allow."""
