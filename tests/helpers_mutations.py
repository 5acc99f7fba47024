"""Single edits of genuine tokens for the mutation run (tests/test_fuzz_mutations.py)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from helpers_client import foreign_key
from helpers_hostile import Genuine, sign_raw, split

from keys import jose

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
BYTE_EDITS = ("flip", "replace", "insert", "delete")
FIELD_EDITS = ("field", "foreign_key", "foreign_kid")
NEW_MEMBERS = ("jku", "x5u", "jwk", "crit", "b64", "zip", "cty", "aud", "extra")
STATUS_PATHS = (("status", "status_list", "idx"), ("status", "status_list", "uri"), ("status", "status_list"))


@dataclass(frozen=True, slots=True)
class Mutant:
    kind: str  # one of BYTE_EDITS or FIELD_EDITS
    source: str  # "staff" or "assignment"
    token: str
    equivalent: bool  # the same token once surrounding whitespace is stripped


# ------------------------------------------------------------------ the edits


def _byte_edit(rng: random.Random, token: str, kind: str) -> str:
    def some_byte() -> str:
        # half from the token's own alphabet, to get past the first checks of the parser
        return rng.choice(B64URL + ".") if rng.random() < 0.5 else chr(rng.randrange(256))

    at = rng.randrange(len(token) + (kind == "insert"))
    if kind == "flip":
        return token[:at] + chr(ord(token[at]) ^ (1 << rng.randrange(8))) + token[at + 1 :]
    if kind == "replace":
        return token[:at] + some_byte() + token[at + 1 :]
    if kind == "insert":
        return token[:at] + some_byte() + token[at:]
    return token[:at] + token[at + 1 :]


def _values(old: Any, others: list[Any]) -> list[Any]:
    """Replacements for a member whose value is ``old``: every JSON type, the edges of
    integers and times, look-alike text, and values taken from the other token."""
    values: list[Any] = [None, True, False, 0, 1, -1, 2**31, 2**53 + 1, 10**30, 1.5, -0.0, 1e308]
    values += ["", " ", "x", "\x00", "\ud800", "Nguyễn Văn Đức", [], {}, [old], {"x": old}]
    values += ["EdDSA", "none", "HS256", "JWT", "staff-credential+jwt", "assignment+jwt", "statuslist+jwt"]
    values += ["https://evil.example"]
    if type(old) is int:
        values += [old + 1, old - 1, old + 10 * 365 * 86400, str(old), float(old), -old]
    if isinstance(old, str):
        values += [old + "x", old[:-1], old.upper(), f" {old}", old + "\x00", old.replace("-", "+")]
    return values + others


def _edit_member(rng: random.Random, doc: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` with one member (perhaps nested) set, removed or added."""
    doc = json.loads(json.dumps(doc))
    paths: list[tuple[str, ...]] = [(k,) for k in [*doc, *NEW_MEMBERS]]
    if isinstance(doc.get("status"), dict):
        paths += list(STATUS_PATHS)
    path = rng.choice(paths)
    parent = doc
    for name in path[:-1]:
        parent = parent[name]
    old = parent.get(path[-1])
    if old is not None and rng.random() < 0.15:
        del parent[path[-1]]
        return doc
    other_value = other.get(path[-1]) if len(path) == 1 else None
    parent[path[-1]] = rng.choice(_values(old, [other_value] if other_value is not None else []))
    return doc


def _encoded(doc: dict[str, Any]) -> str:
    """As the issuer encodes (compact, raw UTF-8), or with ``\\u`` escapes for a lone
    surrogate, which UTF-8 cannot carry."""
    try:
        return jose.b64url_encode(jose.compact_json(doc))
    except UnicodeEncodeError:
        return jose.b64url_encode(json.dumps(doc, separators=(",", ":")).encode("ascii"))


def _field_edit(rng: random.Random, token: str, other: str, kind: str, foreign: tuple[Any, str]) -> str:
    header, claims, _ = split(token)
    o_header, o_claims, _ = split(other)
    segments = token.split(".")
    if kind == "field" or rng.random() < 0.5:
        if rng.random() < 0.3:
            header = _edit_member(rng, header, o_header)
            segments[0] = _encoded(header)
        else:
            claims = _edit_member(rng, claims, o_claims)
            segments[1] = _encoded(claims)
    if kind == "field":  # the edited part re-encoded as the issuer encodes it, the signature kept
        return ".".join(segments)
    private, kid = foreign
    if kind == "foreign_kid":
        header = {**header, "kid": kid}
    signed: str = sign_raw(header, claims, private)
    return signed


def mutants(g: Genuine, count: int, *, seed: int) -> Iterator[Mutant]:
    """``count`` edits of ``g``'s two tokens, each a different text from the token it
    edits (an edit that gives the token back is drawn again, not counted), plus the
    whitespace-only edits met on the way, flagged ``equivalent``."""
    rng = random.Random(seed)
    foreign = foreign_key()
    sources = {"staff": (g.staff, g.assignment), "assignment": (g.assignment, g.staff)}
    made = 0
    while made < count:
        source = rng.choice(("staff", "assignment"))
        token, other = sources[source]
        kind = rng.choices(BYTE_EDITS + FIELD_EDITS, weights=(15, 20, 15, 10, 25, 8, 7))[0]
        by_byte = kind in BYTE_EDITS
        text = _byte_edit(rng, token, kind) if by_byte else _field_edit(rng, token, other, kind, foreign)
        if text == token:
            continue
        equivalent = text.strip() == token
        made += not equivalent
        yield Mutant(kind=kind, source=source, token=text, equivalent=equivalent)
