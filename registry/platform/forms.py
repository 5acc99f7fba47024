"""Bounded readers of what a request carries, each written once: a form field (a
longer value is refused, not cut), the confirmation box, a state word, a number of
days, a page number, a text value of a JSON body, and the JSON body itself. Every
refusal is a ValidationError naming the field (a 400 at the edge)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from keys import strictjson
from keys.errors import N_
from registry.errors import BodyError, BodyTooDeepError, ValidationError
from registry.fields import clean_text

MAX_FIELD = 200
MAX_REASON = 500
MAX_WORD = 24  # the longest state word is "not_impersonation"
MAX_DAYS_INPUT = 8
MAX_PAGE = 10_000
PAGE_SIZE = 50  # rows per page of the console's lists
MAX_JSON_BODY = 64 * 1024  # the longest public body, a report with every field full, fits
MAX_JSON_DEPTH = 16  # every body we read is one flat object; a client's wrapping fits
E = TypeVar("E", bound=StrEnum)


def field(name: str, max_len: int = MAX_FIELD) -> str:
    """A form field, bounded: a longer value is refused, not cut."""
    value = request.form.get(name, "")
    if len(value) > max_len:
        raise ValidationError(
            N_("{field} is longer than {max_len} characters"), field=name, params={"field": name, "max_len": max_len}
        )
    return value


def fields(*names: str, max_len: int = MAX_FIELD) -> dict[str, str]:
    return {name: field(name, max_len) for name in names}


def confirmed() -> None:
    """The confirmation box of a form that changes something for good."""
    if request.form.get("confirm") != "yes":
        raise ValidationError(N_("Tick the confirmation box to go ahead."), field="confirm")


def reason() -> str | None:
    text = clean_text(field("reason", MAX_REASON), field="reason", max_len=MAX_REASON, required=False)
    return text or None


def word(kind: type[E], value: str, *, name: str = "to") -> E:
    """``value`` as a member of the state enum ``kind``; raise ValidationError."""
    try:
        return kind(value[:MAX_WORD])
    except ValueError:
        raise ValidationError(N_("unknown status"), field=name) from None


def state_to(kind: type[E]) -> E:
    """The form's target state (``to``)."""
    return word(kind, field("to", MAX_WORD))


def confirmed_change(kind: type[E]) -> tuple[E, str | None]:
    """A confirmed change of state: the target state (``to``) and the reason given."""
    to = state_to(kind)
    confirmed()
    return to, reason()


def state_filter(kind: type[E]) -> E | None:
    """A list's optional state filter (``?status=``): an unknown word shows everything."""
    raw = request.args.get("status", "")[:MAX_WORD]
    try:
        return kind(raw) if raw else None
    except ValueError:
        return None


def days(default: int) -> int:
    """The form's ``days``, a whole number (its range is the service's rule)."""
    raw = field("days", MAX_DAYS_INPUT).strip() or str(default)
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError(N_("Days must be a whole number."), field="days")
    return int(raw)


def day(name: str) -> date | None:
    """A ``yyyy-mm-dd`` query argument, or None when it is empty."""
    value = request.args.get(name, "").strip()[:10]
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError(N_("Dates are written yyyy-mm-dd."), field=name) from None


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a console list: its number (from 1), size and where it starts."""

    number: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def count(self, total: int) -> int:
        """How many pages ``total`` rows fill (at least one)."""
        return max(1, math.ceil(total / self.size))

    def shown(self, total: int) -> dict[str, int]:
        """What a list's template shows of its pages: this one, how many, how many rows."""
        return {"page": self.number, "pages": self.count(total), "total": total}


def page() -> Page:
    """``?page=``: a number from 1 to MAX_PAGE, else the first page."""
    raw = request.args.get("page", "1")
    return Page(int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1)


def text_value(value: Any, limit: int, name: str) -> str:
    """A value of a JSON body or form that must be text of at most ``limit``
    characters ("" when absent)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("{field} must be text", field=name, params={"field": name})
    if len(value) > limit:
        raise ValidationError(
            "{field} is longer than {limit} characters", field=name, params={"field": name, "limit": limit}
        )
    return value


def json_object(*, max_bytes: int = MAX_JSON_BODY) -> dict[str, Any] | None:
    """The request's JSON body, which must be an object, or None when the request
    does not say it is JSON (its ``Content-Type``). Read bounded:
    raise RequestEntityTooLarge (413) past ``max_bytes``, BodyTooDeepError (400)
    past MAX_JSON_DEPTH levels, BodyError (400) for anything else that is not a
    JSON object. Call it once per request. Flask's ``get_json`` is not used: it lets
    a RecursionError out."""
    if not request.is_json:
        return None
    too_large = RequestEntityTooLarge(f"the JSON body is over {max_bytes // 1024} KiB")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    if request.max_content_length is None or request.max_content_length > max_bytes:
        # bounds a body sent without Content-Length, unless a hook opened the stream first
        request.max_content_length = max_bytes
    data = request.get_data(cache=True)
    if len(data) > max_bytes:
        raise too_large
    try:
        value = strictjson.loads(data, max_depth=MAX_JSON_DEPTH)
    except strictjson.JsonTooDeepError as exc:
        raise BodyTooDeepError(
            N_("the JSON body is nested deeper than {depth} levels"), field="body", params={"depth": MAX_JSON_DEPTH}
        ) from exc
    except strictjson.JsonInputError as exc:
        raise BodyError(N_("the body is not valid JSON (RFC 8259, in UTF-8)"), field="body") from exc
    if not isinstance(value, dict):
        raise BodyError(N_("the body must be a JSON object"), field="body")
    return value
