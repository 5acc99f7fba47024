"""Assignments (digital letters of introduction, giấy giới thiệu): the details of a
``Credential`` row of kind ASSIGNMENT, one to one.

The signed token carries only the claims of the public contract (agency, optional
agency domain, purpose); what the printed letter adds, its number and the channels
the staff member will use, lives here. The issuing admin and the validity window are
the credential's own ``issued_by``, ``not_before`` and ``expires_at``.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keys.orm import Base
from registry.credentials.models import Credential


class ContactKind(StrEnum):
    """How the assigned staff member will contact the agency: what the letter lists.
    Not the kinds of the Centre's official channels (``registry.channels``): a letter
    names no domain or web address, and Zalo is no official channel."""

    PHONE = "phone"
    EMAIL = "email"
    ZALO = "zalo"  # Zalo accounts are identified by a phone number


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("letter_year", "letter_seq", name="uq_assignments_letter_number"),)

    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), primary_key=True)
    agency: Mapped[str] = mapped_column(String(200))  # NFC, as signed in the "agency" claim
    agency_domain: Mapped[str | None] = mapped_column(String(253))  # lower case, as signed
    purpose: Mapped[str] = mapped_column(String(200))  # NFC, as signed in the "purpose" claim
    # [{"kind": "phone"|"email"|"zalo", "value": normalised}], in the order given
    channels: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # the letter number "Số: <seq>/GGT-BTĐKT" restarts every calendar year (Viet Nam time)
    letter_year: Mapped[int] = mapped_column(Integer)
    letter_seq: Mapped[int] = mapped_column(Integer)

    credential: Mapped[Credential] = relationship()

    @property
    def issued_by(self) -> str:
        """The admin who issued it: kept once, on the credential."""
        return self.credential.issued_by
