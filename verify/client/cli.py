"""``python -m verify``: the offline verifier's command line.

    python -m verify sync [--server URL] (--trust THUMBPRINT | --tofu) [--json] [--lang vi|en]
    python -m verify CHECK [--server URL] [--offline] [--allow-stale] [--agency A] [--json] [--lang vi|en]

Exit codes: 0 valid, 1 any other verdict, 2 could not decide (no data, stale data,
network or trust failure, bad arguments). Errors are messages, never tracebacks:
whatever the input, ``--json`` prints its one object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO
from zoneinfo import ZoneInfo

from keys.phones import display_phone
from verify.callback import shows_own_contacts
from verify.client.errors import ClientError, InternalError, NoServerError
from verify.client.http import DEFAULT_RETRIES
from verify.client.i18n import LANGUAGES, choose_lang, translator
from verify.client.results import SyncReport, VerificationResult
from verify.client.verifier import Verifier
from verify.client.words import (
    EXPLANATIONS,
    HEADLINES,
    LABEL_CENTRE_CONTACTS,
    LABEL_COULD_NOT_DECIDE,
    LABEL_DOCUMENT,
    LABEL_FOREIGN_SITE,
    LABEL_HOLDER,
    LABEL_OFFICIAL_EMAIL,
    LABEL_OFFICIAL_PHONE,
    LABEL_PURPOSE,
    LABEL_SENT_TO,
    LABEL_SERVER,
    LABEL_STAFF_STATUS,
    LABEL_TITLE,
    LABEL_UNIT,
    LABEL_VALID_FROM,
    LABEL_VALID_UNTIL,
    LABEL_VERDICT,
    OWN_CONTACTS_WITHHELD,
    STAFF_STATUS,
    WARNINGS,
    WHAT,
)

EXIT_VALID = 0
EXIT_NOT_VALID = 1
EXIT_UNDECIDED = 2
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
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


def build_parsers(_: Callable[[str], str]) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The parser of ``CHECK`` and the parser of ``sync``, worded in one language."""
    epilog = _(
        "Commands:\n"
        "  python -m verify sync [--server URL] (--trust THUMBPRINT | --tofu)\n"
        "      download and check the keys, status lists and roster\n"
        "  python -m verify CHECK [--offline] [--allow-stale] [--agency A]\n"
        "      verify a credential\n\n"
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
    return check, sync


def _is_sync(argv: Sequence[str]) -> tuple[bool, list[str]]:
    """Whether the first positional argument is ``sync``; the arguments without it."""
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
        if arg == "sync":
            return True, [*argv[:i], *argv[i + 1 :]]
        return False, list(argv)
    return False, list(argv)


def _local(value: str | datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Viet Nam time."""
    if value is None:
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def _age(_: Callable[[str], str], then: datetime | None, now: datetime) -> str:
    if then is None:
        return "-"
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return _("{n} minutes ago").format(n=minutes)
    if minutes < 48 * 60:
        return _("{n} hours ago").format(n=minutes // 60)
    return _("{n} days ago").format(n=minutes // (24 * 60))


def error_message(_: Callable[[str], str], exc: ClientError) -> str:
    details = {k: (_(v) if isinstance(v, str) and v in WHAT else v) for k, v in exc.details.items()}
    for name in ("expired", "signed"):
        if isinstance(details.get(name), str):
            details[name] = _local(str(details[name]))
    return _(exc.template).format(**details)


def _say(text: str, out: TextIO) -> None:
    """Print ``text`` even where the stream cannot encode all of it: a lone surrogate
    from an undecodable argument (a file name, a host in a URL), or Vietnamese on a
    console in another code page, is shown escaped rather than stopping the answer."""
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except LookupError:
        encoding = "utf-8"
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    except UnicodeEncodeError:
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    print(text, file=out)


def _say_json(value: dict[str, Any], out: TextIO) -> None:
    """Print ``value`` as one JSON object, in plain UTF-8 where the stream takes it,
    else with \\u escapes (which also carry a lone surrogate intact)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode(getattr(out, "encoding", None) or "utf-8")
    except (LookupError, UnicodeEncodeError):
        text = json.dumps(value)
    print(text, file=out)


def _print_result(_: Callable[[str], str], result: VerificationResult, out: TextIO) -> None:
    lines = [
        _(HEADLINES[result.verdict]),
        _(EXPLANATIONS[result.verdict]).format(host=result.foreign_host, server=result.server),
        f"{_(LABEL_VERDICT)}: {result.verdict.value}",
    ]
    if result.foreign_host is not None:
        lines.append(f"{_(LABEL_FOREIGN_SITE)}: {result.foreign_host}")
    credential = result.credential_json()
    if credential is not None:
        lines.append(f"{_(LABEL_HOLDER)}: {credential['name']} ({credential['subject']})")
        if result.staff is not None:
            card = result.staff
            lines.append(f"{_(LABEL_TITLE)}: {card.title}")
            lines.append(f"{_(LABEL_UNIT)}: {card.unit}")
            lines.append(f"{_(LABEL_STAFF_STATUS)}: {_(STAFF_STATUS.get(card.status, card.status))}")
            # result.staff holds its own contacts only where verify.callback shows them
            if card.phone:
                lines.append(f"{_(LABEL_OFFICIAL_PHONE)}: {display_phone(card.phone)}")
            if card.email:
                lines.append(f"{_(LABEL_OFFICIAL_EMAIL)}: {card.email}")
        kind = _("letter of introduction") if result.kind == "assignment" else _("staff card")
        lines.append(f"{_(LABEL_DOCUMENT)}: {kind}")
        if "agency" in credential:
            lines.append(f"{_(LABEL_SENT_TO)}: {credential['agency']}")
        if "purpose" in credential:
            lines.append(f"{_(LABEL_PURPOSE)}: {credential['purpose']}")
        if credential["not_before"]:
            lines.append(f"{_(LABEL_VALID_FROM)}: {_local(credential['not_before'])}")
        lines.append(f"{_(LABEL_VALID_UNTIL)}: {_local(credential['expires_at'])}")
    lines.extend(_callback_lines(_, result))
    mode = _("online") if result.online else _("offline")
    lines.append(f"{_(LABEL_SERVER)}: {result.server} ({mode})")
    data = result.data
    if data.keyset_fetched_at is not None:
        lines.append(
            _("Keys fetched {age}; status list fetched {list_age}, valid until {until}.").format(
                age=_age(_, data.keyset_fetched_at, result.checked_at),
                list_age=_age(_, data.status_list_fetched_at, result.checked_at),
                until=_local(data.status_list_expires_at),
            )
        )
    if data.stale:
        lines.append(_("WARNING: decided on data past its expiry (--allow-stale)."))
    lines.extend(_(WARNINGS[w]) for w in result.warnings if w in WARNINGS)
    _say("\n".join(lines), out)


def _callback_lines(_: Callable[[str], str], result: VerificationResult) -> list[str]:
    """The Centre's channels to call back on, when the answer gives none of the
    person's own (the verification page's words)."""
    lines = []
    if result.staff is not None and not shows_own_contacts(result.staff, valid=result.valid):
        lines.append(_(OWN_CONTACTS_WITHHELD))
    if result.official_contacts:
        lines.append(f"{_(LABEL_CENTRE_CONTACTS)}:")
        lines.extend(f"  {c.label}: {c.display}" if c.label else f"  {c.display}" for c in result.official_contacts)
    return lines


def _print_sync(_: Callable[[str], str], report: SyncReport, out: TextIO) -> None:
    lines = [
        _("Synced {server}.").format(server=report.server),
        _("Root key: {kid} ({source}).").format(
            kid=report.root_thumbprint,
            source=_("given with --trust") if report.root_source == "trust" else _("pinned on first use"),
        ),
        _("{keys} signing keys, status lists {lists}, {staff} people in the roster.").format(
            keys=report.keys, lists=", ".join(map(str, report.status_lists)) or "-", staff=report.roster_staff
        ),
    ]
    _say("\n".join(lines), out)


def _error_json(exc: ClientError, message: str, server: str | None, now: datetime, command: str) -> dict[str, Any]:
    if command == "sync":
        return {
            "server": server,
            "root": None,
            "keys": None,
            "status_lists": None,
            "roster_staff": None,
            "synced_at": None,
            "warnings": [],
            "error": {"code": exc.code, "message": message},
        }
    return {
        "verdict": None,
        "exit_code": EXIT_UNDECIDED,
        "server": server,
        "mode": None,
        "checked_at": now.isoformat(),
        "kind": None,
        "credential": None,
        "staff": None,
        "official_contacts": [],
        "foreign_host": None,
        "data": None,
        "warnings": [],
        "error": {"code": exc.code, "message": message},
    }


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
    is_sync, rest = _is_sync(args_in)
    # argparse prints help and usage errors to sys.stdout/sys.stderr itself
    with _argparse_language(_), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        check_parser, sync_parser = build_parsers(_)
        parser = sync_parser if is_sync else check_parser
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
    command = "sync" if is_sync else "check"
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
            result: SyncReport | VerificationResult
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
        _say(f"{_(LABEL_COULD_NOT_DECIDE)}: {message}", err)
        if args.json:
            _say_json(_error_json(exc, message, server, clock(), command), out)
        return EXIT_UNDECIDED
    for template, details in verifier.notices:
        _say(_(template).format(**details), err)
    err.flush()  # the warnings first, where a person reads them before the answer
    if args.json:
        _say_json(result.as_json(), out)
    elif isinstance(result, SyncReport):
        _print_sync(_, result, out)
    else:
        _print_result(_, result, out)
    if isinstance(result, SyncReport):
        return EXIT_VALID
    return result.exit_code
