"""Credential services: issue a signed staff credential, suspend, reinstate, revoke.

The status-list entry of a credential is its *effective* status: revoked when the
credential is revoked or the person has departed, suspended when either is
suspended, else valid. An assignment also stands on its holder's staff card: while
the holder has cards but none of them valid (suspended, or revoked without a
replacement), the assignment's entry says suspended. Entries are re-written in the
caller's transaction whenever the credential, its holder or the holder's card
changes, so the server and the offline client (which reads the status list) agree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from keys.jose import b64url_encode
from keys.service import sign_with_active
from keys.statuslist import EntryStatus
from registry import audit, statuslists
from registry.errors import N_, NotFoundError, TransitionError, ValidationError
from registry.models import (
    CREDENTIAL_TRANSITIONS,
    Credential,
    CredentialKind,
    CredentialStatus,
    Staff,
    StaffStatus,
)
from registry.normalize import clean_text
from registry.staff import get_staff

STAFF_TYP = "staff-credential+jwt"
ASSIGNMENT_TYP = "assignment+jwt"
TYP_BY_KIND = {CredentialKind.STAFF: STAFF_TYP, CredentialKind.ASSIGNMENT: ASSIGNMENT_TYP}
JTI_BYTES = 12  # 96 random bits: unguessable, and short for the QR code
DEFAULT_DAYS = 365
MAX_DAYS = 5 * 365
MAX_REASON = 500
SUPERSEDED = "superseded"


def verification_url(base_url: str, token: str) -> str:
    """What the QR code holds: any phone camera opens the verdict page."""
    return f"{base_url}/v/{token}"


def effective_status(
    credential_status: CredentialStatus, staff_status: StaffStatus, *, card_blocks: bool = False
) -> EntryStatus:
    """``card_blocks``: for an assignment, its holder has no valid staff card."""
    if credential_status is CredentialStatus.REVOKED or staff_status is StaffStatus.DEPARTED:
        return EntryStatus.REVOKED
    if credential_status is CredentialStatus.SUSPENDED or staff_status is StaffStatus.SUSPENDED or card_blocks:
        return EntryStatus.SUSPENDED
    return EntryStatus.VALID


def cards_block(card_statuses: Iterable[CredentialStatus]) -> bool:
    """True when a holder has staff cards and none of them is valid. Issuing a card
    revokes the earlier ones, so at most one is not revoked. No card at all blocks
    nothing: the holder's own status still counts."""
    statuses = set(card_statuses)
    return bool(statuses) and CredentialStatus.VALID not in statuses


def holder_cards_block(session: Session, staff: Staff) -> bool:
    return cards_block(
        session.scalars(
            select(Credential.status).where(Credential.staff_id == staff.id, Credential.kind == CredentialKind.STAFF)
        )
    )


def _write_entry(
    session: Session, credential: Credential, staff: Staff, now: datetime, *, card_blocks: bool | None = None
) -> None:
    if credential.kind is CredentialKind.ASSIGNMENT and card_blocks is None:
        card_blocks = holder_cards_block(session, staff)
    statuslists.set_entry(
        session,
        credential.status_list_id,
        credential.status_index,
        effective_status(credential.status, staff.status, card_blocks=bool(card_blocks)),
        now=now,
    )


def sync_status_entries(session: Session, staff: Staff, *, now: datetime, kind: CredentialKind | None = None) -> None:
    """Re-write the entries of every not-revoked credential of ``staff`` (of ``kind``
    only, when given: a card's change touches the holder's assignments)."""
    session.flush()
    query = select(Credential).where(Credential.staff_id == staff.id, Credential.status != CredentialStatus.REVOKED)
    if kind is not None:
        query = query.where(Credential.kind == kind)
    found = list(session.scalars(query))
    if not found:
        return
    blocks = holder_cards_block(session, staff)
    for credential in found:
        _write_entry(session, credential, staff, now, card_blocks=blocks)


def sign_credential(
    session: Session,
    master: MasterKey,
    *,
    staff: Staff,
    kind: CredentialKind,
    base_url: str,
    now: datetime,
    expires_at: datetime,
    not_before: datetime | None,
    actor: str,
    extra_claims: dict[str, Any] | None = None,
) -> Credential:
    """Allocate a status entry, sign the token and store the credential row.
    Shared by staff credentials and assignments (which add their own claims)."""
    list_id, index = statuslists.allocate(session)
    jti = b64url_encode(os.urandom(JTI_BYTES))
    claims: dict[str, Any] = {
        "iss": base_url,
        "sub": staff.code,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    if not_before is not None:
        claims["nbf"] = int(not_before.timestamp())
    claims["name"] = staff.name
    claims.update(extra_claims or {})
    claims["status"] = {"status_list": {"idx": index, "uri": statuslists.status_list_uri(base_url, list_id)}}
    token, key = sign_with_active(session, master, typ=TYP_BY_KIND[kind], claims=claims)
    credential = Credential(
        id=jti,
        kind=kind,
        staff_id=staff.id,
        key_id=key.id,
        status=CredentialStatus.VALID,
        status_list_id=list_id,
        status_index=index,
        issued_at=now,
        not_before=not_before,
        expires_at=expires_at,
        token=token,
        issued_by=actor,
    )
    session.add(credential)
    session.flush()
    return credential


def issue_credential(
    session: Session,
    master: MasterKey,
    *,
    staff_code: str,
    base_url: str,
    now: datetime,
    actor: str,
    days: int = DEFAULT_DAYS,
) -> Credential:
    """Issue a staff credential valid for ``days``; the holder's previous credentials
    are revoked as ``superseded``. Raise NotFoundError, TransitionError (holder not
    active), ValidationError (days) or keys' NoActiveKeyError."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(N_("days must be between 1 and {max}"), field="days", params={"max": MAX_DAYS})
    staff = get_staff(session, staff_code)
    if staff.status is not StaffStatus.ACTIVE:
        raise TransitionError(
            N_("staff {code} is {status}; no credential can be issued"),
            params={"code": staff.code, "status": staff.status.value},
        )
    for previous in session.scalars(
        select(Credential).where(
            Credential.staff_id == staff.id,
            Credential.kind == CredentialKind.STAFF,
            Credential.status != CredentialStatus.REVOKED,
        )
    ):
        _set_status(
            session, previous, CredentialStatus.REVOKED, actor=actor, now=now, reason=SUPERSEDED, sync_holder=False
        )
    now = now.replace(microsecond=0)
    credential = sign_credential(
        session,
        master,
        staff=staff,
        kind=CredentialKind.STAFF,
        base_url=base_url,
        now=now,
        expires_at=now + timedelta(days=days),
        not_before=None,
        actor=actor,
    )
    # the new card's entry is fresh (valid); the holder's assignments stand on it again
    sync_status_entries(session, staff, now=now, kind=CredentialKind.ASSIGNMENT)
    audit.append(
        session,
        actor=actor,
        action="credential.issue",
        target=credential.id,
        details={"staff": staff.code, "expires_at": credential.expires_at.isoformat(), "kid": credential.key.kid},
        now=now,
    )
    return credential


def get_credential(session: Session, credential_id: str) -> Credential:
    credential = session.get(Credential, credential_id.strip())
    if credential is None:
        raise NotFoundError(N_("no credential {id}"), field="id", params={"id": credential_id})
    return credential


def _set_status(
    session: Session,
    credential: Credential,
    to: CredentialStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None,
    sync_holder: bool = True,
) -> None:
    """``sync_holder=False``: the caller re-writes the holder's assignments once itself."""
    if to not in CREDENTIAL_TRANSITIONS[credential.status]:
        raise TransitionError(
            N_("credential {id} is {status}; cannot become {to}"),
            params={"id": credential.id, "status": credential.status.value, "to": to.value},
        )
    previous = credential.status
    credential.status = to
    credential.status_reason = clean_text(reason, field="reason", max_len=MAX_REASON) if reason else None
    session.flush()
    _write_entry(session, credential, credential.staff, now)
    if sync_holder and credential.kind is CredentialKind.STAFF:  # the holder's assignments stand on their card
        sync_status_entries(session, credential.staff, now=now, kind=CredentialKind.ASSIGNMENT)
    audit.append(
        session,
        actor=actor,
        action=f"{_NOUN[credential.kind]}.{_VERB[to]}",
        target=credential.id,
        details={"from": previous.value, "reason": credential.status_reason, "staff": credential.staff.code},
        now=now,
    )


_NOUN = {CredentialKind.STAFF: "credential", CredentialKind.ASSIGNMENT: "assignment"}
_VERB = {CredentialStatus.VALID: "reinstate", CredentialStatus.SUSPENDED: "suspend", CredentialStatus.REVOKED: "revoke"}


def change_status(
    session: Session,
    credential_id: str,
    to: CredentialStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    kind: CredentialKind | None = None,
) -> Credential:
    """Suspend, reinstate or revoke; raise NotFoundError or TransitionError."""
    credential = get_credential(session, credential_id)
    if kind is not None and credential.kind is not kind:
        raise NotFoundError(N_("no {kind} {id}"), field="id", params={"kind": kind.value, "id": credential_id})
    _set_status(session, credential, to, actor=actor, now=now, reason=reason)
    return credential


def list_credentials(
    session: Session, *, staff_code: str | None = None, kind: CredentialKind | None = None
) -> list[Credential]:
    query = select(Credential).join(Staff).order_by(Credential.issued_at.desc())
    if staff_code:
        query = query.where(Staff.code == staff_code.strip().upper())
    if kind is not None:
        query = query.where(Credential.kind == kind)
    return list(session.scalars(query))
