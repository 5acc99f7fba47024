"""``python -m verify``: the offline verifier's command line.

    python -m verify sync [--server URL] (--trust THUMBPRINT | --tofu) [--json] [--lang vi|en]
    python -m verify CHECK [--server URL] [--offline] [--allow-stale] [--agency A] [--json] [--lang vi|en]
    python -m verify receipt FILE|JWS [--server URL] [--offline] [--allow-stale] [--json] [--lang vi|en]

Exit codes: 0 valid (a receipt: genuine), 1 any other verdict (a receipt: changed or
forged), 2 could not decide (no data, stale data,
network or trust failure, bad arguments). Errors are messages, never tracebacks:
whatever the input, ``--json`` prints its one object.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TextIO

from verify.client import receipts
from verify.client.errors import ClientError, InternalError, NoServerError
from verify.client.http import DEFAULT_RETRIES
from verify.client.i18n import LANGUAGES, choose_lang, translator
from verify.client.output import (
    EXIT_UNDECIDED,
    EXIT_VALID,
    error_json,
    error_message,
    print_result,
    print_sync,
    say,
    say_json,
)
from verify.client.receipts import ReceiptResult
from verify.client.results import SyncReport, VerificationResult
from verify.client.verifier import Verifier
from verify.client.words import LABEL_COULD_NOT_DECIDE

HELP_WIDTH = 78  # argparse wraps options to the terminal; the raw description is wrapped here
VALUE_OPTIONS = frozenset({"--server", "--trust", "--cache-dir", "--lang", "--agency", "--timeout", "--retries"})
MAX_TIMEOUT = 300.0
MAX_RETRIES = 5


@contextlib.contextmanager
def _argparse_language(_: Callable[[str], str]) -> Iterator[None]:
    """argparse's own words ("usage:", "options", its error messages) in our language."""
    # argparse looks its words up through its module-level ``_`` at call time
    namespace = vars(argparse)
    previous = namespace["_"]
    namespace["_"] = _
    try:
        yield
    finally:
        namespace["_"] = previous


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            EXIT_UNDECIDED,
            vars(argparse)["_"]("%(prog)s: error: %(message)s\n") % {"prog": self.prog, "message": message},
        )


def _common(parser: argparse.ArgumentParser, _: Callable[[str], str]) -> None:
    parser.add_argument("-h", "--help", action="help", help=_("show this help and exit"))
    parser.add_argument(
        "--server",
        metavar="URL",
        help=_("the trusted server (default: CHINHDANH_SERVER, else the server synced last)"),
    )
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument(
        "--trust",
        metavar="THUMBPRINT",
        help=_(
            "thumbprint of the root key, as printed in the Board's official letter (default: "
            "CHINHDANH_TRUST); the first sync needs it, or --tofu"
        ),
    )
    trust.add_argument(
        "--tofu",
        action="store_true",
        help=_("on the first sync without a thumbprint, pin whatever root key the server shows (unchecked)"),
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        type=Path,
        help=_("where the downloaded data is kept (default: CHINHDANH_CACHE_DIR, else the user's cache directory)"),
    )
    parser.add_argument("--timeout", metavar="SECONDS", type=float, default=10.0, help=_("network timeout in seconds"))
    parser.add_argument(
        "--retries",
        metavar="N",
        type=int,
        default=DEFAULT_RETRIES,
        choices=range(MAX_RETRIES + 1),
        help=_("how many times to retry a failed request (0 to 5, default 2)"),
    )
    parser.add_argument("--json", action="store_true", help=_("print exactly one JSON object (see the README)"))
    parser.add_argument("--lang", choices=LANGUAGES, help=_("language of the messages (default: LANG, else vi)"))


def build_parsers(_: Callable[[str], str]) -> dict[str, argparse.ArgumentParser]:
    """The parsers of ``CHECK``, ``sync`` and ``receipt``, worded in one language."""
    epilog = _(
        "Commands:\n"
        "  python -m verify sync [--server URL] (--trust THUMBPRINT | --tofu)\n"
        "      download and check the keys, status lists and roster\n"
        "  python -m verify CHECK [--offline] [--allow-stale] [--agency A]\n"
        "      verify a credential\n"
        "  python -m verify receipt FILE|JWS [--offline]\n"
        "      check a verification receipt (0 genuine, 1 changed or forged)\n\n"
        "Exit codes: 0 valid, 1 not valid (any other verdict), 2 could not decide."
    )
    check = _Parser(
        prog="python -m verify",
        usage=_("python -m verify CHECK [options] | python -m verify sync [options]"),
        description=textwrap.fill(
            _(
                "Verify a credential or letter of introduction of the Information-Communication Centre "
                "with the Centre's public keys, status lists and roster, online or offline."
            ),
            HELP_WIDTH,
        ),
        epilog=epilog,
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "check", metavar="CHECK", nargs="?", help=_("a token, a QR code URL, or an image file of a card")
    )
    _common(check, _)
    check.add_argument("--offline", action="store_true", help=_("never use the network; answer from the cache"))
    check.add_argument(
        "--allow-stale", action="store_true", help=_("decide even if the cached data is past its expiry")
    )
    check.add_argument(
        "--agency",
        metavar="AGENCY",
        help=_("your agency's name or email domain: a letter for another agency is not valid"),
    )
    sync = _Parser(
        prog="python -m verify sync",
        description=_("Download the Centre's key set, status lists and roster, check their signatures and cache them."),
        add_help=False,
    )
    _common(sync, _)
    receipt = _Parser(
        prog="python -m verify receipt",
        description=_("Check a verification receipt with the Centre's keys: exit 0 genuine, 1 changed or forged."),
        add_help=False,
    )
    receipt.add_argument(
        "check", metavar="RECEIPT", help=_("the receipt (JWS), its URL, or a file holding it or its QR code")
    )
    _common(receipt, _)
    receipt.add_argument("--offline", action="store_true", help=_("never use the network; answer from the cache"))
    receipt.add_argument(
        "--allow-stale", action="store_true", help=_("decide even if the cached data is past its expiry")
    )
    return {"check": check, "sync": sync, "receipt": receipt}


COMMANDS = frozenset({"sync", "receipt"})


def _command(argv: Sequence[str]) -> tuple[str, list[str]]:
    """The command named by the first positional argument (``check`` when it names
    none); the arguments without it."""
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in VALUE_OPTIONS:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        if arg in COMMANDS:
            return arg, [*argv[:i], *argv[i + 1 :]]
        return "check", list(argv)
    return "check", list(argv)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command; returns the exit code. Every parameter defaults to the
    process's own (tests pass theirs)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if environ is None else environ
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    lang = choose_lang(args_in, env)
    _ = translator(lang)
    command, rest = _command(args_in)
    is_sync = command == "sync"
    # argparse prints help and usage errors to sys.stdout/sys.stderr itself
    with _argparse_language(_), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        parser = build_parsers(_)[command]
        try:
            args = parser.parse_args(rest)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else EXIT_UNDECIDED
            return code
        if not is_sync and not args.check:
            parser.print_usage(err)
            print(_("Give a token, a QR code URL or an image file to check, or the command sync."), file=err)
            return EXIT_UNDECIDED
    clock = now or (lambda: datetime.now(UTC))
    server = args.server or env.get("CHINHDANH_SERVER") or None
    verifier: Verifier | None = None
    try:
        try:
            verifier = Verifier(
                server,
                trust=args.trust or env.get("CHINHDANH_TRUST") or None,
                tofu=args.tofu,
                cache_dir=args.cache_dir
                or (Path(env["CHINHDANH_CACHE_DIR"]) if env.get("CHINHDANH_CACHE_DIR") else None),
                offline=bool(getattr(args, "offline", False)),
                allow_stale=bool(getattr(args, "allow_stale", False)),
                timeout=max(0.1, min(args.timeout, MAX_TIMEOUT)),
                retries=args.retries,
                clock=clock,
            )
            server = verifier.server
            result: SyncReport | VerificationResult | ReceiptResult
            if command == "receipt":
                result = receipts.check(verifier, args.check)
            else:
                result = verifier.sync() if is_sync else verifier.verify(args.check, agency=args.agency)
        except ClientError:
            raise
        except Exception as exc:
            # the edge of the program: a bug must still leave "could not decide" and the
            # --json object, never a traceback where a script expects an answer
            raise InternalError(
                "An unexpected error stopped the check ({error}). This is a fault of the client: please report it.",
                error=type(exc).__name__,
            ) from exc
    except ClientError as exc:
        message = error_message(_, exc)
        if isinstance(exc, NoServerError):
            server = None
        say(f"{_(LABEL_COULD_NOT_DECIDE)}: {message}", err)
        if args.json and command == "receipt":
            say_json(receipts.error_json(exc, message, server, clock()), out)
        elif args.json:
            say_json(error_json(exc, message, server, clock(), command), out)
        return EXIT_UNDECIDED
    for template, details in verifier.notices:
        say(_(template).format(**details), err)
    err.flush()  # the warnings first, where a person reads them before the answer
    if args.json:
        say_json(result.as_json(), out)
    elif isinstance(result, SyncReport):
        print_sync(_, result, out)
    elif isinstance(result, ReceiptResult):
        receipts.print_receipt(_, result, out)
    else:
        print_result(_, result, out)
    if isinstance(result, SyncReport):
        return EXIT_VALID
    return result.exit_code
