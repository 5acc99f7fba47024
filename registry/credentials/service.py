"""Credential services: sign a credential (staff card or assignment), issue a staff
card, suspend, reinstate, revoke, list. Every change re-writes the credential's
status-list entry (``entries``) in the caller's transaction."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.contract import ASSIGNMENT_TYP, STAFF_TYP, status_list_uri
from keys.crypto import MasterKey
from keys.errors import N_
from keys.jose import b64url_encode
from keys.service import sign_with_active
from registry.audit import service as audit
from registry.credentials import statuslists
from registry.credentials.entries import sync_status_entries, write_entry
from registry.credentials.models import CREDENTIAL_TRANSITIONS, Credential, CredentialKind, CredentialStatus
from registry.errors import NotFoundError, TransitionError, ValidationError, allowed, found
from registry.fields import clean_text
from registry.staff.models import Staff, StaffStatus
from registry.staff.service import get_staff

TYP_BY_KIND = {CredentialKind.STAFF: STAFF_TYP, CredentialKind.ASSIGNMENT: ASSIGNMENT_TYP}
JTI_BYTES = 12  # 96 random bits: unguessable, and short for the QR code
DEFAULT_DAYS = 365
MAX_DAYS = 5 * 365
MAX_REASON = 500
SUPERSEDED = "superseded"


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
    claims["status"] = {"status_list": {"idx": index, "uri": status_list_uri(base_url, list_id)}}
    token, key = sign_with_active(session, master, typ=TYP_BY_KIND[kind], claims=claims)
    credential = Credential(id=jti, kind=kind, staff_id=staff.id, key_id=key.id, token=token, issued_by=actor)
    credential.status, credential.status_list_id, credential.status_index = CredentialStatus.VALID, list_id, index
    credential.issued_at, credential.not_before, credential.expires_at = now, not_before, expires_at
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
    details = {"staff": staff.code, "expires_at": credential.expires_at.isoformat(), "kid": credential.key.kid}
    audit.append(session, actor=actor, action="credential.issue", target=credential.id, details=details, now=now)
    return credential


def get_credential(session: Session, credential_id: str) -> Credential:
    credential = session.get(Credential, credential_id.strip())
    return found(credential, N_("no credential {id}"), field="id", id=credential_id)


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
    message = N_("credential {id} is {status}; cannot become {to}")
    allowed(CREDENTIAL_TRANSITIONS, credential.status, to, message, id=credential.id)
    previous = credential.status
    credential.status = to
    credential.status_reason = clean_text(reason, field="reason", max_len=MAX_REASON) if reason else None
    session.flush()
    write_entry(session, credential, credential.staff, now)
    if sync_holder and credential.kind is CredentialKind.STAFF:  # the holder's assignments stand on their card
        sync_status_entries(session, credential.staff, now=now, kind=CredentialKind.ASSIGNMENT)
    action = f"{_NOUN[credential.kind]}.{_VERB[to]}"
    details = {"from": previous.value, "reason": credential.status_reason, "staff": credential.staff.code}
    audit.append(session, actor=actor, action=action, target=credential.id, details=details, now=now)


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
