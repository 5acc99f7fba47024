"""Issue 11: whatever it is given (a token, a URL, a file, a photo, bytes that are
not text), the client answers a verdict or "could not decide": ``verify()`` raises
only its ClientError family, the command line never prints a traceback, and
``--json`` always prints its one object. An edited token is never valid."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any, Literal

import pytest
import requests
import requests.adapters
import segno
from factories import BASE_URL, NOW, add_person, issue, sign_keys
from helpers_client import flask_fetcher, foreign_key, public_jwk_of, resign, run_cli
from PIL import Image

from keys import jose
from keys import service as key_service
from keys.models import KeyPurpose
from verify.client import ClientError, InputError, NotSyncedError, Verdict, Verifier
from verify.client.cli import main
from verify.client.errors import InvalidResponseError
from verify.client.http import Fetcher

EVIL = "https://xacminh-thiduakhenthuong.vn.evil.example"
FAR_FUTURE = 10**17  # seconds: no calendar holds it


def _claims(token: str) -> dict[str, Any]:
    return dict(json.loads(jose.b64url_decode(token.split(".")[1])))


def _header(token: str) -> dict[str, Any]:
    return dict(json.loads(jose.b64url_decode(token.split(".")[0])))


def _raw(header: dict[str, Any] | str, payload: Any, signature: bytes = bytes(64)) -> str:
    """A token assembled by hand (not signed): any header and payload bytes."""
    head = header if isinstance(header, str) else jose.b64url_encode(json.dumps(header).encode())
    body = payload if isinstance(payload, str) else jose.b64url_encode(json.dumps(payload).encode())
    return f"{head}.{body}.{jose.b64url_encode(signature)}"


@pytest.fixture()
def world(app: Any, session: Any, master: Any, signing_key: Any, tmp_path: Path) -> dict[str, Any]:
    """A synced cache and the tokens the cases need: a valid card, and tokens with
    times out of any calendar signed by our active key, by a key since revoked
    (stolen) and by a foreign key."""
    add_person(session)
    valid = issue(session, master, now=NOW).token
    stolen = key_service.active_key(session)
    stolen_private = key_service.private_key(stolen, master)
    far = {"iat": FAR_FUTURE, "exp": FAR_FUTURE + 1}
    by_stolen = resign(valid, stolen_private, stolen.kid, **far)
    key_service.rotate_key(session, master, now=NOW)
    key_service.revoke_key(session, stolen.kid, now=NOW, reason="test: stolen")
    sign_keys(session)
    active = key_service.active_key(session)
    active_private = key_service.private_key(active, master)
    private, kid = foreign_key()
    fetcher, _adapter = flask_fetcher(app, BASE_URL)
    cache = tmp_path / "cache"
    root = key_service.active_key(session, KeyPurpose.ROOT).kid
    Verifier(BASE_URL, clock=lambda: NOW, cache_dir=cache, fetcher=fetcher, trust=root).sync()
    return {
        "valid": resign(valid, active_private, active.kid),
        "cache": cache,
        "fetcher": fetcher,
        "by_stolen_far": by_stolen,
        "by_foreign_far": resign(valid, private, kid, **far),
        "by_us_far_exp": resign(valid, active_private, active.kid, exp=FAR_FUTURE),
    }


def _photo(path: Path, text: str) -> Path:
    segno.make_qr(text, error="m").save(str(path), scale=6, border=4)
    return path


def _jpeg_with_damaged_exif(path: Path, text: str) -> Path:
    """A phone-like JPEG whose EXIF block claims more entries than it holds: Pillow
    warns ("Corrupt EXIF data") and reads on."""
    buf = io.BytesIO()
    segno.make_qr(text, error="m").save(buf, kind="png", scale=6, border=4)
    exif = Image.Exif()
    exif[0x010F] = "Phone"
    exif[0x0112] = 1
    out = io.BytesIO()
    Image.open(buf).convert("RGB").save(out, "JPEG", exif=exif)
    data = bytearray(out.getvalue())
    tiff = data.index(b"Exif\x00\x00") + 6
    order: Literal["little", "big"] = "little" if data[tiff : tiff + 2] == b"II" else "big"
    data[tiff + 8 : tiff + 10] = (200).to_bytes(2, order)
    path.write_bytes(bytes(data))
    return path


def _cases(world: dict[str, Any], tmp: Path) -> list[tuple[str, str, int, str]]:
    """(label, CHECK argument, exit code, verdict or error code); labels as in LABELS."""
    valid = world["valid"]
    head = _header(valid)
    sig = valid.split(".")[2]
    # the last of 86 characters holds 2 bits of the signature and 4 spare ones
    edited_sig = sig[:-1] + sig[-1].translate(str.maketrans("AQgw", "BRhx"))
    noise = tmp / "noise.bin"
    noise.write_bytes(bytes(random.Random(7).randrange(256) for _ in range(20_000)))
    png = _photo(tmp / "card.png", f"{BASE_URL}/v/{valid}")
    truncated = tmp / "truncated.png"
    truncated.write_bytes(png.read_bytes()[:300])
    empty = tmp / "empty.txt"
    empty.write_bytes(b"")
    big_text = tmp / "big.txt"
    big_text.write_text("a" * 100_000)
    (tmp / "a-directory").mkdir()
    return [
        ("typ a list", _raw({**head, "typ": ["staff-credential+jwt"]}, _claims(valid)), 1, "malformed"),
        ("typ an object", _raw({**head, "typ": {"a": 1}}, _claims(valid)), 1, "malformed"),
        ("payload nested 1,500 deep", _raw(head, jose.b64url_encode(b"[" * 1500 + b"]" * 1500)), 1, "malformed"),
        ("header nested 1,500 deep", _raw(jose.b64url_encode(b"[" * 1500), {}), 1, "malformed"),
        ("signature spare bits edited", ".".join([*valid.split(".")[:2], edited_sig]), 1, "malformed"),
        ("times out of range, our key", world["by_us_far_exp"], 1, "malformed"),
        ("times out of range, revoked key", world["by_stolen_far"], 1, "malformed"),
        # an iat no server of ours can have signed (past 2106): not a newer key to sync for
        ("times out of range, foreign key", world["by_foreign_far"], 1, "unknown_key"),
        ("URL that does not parse", f"http://[/v/{valid}", 1, "malformed"),
        ("URL with a bad port", f"https://xacminh.thiduakhenthuong.vn:99999/v/{valid}", 1, "malformed"),
        ("foreign URL", f"{EVIL}/v/{valid}", 1, "foreign_site"),
        ("lone surrogate in the host", "https://evil\udcff.example/v/abc", 1, "foreign_site"),
        ("control characters", "\x1b[31m\x07abc.def.ghi", 1, "malformed"),
        ("a directory", str(tmp / "a-directory"), 1, "malformed"),
        ("random bytes file", str(noise), 2, "bad_input"),
        ("truncated PNG", str(truncated), 2, "bad_input"),
        ("empty file", str(empty), 1, "malformed"),
        ("large text file", str(big_text), 2, "bad_input"),
        (
            "photo with damaged EXIF",
            str(_jpeg_with_damaged_exif(tmp / "exif.jpg", f"{EVIL}/v/{valid}")),
            1,
            "foreign_site",
        ),
        ("photo of the genuine card", str(png), 0, "valid"),
    ]


LABELS = [
    "typ a list",
    "typ an object",
    "payload nested 1,500 deep",
    "header nested 1,500 deep",
    "signature spare bits edited",
    "times out of range, our key",
    "times out of range, revoked key",
    "times out of range, foreign key",
    "URL that does not parse",
    "URL with a bad port",
    "foreign URL",
    "lone surrogate in the host",
    "control characters",
    "a directory",
    "random bytes file",
    "truncated PNG",
    "empty file",
    "large text file",
    "photo with damaged EXIF",
    "photo of the genuine card",
]


@pytest.mark.parametrize("label", LABELS)
def test_the_command_line_answers_every_crafted_input_in_json(world, tmp_path, label):
    cases = {case[0]: case[1:] for case in _cases(world, tmp_path)}
    assert list(cases) == LABELS
    given, code, word = cases[label]
    out, err = io.StringIO(), io.StringIO()
    args = [given, "--server", BASE_URL, "--cache-dir", str(world["cache"]), "--offline", "--json"]
    status = main(args, now=lambda: NOW, environ={}, stdout=out, stderr=err)
    assert status == code, (out.getvalue(), err.getvalue())
    answer = json.loads(out.getvalue())
    assert answer["exit_code"] == code
    if code == 2:
        assert answer["verdict"] is None and answer["error"]["code"] == word, answer
    else:
        assert answer["verdict"] == word and answer["error"] is None, answer
    # and the same in words, in both languages
    for lang in ("en", "vi"):
        out, err = io.StringIO(), io.StringIO()
        assert main([*args[:-1], "--lang", lang], now=lambda: NOW, environ={}, stdout=out, stderr=err) == code, lang
        assert out.getvalue() if code != 2 else err.getvalue()


def test_the_library_raises_only_its_own_errors(world, tmp_path):
    verifier = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=world["cache"], offline=True)
    for label, given, code, word in _cases(world, tmp_path):
        try:
            result = verifier.verify(given)
        except ClientError as exc:
            assert code == 2 and exc.code == word, (label, exc.code)
        else:
            assert (result.exit_code, result.verdict.value) == (code, word), label
    for odd in (123, None, ["a.b.c"], Path("a\x00b.png")):
        with pytest.raises(InputError):
            verifier.verify(odd)  # type: ignore[arg-type]
    assert verifier.verify(bytearray(world["valid"].encode())).verdict is Verdict.VALID
    assert verifier.verify(b"\xff\xfe").verdict is Verdict.MALFORMED


def test_no_spelling_of_the_signature_but_its_own_is_valid(world):
    verifier = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=world["cache"], offline=True)
    valid = world["valid"]
    head, payload, sig = valid.split(".")
    verdicts = {}
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":
        edited = f"{head}.{payload}.{sig[:-1]}{char}"
        verdicts[char] = verifier.verify(edited).verdict
    assert [c for c, v in verdicts.items() if v is Verdict.VALID] == [sig[-1]]
    assert {v for c, v in verdicts.items() if c != sig[-1]} <= {Verdict.MALFORMED, Verdict.BAD_SIGNATURE}


def test_a_random_edit_of_a_token_is_never_valid(world):
    """A thousand random edits (h11d runs ten thousand): a verdict other than valid,
    or a ClientError; never anything else."""
    verifier = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=world["cache"], offline=True)
    token = world["valid"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %\x00é"
    rng = random.Random(11)
    seen: dict[str, int] = {}
    for _ in range(1000):
        chars = list(token)
        for _edit in range(rng.randint(1, 3)):
            i = rng.randrange(len(chars))
            kind = rng.randrange(4)
            if kind == 0:
                chars[i] = rng.choice(alphabet)
            elif kind == 1:
                chars.insert(i, rng.choice(alphabet))
            elif kind == 2 and len(chars) > 1:
                del chars[i]
            else:
                chars[i] = chars[i].swapcase()
        edited = "".join(chars)
        try:
            outcome = verifier.verify(edited).verdict.value
        except ClientError as exc:
            outcome = f"error:{exc.code}"
        if edited.strip() != token:
            assert outcome != "valid", edited
        seen[outcome] = seen.get(outcome, 0) + 1
    assert seen.get("malformed", 0) > 0 and seen.get("bad_signature", 0) > 0


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
def test_the_real_entry_point_with_bytes_no_console_can_show(world, tmp_path):
    common = ["--server", BASE_URL, "--cache-dir", str(world["cache"]), "--offline"]
    # an argument that is not UTF-8 reaches Python as lone surrogates
    missing = run_cli(b"no\xffsuch.png", *common, "--json", "--lang", "en")
    assert missing.returncode == 2, missing.stderr
    assert json.loads(missing.stdout)["error"]["code"] == "bad_input"
    assert "Traceback" not in missing.stderr and "does not exist" in missing.stderr
    foreign = run_cli(b"https://evil\xff.example/v/abc", *common, "--lang", "en")
    assert foreign.returncode == 1 and "Traceback" not in foreign.stderr
    assert foreign.stdout.startswith("FORGED CARD") and "evil\\udcff.example" in foreign.stdout
    # Vietnamese on a console that can only show ASCII
    ascii_console = {"PYTHONIOENCODING": "ascii"}
    said = run_cli(f"{EVIL}/v/abc", *common, "--lang", "vi", env=ascii_console)
    assert said.returncode == 1 and "Traceback" not in said.stderr
    assert said.stdout.startswith("TH\\u1eba GI\\u1ea2")
    said = run_cli(f"{EVIL}/v/abc", *common, "--json", env=ascii_console)
    assert said.returncode == 1 and json.loads(said.stdout)["verdict"] == "foreign_site"
    # a server address that does not parse
    bad = run_cli("abc", "--server", "http://[", "--cache-dir", str(tmp_path), "--json", "--lang", "en")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert json.loads(bad.stdout)["error"]["code"] == "no_server"


class _Answers(requests.adapters.BaseAdapter):
    """A server that answers each path with a fixed body (200), as anyone in the
    middle could."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        super().__init__()
        self.bodies = bodies

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        resp = requests.Response()
        path = str(request.path_url)
        resp.status_code = 200 if path in self.bodies else 404
        resp.raw = io.BytesIO(self.bodies.get(path, b""))
        resp.request = request
        return resp

    def close(self) -> None:
        pass


def _answering(bodies: dict[str, bytes]) -> Fetcher:
    session = requests.Session()
    session.mount(BASE_URL, _Answers(bodies))
    return Fetcher(session=session, retries=0)


NESTED = b"[" * 50_000 + b"]" * 50_000  # past the JSON parser's recursion limit


@pytest.mark.parametrize(
    "bodies",
    [
        {"/api/v1/keyset/root": NESTED},
        {
            "/api/v1/keyset/root": json.dumps(public_jwk_of(foreign_key()[0])).encode(),
            "/api/v1/keyset": f"{jose.b64url_encode(NESTED)}.e30.{jose.b64url_encode(bytes(64))}".encode(),
        },
    ],
    ids=["root key", "key set"],
)
def test_deeply_nested_json_from_the_network_is_an_invalid_response(tmp_path, bodies):
    verifier = Verifier(BASE_URL, clock=lambda: NOW, cache_dir=tmp_path, tofu=True, fetcher=_answering(bodies))
    with pytest.raises(InvalidResponseError):
        verifier.sync()


def test_a_cache_file_of_deeply_nested_json_is_an_empty_cache(world):
    (state_file,) = (world["cache"] / "servers").glob("*.json")
    state_file.write_bytes(NESTED)
    with pytest.raises(NotSyncedError):
        Verifier(BASE_URL, clock=lambda: NOW, cache_dir=world["cache"], offline=True).verify(world["valid"])
