"""What the verifier answers: the result of one check (``VerificationResult``, with
how fresh its data was) and of one sync (``SyncReport``), and their stable
``--json`` shapes (docs/offline-client.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from verify.client import documents as docs
from verify.core.verdicts import Verdict


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def from_ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def check_json(
    answer: str, value: str | None, exit_code: int, server: str | None, online: bool | None, checked_at: datetime
) -> dict[str, Any]:
    """The head of every check's ``--json`` object, a token's or a receipt's
    (docs/offline-client.md): the answer under its name (``verdict``, ``receipt``;
    null when the client could not decide), the exit code, the server, the mode (null
    when no check was made) and when; the command's own keys follow."""
    mode = None if online is None else "online" if online else "offline"
    return {answer: value, "exit_code": exit_code, "server": server, "mode": mode, "checked_at": checked_at.isoformat()}


@dataclass(frozen=True, slots=True)
class DataAge:
    """How fresh the documents behind an answer were."""

    keyset_fetched_at: datetime | None = None
    keyset_expires_at: datetime | None = None
    status_list: int | None = None
    status_list_fetched_at: datetime | None = None
    status_list_expires_at: datetime | None = None
    roster_fetched_at: datetime | None = None
    stale: bool = False  # decided on expired data because allow_stale was given

    def as_json(self) -> dict[str, Any]:
        return {
            "keyset_fetched_at": _iso(self.keyset_fetched_at),
            "keyset_expires_at": _iso(self.keyset_expires_at),
            "status_list": self.status_list,
            "status_list_fetched_at": _iso(self.status_list_fetched_at),
            "status_list_expires_at": _iso(self.status_list_expires_at),
            "roster_fetched_at": _iso(self.roster_fetched_at),
            "stale": self.stale,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The answer for one token.

    ``verdict`` is one of DESIGN.md's words. ``claims`` are present only when the
    signature verified under a key the pinned root vouches for, and their times
    are within the calendar; ``staff`` is the roster's card for the token's subject,
    when the roster lists it, with its own phone and email only where
    ``verify.core.callback`` shows them (``valid``, active person); ``official_contacts``
    are the Centre's channels to call back on whenever it does not. ``foreign_host``
    names the other site a presented URL points at (verdict ``foreign_site``)."""

    verdict: Verdict
    server: str
    checked_at: datetime
    online: bool
    kind: str | None = None  # "staff" or "assignment"
    claims: dict[str, Any] | None = None
    staff: docs.RosterCard | None = None
    data: DataAge = field(default_factory=DataAge)
    warnings: tuple[str, ...] = ()
    foreign_host: str | None = None
    official_contacts: tuple[docs.OfficialChannel, ...] = ()

    @property
    def valid(self) -> bool:
        return self.verdict is Verdict.VALID

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1

    def credential_json(self) -> dict[str, Any] | None:
        if self.claims is None:
            return None
        c = self.claims

        def moment(name: str) -> str | None:
            # the verifier hands out claims only with times it could read
            return _iso(docs.ts(c[name])) if type(c.get(name)) is int else None

        out: dict[str, Any] = {
            "id": c.get("jti"),
            "kind": self.kind,
            "subject": c.get("sub"),
            "name": c.get("name"),
            "issued_at": moment("iat"),
            "not_before": moment("nbf"),
            "expires_at": moment("exp"),
        }
        for name in ("agency", "agency_domain", "purpose"):
            if name in c:
                out[name] = c[name]
        return out

    def as_json(self) -> dict[str, Any]:
        """The stable ``--json`` shape documented in docs/offline-client.md."""
        return {
            **check_json("verdict", self.verdict.value, self.exit_code, self.server, self.online, self.checked_at),
            "kind": self.kind,
            "credential": self.credential_json(),
            "staff": self.staff.as_json() if self.staff else None,
            "official_contacts": [c.as_json() for c in self.official_contacts],
            "foreign_host": self.foreign_host,
            "data": self.data.as_json(),
            "warnings": list(self.warnings),
            "error": None,
        }


@dataclass(frozen=True, slots=True)
class SyncReport:
    server: str
    root_thumbprint: str
    root_source: str  # "trust" or "tofu"
    newly_pinned: bool  # this sync pinned the root on first use
    keys: int
    status_lists: tuple[int, ...]
    roster_staff: int
    synced_at: datetime
    warnings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "root": {"thumbprint": self.root_thumbprint, "source": self.root_source, "newly_pinned": self.newly_pinned},
            "keys": self.keys,
            "status_lists": list(self.status_lists),
            "roster_staff": self.roster_staff,
            "synced_at": self.synced_at.isoformat(),
            "warnings": list(self.warnings),
            "error": None,
        }
