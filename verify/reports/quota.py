"""How many bytes of evidence the public intake accepts: per client network and day,
and in all.

Both are checked in the report's own transaction, after its reference number is
taken: that row lock (``reports.next_reference``) queues concurrent reports on every
instance, so two reports cannot both squeeze under a limit. A refused or failed
report consumes nothing, since its transaction rolls back.

The per-network count lives in the database (several instances serve one site) under
a keyed hash of the network and the day, never the address itself; a day is a day
in Viet Nam. The total is the sum of ``report_files.size``: the stored evidence rows,
wherever their bytes live.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keys.contract import VN_TZ
from keys.errors import N_, Message
from verify.errors import EvidenceError
from verify.reports.models import EvidenceQuota, ReportFile

MB = 1024 * 1024
PER_ADDRESS_SETTING = "EVIDENCE_QUOTA_PER_ADDRESS_MB"
TOTAL_SETTING = "EVIDENCE_QUOTA_TOTAL_MB"
# One subscriber is given a whole IPv6 /64: counting single addresses would let one
# sender rotate through 2**64 of them.
IPV6_PREFIX = 64
KEY_LABEL = b"chinhdanh.evidence-quota\x00"
OVER_NETWORK_QUOTA = "evidence_quota_exceeded"  # 429, with Retry-After
STORAGE_FULL = "evidence_storage_full"  # 413
CODES = (OVER_NETWORK_QUOTA, STORAGE_FULL)


@dataclass(frozen=True, slots=True)
class Quota:
    """What one request may store: ``network`` from ``client_network``, the secret
    that keys its hash, and the two limits in bytes."""

    network: str
    secret: bytes
    per_address_bytes: int
    total_bytes: int


def client_network(address: str) -> str:
    """The unit a sender is counted by: an IPv4 address, or an IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a unix socket, a test client): counted as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def from_config(config: Mapping[str, Any], address: str) -> Quota:
    """The quota of a request from ``address`` under the app's configuration."""
    return Quota(
        network=client_network(address),
        secret=str(config["SECRET_KEY"]).encode(),
        per_address_bytes=int(config[PER_ADDRESS_SETTING]) * MB,
        total_bytes=int(config[TOTAL_SETTING]) * MB,
    )


def network_key(secret: bytes, network: str, day: date) -> str:
    """HMAC-SHA256 of the day and the network: the table cannot be turned back into
    addresses without the secret, and a key means nothing after its day."""
    message = KEY_LABEL + f"{day.isoformat()}|{network}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _megabytes(value: int) -> float:
    """Megabytes to one decimal (a float: the edge writes it the locale's way)."""
    return round(value / MB, 1)


def _refused_for_network(quota: Quota, used: int, now: datetime) -> EvidenceError:
    local = now.astimezone(VN_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=VN_TZ)
    left = max(0, quota.per_address_bytes - used)
    return EvidenceError(
        OVER_NETWORK_QUOTA,
        Message(
            N_(
                "The files were not accepted: files sent from your network are limited to %(limit)s MB a day, "
                "and %(left)s MB are left today. Send the report without the files, or with fewer or smaller "
                "ones; keep the files, the Centre may ask for them."
            ),
            {"limit": _megabytes(quota.per_address_bytes), "left": _megabytes(left)},
        ),
        status=429,
        retry_after=max(1, int((midnight - local).total_seconds())),
    )


def charge(session: Session, quota: Quota, nbytes: int, *, now: datetime) -> None:
    """Count ``nbytes`` of evidence against both limits, or raise EvidenceError
    (``evidence_storage_full``, 413; ``evidence_quota_exceeded``, 429 with
    ``retry_after`` = seconds to midnight in Viet Nam). Flushes, never commits."""
    day = now.astimezone(VN_TZ).date()
    session.execute(delete(EvidenceQuota).where(EvidenceQuota.day < day))
    stored = int(session.scalar(select(func.coalesce(func.sum(ReportFile.size), 0))) or 0)
    if stored + nbytes > quota.total_bytes:
        raise EvidenceError(
            STORAGE_FULL,
            Message(
                N_(
                    "The files were not accepted: the Centre's storage for evidence files is full. "
                    "Send the report without the files and keep them: the Centre may ask for them."
                )
            ),
            status=413,
        )
    key = network_key(quota.secret, quota.network, day)
    while True:
        # a conditional increment, as next_reference: never over the limit, even if
        # another transaction charged the same row meanwhile
        counted = session.execute(
            update(EvidenceQuota)
            .where(EvidenceQuota.key == key, EvidenceQuota.used_bytes + nbytes <= quota.per_address_bytes)
            .values(used_bytes=EvidenceQuota.used_bytes + nbytes)
            .returning(EvidenceQuota.used_bytes)
        ).scalar()
        if counted is not None:
            return
        used = session.scalar(select(EvidenceQuota.used_bytes).where(EvidenceQuota.key == key))
        if used is not None or nbytes > quota.per_address_bytes:
            raise _refused_for_network(quota, used or 0, now)
        try:
            with session.begin_nested():
                session.add(EvidenceQuota(key=key, day=day, used_bytes=nbytes))
            return
        except IntegrityError:
            continue  # a concurrent first report of the day inserted it: take the update path
