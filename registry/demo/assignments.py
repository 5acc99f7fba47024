"""Demo data for assignments: one realistic letter of introduction (``data``). Needs
the demo staff and keys of ``service.load_demo``; safe to run again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.contract import LETTER_PAGE, LETTER_PDF_PAGE, verification_url
from keys.crypto import MasterKey
from registry.assignments import service as assignments
from registry.assignments.models import Assignment
from registry.credentials.models import Credential, CredentialStatus
from registry.demo.data import DEMO_AGENCY, DEMO_AGENCY_DOMAIN, DEMO_DAYS, DEMO_PURPOSE, DEMO_STAFF_CODE
from registry.staff.service import get_staff


def load_demo_assignments(
    session: Session, master: MasterKey, *, base_url: str, now: datetime, actor: str
) -> dict[str, Any]:
    """Issue the demo assignment unless one is still in force; returns its id, letter
    number and URLs. Raise NotFoundError if the demo staff are not loaded yet."""
    staff = get_staff(session, DEMO_STAFF_CODE)
    current = session.scalars(
        select(Assignment)
        .join(Credential, Credential.id == Assignment.credential_id)
        .where(
            Credential.staff_id == staff.id,
            Credential.status == CredentialStatus.VALID,
            Credential.expires_at > now,
            Assignment.agency == DEMO_AGENCY,
        )
    ).first()
    if current is None:
        current = assignments.issue_assignment(
            session,
            master,
            staff_code=DEMO_STAFF_CODE,
            agency=DEMO_AGENCY,
            agency_domain=DEMO_AGENCY_DOMAIN,
            purpose=DEMO_PURPOSE,
            days=DEMO_DAYS,
            base_url=base_url,
            now=now,
            actor=actor,
        )
    token = current.credential.token
    return {
        "assignment_id": current.credential_id,
        "letter_number": assignments.letter_number(current),
        "assignment_url": verification_url(base_url, token),
        "letter_url": verification_url(base_url, token, LETTER_PAGE),
        "letter_pdf_url": verification_url(base_url, token, LETTER_PDF_PAGE),
    }
