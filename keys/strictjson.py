"""JSON read from outside, bounded: the strict token parser, the request-body reader
(``registry.platform.forms.json_object``) and the offline client's documents all read with it.

The standard library's parser recurses once per level of nesting, so a few kilobytes
of ``[`` reach the interpreter's recursion limit, and whatever then walks the value
(``jsonify``, a template) may reach it later at a shallower depth. Here the depth is
counted first, without recursion, and text nested deeper than the caller allows is
refused before it is parsed. Strings must be well-formed Unicode (RFC 8259 section
8.2): a lone surrogate escape cannot be encoded back to UTF-8 for a database or a
page. ``NaN`` and ``Infinity`` are not JSON and are refused too.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A JSON string, or the rest of the text when a string is never closed: always a match
# at a quote, so the scan is linear however the quotes and backslashes fall.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JsonInputError(ValueError):
    """Text that is not JSON as we read it. A ValueError, as ``json.JSONDecodeError``
    is, so code that catches the standard library's error catches this too."""


class JsonTooDeepError(JsonInputError):
    """JSON nested deeper than the reader allows."""


def depth(text: str, *, limit: int) -> int:
    """The deepest nesting of arrays and objects in ``text``, counting stops early
    past ``limit`` (then the result is ``limit + 1``). For text that is not JSON the
    count means nothing, but it is bounded and never raises."""
    level = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            level += 1
            if level > limit:
                return limit + 1
            deepest = max(deepest, level)
        else:
            level -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # built once: json.loads(**kw) builds one per call


def loads(data: bytes, *, max_depth: int) -> Any:
    """Parse UTF-8 ``data`` nested at most ``max_depth`` deep. Returns the value;
    raises JsonTooDeepError, or JsonInputError for anything else that is not JSON
    (bad UTF-8, syntax, NaN, a lone surrogate escape, a number of more digits than
    Python converts)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonInputError("not UTF-8") from exc
    opening = text.count("[") + text.count("{")  # no deeper than this: the scan is skipped
    if opening > max_depth and depth(text, limit=max_depth) > max_depth:
        raise JsonTooDeepError(f"nested deeper than {max_depth} levels")
    try:
        value = _DECODER.decode(text)
    except JsonInputError:
        raise
    except ValueError as exc:  # JSONDecodeError, and int() refusing 4,300+ digits
        raise JsonInputError("not JSON") from exc
    if "\\u" in text:  # only an escape can make a lone surrogate out of valid UTF-8
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JsonInputError("a string is not well-formed Unicode") from exc
    return value
