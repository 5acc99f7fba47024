"""``python -m verify``: the offline verifier's command line.

    python -m verify sync [--server URL] [--trust THUMBPRINT] [--json] [--lang vi|en]
    python -m verify CHECK [--server URL] [--offline] [--allow-stale] [--agency A] [--json] [--lang vi|en]

Exit codes: 0 valid, 1 any other verdict, 2 could not decide (no data, stale data,
network or trust failure, bad arguments). Errors are messages, never tracebacks.
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

from verify.client.errors import ClientError, NoServerError
from verify.client.http import DEFAULT_RETRIES
from verify.client.i18n import LANGUAGES, choose_lang, translator
from verify.client.verifier import SyncReport, VerificationResult, Verifier, normalize_server
from verify.verdicts import Verdict

EXIT_VALID = 0
EXIT_NOT_VALID = 1
EXIT_UNDECIDED = 2
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HELP_WIDTH = 78  # argparse wraps options to the terminal; the raw description is wrapped here
VALUE_OPTIONS = frozenset({"--server", "--trust", "--cache-dir", "--lang", "--agency", "--timeout", "--retries"})
MAX_TIMEOUT = 300.0
MAX_RETRIES = 5


def N_(message: str) -> str:
    """Marks a msgid for the catalog; translated where it is shown."""
    return message


HEADLINES = {
    Verdict.VALID: N_("VALID: an authorised staff member of the Centre"),
    Verdict.SUSPENDED: N_("SUSPENDED: do not trust this person"),
    Verdict.REVOKED: N_("REVOKED: do not trust this person"),
    Verdict.EXPIRED: N_("EXPIRED: do not trust this credential"),
    Verdict.NOT_YET_VALID: N_("NOT YET VALID: do not trust this credential yet"),
    Verdict.UNKNOWN_KEY: N_("NOT ISSUED BY THE CENTRE: do not trust this person"),
    Verdict.BAD_SIGNATURE: N_("FORGED: do not trust this person"),
    Verdict.MALFORMED: N_("NOT A CREDENTIAL: this code cannot be read"),
    Verdict.KEY_REVOKED: N_("INVALID SIGNING KEY: do not trust this credential"),
    Verdict.WRONG_AGENCY: N_("NOT SENT TO YOUR AGENCY: do not proceed"),
}
# the same msgids as verify/messages.py, so the client and the web pages say the same
EXPLANATIONS = {
    Verdict.VALID: N_(
        "The credential is genuine and in force. Before acting on any request, call back on "
        "the official number shown below, not on a number the person gave you."
    ),
    Verdict.SUSPENDED: N_(
        "The Centre has suspended this credential. The person may not act for the Centre "
        "now. Call the Centre on its official number."
    ),
    Verdict.REVOKED: N_("The Centre has withdrawn this credential. Anyone presenting it is not acting for the Centre."),
    Verdict.EXPIRED: N_(
        "This credential is past its end date. Ask the Centre, on its official number, "
        "whether the person still works for it."
    ),
    Verdict.NOT_YET_VALID: N_("This credential only takes effect later. Until then it proves nothing."),
    Verdict.UNKNOWN_KEY: N_("The credential was not signed with any key of the Centre. It is not genuine."),
    Verdict.BAD_SIGNATURE: N_("The credential has been altered or forged: its signature does not match its content."),
    Verdict.MALFORMED: N_(
        "What was scanned or typed is not a Centre credential. Check that you copied "
        "the whole code, or scan the QR code again."
    ),
    Verdict.KEY_REVOKED: N_(
        "The key that signed this credential has been withdrawn because it may have been "
        "stolen. The credential cannot be trusted."
    ),
    Verdict.WRONG_AGENCY: N_("This letter is genuine, but the Centre sent the person to another agency, not yours."),
}
STAFF_STATUS = {"active": N_("working"), "suspended": N_("suspended"), "departed": N_("no longer works there")}
WHAT = (N_("key set"), N_("status list"), N_("roster"), N_("root key"), N_("key list (JWKS)"))
LABEL_COULD_NOT_DECIDE = N_("Could not decide")
LABEL_DOCUMENT = N_("Document")
LABEL_HOLDER = N_("Holder")
LABEL_OFFICIAL_EMAIL = N_("Official email")
LABEL_OFFICIAL_PHONE = N_("Official phone")
LABEL_PURPOSE = N_("Purpose")
LABEL_SENT_TO = N_("Sent to")
LABEL_SERVER = N_("Server")
LABEL_STAFF_STATUS = N_("Staff status")
LABEL_TITLE = N_("Title")
LABEL_UNIT = N_("Unit")
LABEL_VALID_FROM = N_("Valid from")
LABEL_VALID_UNTIL = N_("Valid until")
LABEL_VERDICT = N_("Verdict")
# argparse's own words, looked up in our catalog while the parser runs
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("options"),
    N_("positional arguments"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
)
WARNINGS = {
    "not_in_roster": N_("The holder is not in the cached roster: sync again to see their title and unit."),
    "jwks_unavailable": N_("The JWKS could not be read; the root-signed key set is used alone."),
    "jwks_mismatch": N_("The JWKS lists a key that the root-signed key set does not vouch for; it is ignored."),
}


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
    parser.add_argument(
        "--trust",
        metavar="THUMBPRINT",
        help=_(
            "thumbprint of the root key, as printed in the Board's official letter (default: "
            "CHINHDANH_TRUST; without one the first sync pins the root it sees)"
        ),
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
        "  python -m verify sync [--server URL] [--trust THUMBPRINT]\n"
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


def _print_result(_: Callable[[str], str], result: VerificationResult, out: TextIO) -> None:
    lines = [
        _(HEADLINES[result.verdict]),
        _(EXPLANATIONS[result.verdict]),
        f"{_(LABEL_VERDICT)}: {result.verdict.value}",
    ]
    credential = result.credential_json()
    if credential is not None:
        lines.append(f"{_(LABEL_HOLDER)}: {credential['name']} ({credential['subject']})")
        if result.staff is not None:
            card = result.staff
            lines.append(f"{_(LABEL_TITLE)}: {card.title}")
            lines.append(f"{_(LABEL_UNIT)}: {card.unit}")
            lines.append(f"{_(LABEL_STAFF_STATUS)}: {_(STAFF_STATUS.get(card.status, card.status))}")
            if card.phone:
                from registry.normalize import display_phone  # the national way: 0912 345 678

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
    print("\n".join(lines), file=out)


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
    print("\n".join(lines), file=out)


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
    try:
        verifier = Verifier(
            normalize_server(server) if server else None,
            trust=args.trust or env.get("CHINHDANH_TRUST") or None,
            cache_dir=args.cache_dir or (Path(env["CHINHDANH_CACHE_DIR"]) if env.get("CHINHDANH_CACHE_DIR") else None),
            offline=bool(getattr(args, "offline", False)),
            allow_stale=bool(getattr(args, "allow_stale", False)),
            timeout=max(0.1, min(args.timeout, MAX_TIMEOUT)),
            retries=args.retries,
            clock=clock,
        )
        server = verifier.server
        result: SyncReport | VerificationResult
        result = verifier.sync() if is_sync else verifier.verify(args.check, agency=args.agency)
    except ClientError as exc:
        message = error_message(_, exc)
        if isinstance(exc, NoServerError):
            server = None
        print(f"{_(LABEL_COULD_NOT_DECIDE)}: {message}", file=err)
        if args.json:
            print(json.dumps(_error_json(exc, message, server, clock(), command), ensure_ascii=False), file=out)
        return EXIT_UNDECIDED
    for template, details in verifier.notices:
        print(_(template).format(**details), file=err)
    err.flush()  # the warnings first, where a person reads them before the answer
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False), file=out)
    elif isinstance(result, SyncReport):
        _print_sync(_, result, out)
    else:
        _print_result(_, result, out)
    if isinstance(result, SyncReport):
        return EXIT_VALID
    return result.exit_code
