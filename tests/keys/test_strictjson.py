"""keys.strictjson: JSON read from outside, bounded in depth, well-formed Unicode."""

from __future__ import annotations

import time

import pytest

from keys import strictjson
from keys.strictjson import JsonInputError, JsonTooDeepError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "]]}}", "\\"[["]', 1),  # brackets inside strings, escaped quotes
        ('{"a": "\\\\"}', 1),  # an escaped backslash closes nothing
        ("[" * 50, 11),  # stops counting past the limit
    ],
)
def test_depth(text: str, expected: int) -> None:
    assert strictjson.depth(text, limit=10) == expected


def test_depth_is_linear_whatever_the_quotes() -> None:
    """A string never closed, made of escaped quotes: a naive scanner restarts at
    every quote and takes quadratic time."""
    started = time.process_time()
    for text in ('"\\"' * 40_000 + "\\", '"' + "\\" * 100_000, "[" * 100_000):
        strictjson.depth(text, limit=16)
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"[" * 17 + b"]" * 17, JsonTooDeepError),
        (b"[" * 100_000, JsonTooDeepError),
        (b"\xff", JsonInputError),
        (b'"\\ud800"', JsonInputError),
        (b'{"\\udc00": 1}', JsonInputError),
        (b"NaN", JsonInputError),
        (b"[Infinity]", JsonInputError),
        (b"1" * 5000, JsonInputError),
        (b"\xef\xbb\xbf{}", JsonInputError),  # a byte-order mark
        (b"{", JsonInputError),
    ],
)
def test_refused(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        strictjson.loads(data, max_depth=16)
    assert issubclass(error, ValueError)  # what callers of json.loads already catch


def test_read() -> None:
    nested: list[object] = []
    for _ in range(15):
        nested = [nested]
    assert strictjson.loads(b"[" * 16 + b"]" * 16, max_depth=16) == nested
    assert strictjson.loads('{"tên": "Nguyễn", "e": "\\ud83d\\ude00"}'.encode(), max_depth=1) == {
        "tên": "Nguyễn",
        "e": "😀",
    }
