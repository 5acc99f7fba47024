"""Demo data for assignments: one realistic letter of introduction, sending editor
TTTT-002 to the Department of Home Affairs of Khánh Hòa (whose own letter, seed 001,
asks its agencies to send advanced examples to the Board's Special Issue). Needs the
demo staff and keys of ``registry.demo.load_demo``; safe to run again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from registry import assignments
from registry.credentials import verification_url
from registry.models import Credential, CredentialStatus
from registry.models_assignment import Assignment
from registry.staff import get_staff

DEMO_STAFF_CODE = "TTTT-002"
DEMO_AGENCY = "Sở Nội vụ tỉnh Khánh Hòa"
DEMO_AGENCY_DOMAIN = "khanhhoa.gov.vn"
DEMO_PURPOSE = (
    "Phỏng vấn, viết bài giới thiệu điển hình tiên tiến trong phong trào thi đua yêu nước "
    "của tỉnh Khánh Hòa, đăng trên Đặc san Thi đua Khen thưởng"
)
DEMO_DAYS = 21  # three weeks: the interview, the draft and the agency's review


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
    url = verification_url(base_url, current.credential.token)
    return {
        "assignment_id": current.credential_id,
        "letter_number": assignments.letter_number(current),
        "assignment_url": url,
        "letter_url": f"{url}/letter",
        "letter_pdf_url": f"{url}/letter.pdf",
    }
