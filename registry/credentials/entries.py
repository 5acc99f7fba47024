"""What a credential's status-list entry says, and keeping it so: its *effective*
status is revoked when the credential is revoked or the person has departed,
suspended when either is suspended, else valid. An assignment also stands on its
holder's staff card: while the holder has cards but none of them valid (suspended,
or revoked without a replacement), the assignment's entry says suspended. Entries are
re-written in the caller's transaction whenever the credential, its holder or the
holder's card changes, so the server and the offline client (which reads the status
list) agree. The staff room calls ``sync_status_entries`` when a person's status
changes; this module needs nothing of it but the person's row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.statuslist import EntryStatus
from registry.credentials import statuslists
from registry.credentials.models import Credential, CredentialKind, CredentialStatus
from registry.staff.models import Staff, StaffStatus


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


def write_entry(
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
        write_entry(session, credential, staff, now, card_blocks=blocks)
