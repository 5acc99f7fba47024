"""The mutation run of issue 11: 10,000 single edits of a genuine staff card and a
genuine assignment, through the server's verify API and verdict page and through the
offline client, each counted: how many were tried, came back ``valid`` (must be 0),
answered 5xx (must be 0), or made the client raise outside its ClientError family
(must be 0). CI prints the counts (tests/conftest.py, test-output/mutation-counts.json).

The edits (tests/helpers_mutations.py, seeded, so every run tries the same ones): flip
one bit of one byte, replace one byte, insert one byte, delete one byte, anywhere in
the token (a "byte" is a character of the ASCII token; a replacement is drawn half from
the base64url alphabet and the dot, half from all 256 byte values); change, remove or
add one header or claim member (nested status members included) and re-encode that
part without re-signing; and re-sign the token, one member changed or not, with a
foreign key under our ``kid`` or under the foreign key's own.

Edits that leave the meaning unchanged, and so rightly answer ``valid``, are kept out
of the count: an edit that gives the token back is drawn again, and an edit whose
result differs from the token only by surrounding whitespace (the parser strips it)
is counted apart and must answer ``valid``. Nothing else can keep the meaning: a
signature covers the base64url text of header and payload, not the JSON it decodes
to, and since base64url is decoded in its canonical spelling only, the unused trailing
bits of the signature's last character (16 spellings of one signature to a lenient
decoder) are ``malformed`` here, and counted as tried.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from factories import BASE_URL, NOW
from helpers_client import flask_fetcher
from helpers_hostile import JSON, Documented, Tally, genuine, verdict_of, verdict_path
from helpers_mutations import Mutant, mutants

from verify.client import Verifier
from verify.client.errors import ClientError

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("fast_path_silent")]

MUTATIONS = 10_000
SEED = 11
PAGE_EVERY = 25  # every 25th mutant is also rendered as the HTML verdict page
ONLINE_EVERY = 10  # every 10th also goes through an online client (it may fetch keys)
# An unsigned edit stops at the parser, the key lookup or the signature; a foreign
# signature under our kid at the signature. "foreign_site" once a URL is read as one
# (an inserted '/' can make a token look like host/path).
NOT_SIGNED = frozenset({"malformed", "unknown_key", "bad_signature", "foreign_site"})


@pytest.fixture()
def mutation_set(session: Any, master: Any, signing_key: Any) -> tuple[Any, list[Mutant]]:
    g = genuine(session, master)
    return g, list(mutants(g, MUTATIONS, seed=SEED))


def _named(tally: Tally, side: str) -> Tally:
    tally.run = f"mutation run ({side})"
    tally.apart_what = "whitespace-only edits counted apart, all answered valid"
    return tally


def _count(tally: Tally, mutant: Mutant, verdicts: set[str], expected: frozenset[str]) -> None:
    """Count one edit by what it was answered: a whitespace-only edit apart (it must be
    ``valid``), any other as tried, every verdict among ``expected``."""
    if mutant.equivalent:
        tally.apart += 1
        if verdicts != {"valid"}:
            tally.fail(f"whitespace-only edit answered {verdicts}: {mutant}")
        return
    tally.tried += 1
    tally.verdicts.update(verdicts)
    tally.valid += "valid" in verdicts
    if not verdicts <= expected:
        tally.fail(f"{verdicts} for {mutant}")


def _server_answers(client: Any, mutant: Mutant, index: int) -> list[tuple[str, str, Any]]:
    answers = [
        ("/api/v1/verify", "get", client.get("/api/v1/verify", query_string={"token": mutant.token})),
        ("/api/v1/verify", "post", client.post("/api/v1/verify", json={"token": mutant.token})),
        ("/v/{token}", "get", client.get(verdict_path(mutant.token), headers=JSON)),
    ]
    if index % PAGE_EVERY == 0:
        answers.append(("/v/{token}", "get", client.get(verdict_path(mutant.token))))
    return answers


def test_mutation_run_server(client: Any, mutation_set: tuple[Any, list[Mutant]], fuzz_tally: Tally) -> None:
    _g, edits = mutation_set
    documented = Documented(client)
    tally = _named(fuzz_tally, "server")
    started = time.process_time()
    for index, mutant in enumerate(edits):
        verdicts = set()
        for path, method, resp in _server_answers(client, mutant, index):
            if resp.status_code >= 500:
                tally.server_errors += 1
                tally.fail(f"{resp.status_code} {method} {path} {mutant}")
                continue
            if resp.status_code == 404 and path == "/v/{token}" and "/" in mutant.token:
                verdicts.add("no route")  # a path segment cannot hold a slash
                continue
            try:
                verdicts.add(verdict_of(documented.check(path, method, resp)))
            except (AssertionError, ValueError) as exc:
                tally.fail(f"undocumented answer {method} {path} {mutant}: {exc}")
        _count(tally, mutant, verdicts, NOT_SIGNED | {"no route"})
    print(f"server mutation run: {time.process_time() - started:.1f} s CPU")
    assert tally.tried >= MUTATIONS
    assert tally.valid == 0 and tally.server_errors == 0
    assert tally.failures == []


def test_mutation_run_client(
    app: Any, mutation_set: tuple[Any, list[Mutant]], tmp_path: Any, fuzz_tally: Tally
) -> None:
    """The same edits through ``Verifier.verify`` against a synced cache: offline for
    every edit, online (through the app, no server) for every tenth."""
    _g, edits = mutation_set
    fetcher, _adapter = flask_fetcher(app, BASE_URL)
    Verifier(BASE_URL, clock=lambda: NOW, fetcher=fetcher, cache_dir=tmp_path, tofu=True).sync()
    offline = Verifier(BASE_URL, clock=lambda: NOW, fetcher=fetcher, cache_dir=tmp_path, offline=True)
    online = Verifier(BASE_URL, clock=lambda: NOW, fetcher=fetcher, cache_dir=tmp_path)
    tally = _named(fuzz_tally, "client")
    started = time.process_time()
    for index, mutant in enumerate(edits):
        verdicts = set()
        for verifier in (offline, online) if index % ONLINE_EVERY == 0 else (offline,):
            try:
                verdicts.add(verifier.verify(mutant.token).verdict.value)
            except ClientError:
                tally.undecided += 1
            except Exception as exc:  # anything outside the client's family is a crash
                tally.crashes += 1
                tally.fail(f"{type(exc).__name__}: {exc} for {mutant}")
        _count(tally, mutant, verdicts, NOT_SIGNED)
    print(f"client mutation run: {time.process_time() - started:.1f} s CPU")
    assert tally.tried >= MUTATIONS
    assert tally.valid == 0 and tally.crashes == 0
    assert tally.failures == []
