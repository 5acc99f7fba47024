"""The registry's counts on the dashboard: staff at work and staff cards by state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.credentials.models import Credential, CredentialKind, CredentialStatus
from registry.staff.models import Staff, StaffStatus


def active_staff(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Staff.status == StaffStatus.ACTIVE)) or 0)


def staff_cards(session: Session, *, at: datetime) -> dict[str, int]:
    """Staff cards that are valid, expired (valid but past their end at ``at``),
    suspended and revoked."""
    cards = select(func.count()).where(Credential.kind == CredentialKind.STAFF)
    valid = cards.where(Credential.status == CredentialStatus.VALID)
    queries = {
        "valid": valid.where(Credential.expires_at > at),
        "expired": valid.where(Credential.expires_at <= at),
        "suspended": cards.where(Credential.status == CredentialStatus.SUSPENDED),
        "revoked": cards.where(Credential.status == CredentialStatus.REVOKED),
    }
    return {name: int(session.scalar(query) or 0) for name, query in queries.items()}
