"""``python -m verify receipt FILE|JWS``: a verification receipt checked with the same
trust as a credential: its key must be one that the key set, signed by the pinned
root, lists and has not revoked (``verify.core.receipts`` decides, as the server's
``/r/<receipt>`` page does). Online the key set is refreshed when out of date, and
once more for a key it does not know; ``--offline`` answers from the cache alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from keys import jose
from keys.errors import N_, MalformedTokenError
from verify.client.errors import ClientError, NotSyncedError
from verify.client.inputs import Checkable, as_file, read_text
from verify.client.output import EXIT_NOT_VALID, EXIT_UNDECIDED, EXIT_VALID, local_time, say
from verify.client.results import DataAge, check_json, from_ts
from verify.client.sync import Trusted
from verify.client.verifier import Verifier
from verify.client.words import LABEL_HOLDER, LABEL_SERVER, LABEL_VERDICT
from verify.core.claims import is_timestamp
from verify.core.keyset import TrustedKey
from verify.core.receipts import (
    HEADLINES,
    RECEIPT_TYPS,
    ReceiptStatus,
    check_receipt,
    extract_receipt,
)
from verify.core.texts import HEADLINES as VERDICT_HEADLINES
from verify.core.verdicts import Verdict

# a key revoked, or a key made, since the cached key set could change these answers:
# they are not given on expired data (the others are final whatever its age)
NEEDS_FRESH_KEYS = frozenset({ReceiptStatus.GENUINE, ReceiptStatus.UNKNOWN_KEY})
MAX_RECEIPT_PDF_BYTES = 2 * 1024 * 1024  # a receipt's PDF is about 40 KB (a font subset and a QR)
_PDF_RECEIPT_LINK = re.compile(rb"/URI \((https?://[^()\s]{1,300}/r/[A-Za-z0-9_.-]{1,8192})\)")
LABEL_CHECKED_AT = N_("Checked at")
LABEL_RECEIPT = N_("Receipt")
LABEL_AGENCY = N_("Checked for the agency")
LABEL_CREDENTIAL = N_("Document id")


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    """The answer for one receipt: its status, and its claims only when genuine."""

    status: ReceiptStatus
    server: str
    checked_at: datetime
    online: bool
    claims: dict[str, Any] | None = None
    data: DataAge = field(default_factory=DataAge)

    @property
    def exit_code(self) -> int:
        return EXIT_VALID if self.status is ReceiptStatus.GENUINE else EXIT_NOT_VALID

    def as_json(self) -> dict[str, Any]:
        return {
            **check_json("receipt", self.status.value, self.exit_code, self.server, self.online, self.checked_at),
            "claims": self.claims,
            "data": self.data.as_json(),
            "error": None,
        }


def check(verifier: Verifier, value: Checkable) -> ReceiptResult:
    """Check a receipt (its JWS, its page's URL, its PDF, or a file holding either or
    an image of its QR code). Raises a ClientError subclass when it cannot be decided."""
    now = verifier.clock()
    text = _pdf_link(value) or read_text(value)
    prepared: list[Trusted] = []

    def trusted_now() -> Trusted:
        if not prepared:
            trusted, _refreshed, _synced = verifier._prepare(now)
            prepared.append(trusted)
        return prepared[-1]

    def key_for(kid: str) -> TrustedKey | None:
        trusted = trusted_now()
        key = trusted.keyset.keys.get(kid)
        if key is None and not verifier.offline:
            # a key made since the last refresh: ask once more before saying unknown
            root, _ = verifier._root()
            verifier._refresh_keyset(root, now)
            verifier._save()
            trusted = verifier._trusted() or trusted
            prepared.append(trusted)
            key = trusted.keyset.keys.get(kid)
        return key

    found = check_receipt(text, issuer=verifier.server, key_for=key_for)
    data = DataAge()
    if prepared:
        trusted = prepared[-1]
        if found.status is ReceiptStatus.UNKNOWN_KEY and verifier.offline and _signed_after(text, trusted):
            # perhaps by a key made since our key set: only a sync can tell
            raise NotSyncedError(
                "The receipt was signed after the cached key set: run `python -m verify sync` to learn its key."
            )
        data = DataAge(
            keyset_fetched_at=from_ts(verifier._state.keyset.fetched_at if verifier._state.keyset else None),
            keyset_expires_at=trusted.keyset.expires_at,
        )
        if found.status in NEEDS_FRESH_KEYS:
            data = verifier._freshness(data, now, trusted, None)
    return ReceiptResult(found.status, verifier.server, now, not verifier.offline, found.claims, data)


def _pdf_link(value: Checkable) -> str | None:
    """The receipt's URL in a receipt PDF's link (the QR code is also a link), when
    ``value`` names such a file; None for anything else."""
    path = value if isinstance(value, Path) else as_file(value) if isinstance(value, str) else None
    if path is None:
        return None
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_RECEIPT_PDF_BYTES + 1)
    except (OSError, ValueError):
        return None  # read_text says why
    if not data.startswith(b"%PDF-") or len(data) > MAX_RECEIPT_PDF_BYTES:
        return None
    found = _PDF_RECEIPT_LINK.search(data)
    return found.group(1).decode("ascii") if found else None


def _signed_after(text: str, trusted: Trusted) -> bool:
    """Whether the receipt says it was signed after the cached key set was."""
    try:
        iat = jose.parse_token(extract_receipt(text), typs=RECEIPT_TYPS).claims.get("iat")
    except MalformedTokenError:
        return False
    return is_timestamp(iat) and iat > trusted.keyset.issued_at.timestamp()


def error_json(exc: ClientError, message: str, server: str | None, now: datetime) -> dict[str, Any]:
    return {
        **check_json("receipt", None, EXIT_UNDECIDED, server, None, now),
        "claims": None,
        "data": None,
        "error": {"code": exc.code, "message": message},
    }


def print_receipt(_: Callable[[str], str], result: ReceiptResult, out: TextIO) -> None:
    lines = [_(HEADLINES[result.status])]
    claims = result.claims
    if claims is not None:
        lines.append(f"{_(LABEL_VERDICT)}: {_(VERDICT_HEADLINES[Verdict(claims['verdict'])])}")
        lines.append(f"{_(LABEL_CHECKED_AT)}: {local_time(from_ts(claims['iat']))}")
        if "name" in claims:
            lines.append(f"{_(LABEL_HOLDER)}: {claims['name']} ({claims.get('sub', '-')})")
        if "credential" in claims:
            lines.append(f"{_(LABEL_CREDENTIAL)}: {claims['credential']}")
        if "agency" in claims:
            lines.append(f"{_(LABEL_AGENCY)}: {claims['agency']}")
        lines.append(f"{_(LABEL_RECEIPT)}: {claims['jti']}")
    mode = _("online") if result.online else _("offline")
    lines.append(f"{_(LABEL_SERVER)}: {result.server} ({mode})")
    say("\n".join(lines), out)
