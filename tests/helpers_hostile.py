"""Hostile input for the no-5xx tests: genuine tokens to edit and ways to edit them,
a check that an answer has the shape the served OpenAPI document gives it, the tally
a fuzz run keeps (the ``fuzz_tally`` fixture hands it to conftest.py's summary), and
the hypothesis settings and JSON strategies the property tests share."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jsonschema_rs
from factories import BASE_URL, add_person, issue
from helpers_assignments import app_now, assign
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from keys import jose
from keys import service as key_service
from keys.crypto import MasterKey
from verify.core.verdicts import Verdict

JSON = {"Accept": "application/json"}
VERDICTS = frozenset(v.value for v in Verdict)
DATA_VERDICT = re.compile(r'data-verdict="([a-z_]+)"')
NESTED_DEEP = b"[" * 5000 + b"]" * 5000  # past the interpreter's recursion limit of 1000
FUZZ_COUNTS = "fuzz_counts"  # the user property conftest.py collects from every worker


@dataclass(frozen=True)
class Genuine:
    """A staff card and an assignment, both valid now, and the key that signed them."""

    staff: str
    assignment: str
    private: Any  # the service's signing key (joserfc OKPKey)
    kid: str


def genuine(session: Session, master: MasterKey) -> Genuine:
    """Issue them (needs the ``signing_key`` fixture) at the real time, as HTTP checks it."""
    add_person(session)
    card = issue(session, master, now=app_now())
    letter = assign(session, master)
    private = key_service.private_key(card.key, master)
    return Genuine(staff=card.token, assignment=letter.credential.token, private=private, kid=card.key.kid)


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    head, payload, signature = token.split(".")
    return json.loads(jose.b64url_decode(head)), json.loads(jose.b64url_decode(payload)), signature


def segment(value: Any) -> str:
    """A JSON value as a token segment, escaped as ``json.dumps`` escapes by default
    (so a lone surrogate travels as ``\\ud800``)."""
    return jose.b64url_encode(json.dumps(value).encode("ascii"))


def forge(header: Any, claims: Any, signature: str) -> str:
    """Header and claims re-encoded, the signature kept: never re-signed."""
    return f"{segment(header)}.{segment(claims)}.{signature}"


def sign_raw(header: Any, claims: Any, private: Any) -> str:
    """Signed with ``private`` whatever the header says (``jose.sign`` insists on
    alg EdDSA): a signature that verifies over any JSON at all."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = private.private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{jose.b64url_encode(signature)}"


def verdict_path(token: str) -> str:
    return "/v/" + quote(token, safe="")


# ------------------------------------------------------------------ the documented shape


class Documented:
    """Checks answers against the OpenAPI document the service serves."""

    def __init__(self, client: Any) -> None:
        self.doc = client.get("/api/v1/openapi.json").json
        self._validators: dict[str, Any] = {}

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
            root["components"] = self.doc["components"]
            self._validators[key] = jsonschema_rs.validator_for(root)
        return self._validators[key]

    def check(self, path: str, method: str, resp: TestResponse) -> Any:
        """Assert ``resp`` is a documented answer of ``method path`` (an OpenAPI path
        such as ``/v/{token}``) and never a 5xx; return its JSON, or for a verdict
        page the verdict word."""
        assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
        responses = self.doc["paths"][path][method]["responses"]
        assert str(resp.status_code) in responses, (path, method, resp.status_code, resp.get_data(as_text=True)[:300])
        content = responses[str(resp.status_code)].get("content", {})
        if resp.mimetype == "application/json":
            body: Any = resp.json
            schema = content.get("application/json", {}).get("schema") or {"$ref": "#/components/schemas/Error"}
            self._validator(schema).validate(body)
            if resp.status_code >= 400:
                assert body["error"]["code"] and body["error"]["message"]
            return body
        if resp.mimetype != "text/html":  # a token, a photo: as documented
            assert resp.mimetype in content, (path, method, resp.status_code, resp.mimetype)
            return resp.get_data()
        assert "text/html" in content or resp.status_code >= 400, (path, method, resp.status_code)
        html = resp.get_data(as_text=True)
        if path == "/v/{token}" and resp.status_code == 200:
            found = DATA_VERDICT.findall(html)
            assert found and found[0] in VERDICTS, html[:500]
            return found[0]
        return html


def verdict_of(answer: Any) -> str:
    """The verdict word of a checked answer (JSON or page)."""
    return answer if isinstance(answer, str) else answer["verdict"]


# ------------------------------------------------------------------ counts for CI


@dataclass
class Tally:
    """What a run tried and got; ``line`` is what CI prints."""

    run: str
    tried: int = 0
    valid: int = 0
    server_errors: int = 0
    crashes: int = 0  # the client raising outside its ClientError family
    undecided: int = 0  # the client's ClientError: "could not decide", exit code 2
    apart: int = 0  # inputs that may rightly be valid, counted apart, never in ``tried``
    apart_what: str = "genuine inputs counted apart"
    verdicts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(what)

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "tried": self.tried,
            "valid": self.valid,
            "5xx": self.server_errors,
            "crashes": self.crashes,
            "undecided": self.undecided,
            "apart": self.apart,
            "apart_what": self.apart_what,
            "verdicts": dict(sorted(self.verdicts.items())),
        }


def summary_line(counts: dict[str, Any]) -> str:
    """``mutation run (server): 10000 tried, 0 valid, 0 5xx``; the client's line
    counts crashes (and answers it could not decide) instead of 5xx."""
    line = f"{counts['run']}: {counts['tried']} tried, {counts['valid']} valid, "
    if "client" in counts["run"]:
        line += f"{counts['crashes']} crashes ({counts['undecided']} could not decide)"
    else:
        line += f"{counts['5xx']} 5xx"
    if counts.get("apart"):
        line += f"; {counts['apart']} {counts['apart_what']}"
    return line


# ------------------------------------------------------------------ hypothesis strategies

FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**32, 2**32 + 1, 2**53 + 1, 253402300800, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=24),
    st.sampled_from(["EdDSA", "none", "HS256", "staff-credential+jwt", "assignment+jwt", BASE_URL, "\x00"]),
)
json_values = st.one_of(
    st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=12,
    ),
    st.integers(min_value=0, max_value=40).map(nested),  # around the parser's depth limits
)
ANY_TEXT = st.text(max_size=300)  # every code point but surrogates, which no URL or form can carry
