"""The Centre's official channels: the emails, phones, domains and web addresses an
agency may trust and call back on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keys.orm import Base, UTCDateTime, str_enum, utcnow


class ChannelKind(StrEnum):
    EMAIL = "email"  # case-folded address
    PHONE = "phone"  # E.164
    DOMAIN = "domain"  # lower-case ASCII host name; its subdomains and mailboxes count too
    URL = "url"  # host/path, lower case, no scheme or trailing slash


class OfficialChannel(Base):
    """One official contact of the Centre: a lookup of it answers ``official_channel``."""

    __tablename__ = "official_channels"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_official_channels_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, length=16))
    value: Mapped[str] = mapped_column(String(300))  # the normal form for its kind
    label: Mapped[str] = mapped_column(String(200))  # what it is, shown to officers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
