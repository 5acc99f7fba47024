"""The exception family of ``registry``. ``app.py`` turns them into responses."""

from __future__ import annotations

from collections.abc import Mapping


def N_(template: str) -> str:
    """Marks an error template for the catalog; it is translated where it is shown."""
    return template


class RegistryError(Exception):
    """Base of registry errors; ``code`` is stable, ``status`` the HTTP status."""

    code = "registry_error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, params: Mapping[str, object] | None = None) -> None:
        """``message`` is English; with ``params`` it is a ``str.format`` template
        (marked with ``N_``) that pages show translated (``translated_message``)."""
        self.template = message
        self.params = dict(params or {})
        self.message = message.format(**self.params) if params else message
        super().__init__(self.message)
        self.field = field


class ValidationError(RegistryError):
    code = "invalid_input"


class BodyError(ValidationError):
    """A request body that is not the JSON object the endpoint reads."""

    code = "invalid_json"


class BodyTooDeepError(BodyError):
    code = "json_too_deep"


class NotFoundError(RegistryError):
    code = "not_found"
    status = 404


class ConflictError(RegistryError):
    code = "conflict"
    status = 409


class TransitionError(RegistryError):
    """A status change the lifecycle table does not allow."""

    code = "invalid_transition"
    status = 409


class ImportRowsError(RegistryError):
    """A CSV import with bad rows; ``rows`` maps line number to problems."""

    code = "invalid_import"

    def __init__(self, rows: dict[int, list[str]]) -> None:
        lines = [f"line {n}: {'; '.join(msgs)}" for n, msgs in sorted(rows.items())]
        super().__init__("no row was imported:\n" + "\n".join(lines))
        self.rows = rows
