"""Why an address that is not official may be imitating the Centre: a host that
looks like an official one (confusable letters, one or two edits, the official name
inside another domain), or the Board's or Centre's name at a free-mail provider."""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from keys.text import fold_name
from registry.channels.models import ChannelKind
from registry.channels.service import FREE_MAIL_DOMAINS, ChannelRecord

# Words impostors put into addresses to look like the Board or the Centre, compared
# after folding (no diacritics, letters and digits only). "tdkt" is "thi đua khen thưởng".
CENTRE_NAME_MARKERS = (
    "tdkt",
    "thiduakhenthuong",
    "banthidua",
    "khenthuong",
    "dienhinhtientien",
    "trungtamthongtin",
)
# Government domains are handed out only to agencies, so a provincial board's
# "btdkt@khanhhoa.gov.vn" uses the words legitimately; only similarity counts there.
GOVERNMENT_SUFFIX = ".gov.vn"
MIN_LABEL_MARKER = 4  # an official host's first label shorter than this is too common to flag
# Characters that render like others in common fonts, folded before comparing hosts.
CONFUSABLES = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "l",
        "ԁ": "d",
        "ո": "n",
        "ս": "u",
    }
)


class WarningCode(StrEnum):
    NAMESAKES = "namesakes"  # a name is no proof: call back on the official number
    STAFF_SUSPENDED = "staff_suspended"
    LOOKALIKE_DOMAIN = "lookalike_domain"  # resembles an official domain but is not one
    USES_CENTRE_NAME = "uses_centre_name"  # the Centre's name at a free-mail provider
    ALSO_REPORTED = "also_reported"  # an official contact that reports also name


@dataclass(frozen=True, slots=True)
class LookupWarning:
    code: WarningCode
    resembles: str | None = None


def _skeleton(host: str) -> str:
    """The host as it looks: Unicode labels decoded, confusable characters folded."""
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):  # an invalid A-label is compared as typed
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    text = unicodedata.normalize("NFKD", ".".join(labels).lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return text.replace("rn", "m").replace("vv", "w").translate(CONFUSABLES)


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (edits and swaps), stopping above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _squash(text: str) -> str:
    return "".join(c for c in fold_name(text) if c.isalnum())


def _official_hosts(channels: list[ChannelRecord]) -> set[str]:
    hosts = set()
    for ch in channels:
        if ch.kind is ChannelKind.DOMAIN:
            hosts.add(ch.value)
        elif ch.kind is ChannelKind.URL:
            hosts.add(ch.value.split("/", 1)[0])
        elif ch.kind is ChannelKind.EMAIL:
            domain = ch.value.rsplit("@", 1)[1]
            if domain not in FREE_MAIL_DOMAINS:
                hosts.add(domain)
    return hosts


def under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def host_warnings(host: str, channels: list[ChannelRecord]) -> list[LookupWarning]:
    """Why ``host`` (not itself official) may be imitating the Centre."""
    official = _official_hosts(channels)
    if any(under(host, domain) for domain in official):
        return []
    seen = _skeleton(host)
    for domain in sorted(official):
        target = _skeleton(domain)
        limit = 1 if len(target) < 8 else 2
        if seen == target or _distance(seen, target, limit) <= limit:
            return [LookupWarning(WarningCode.LOOKALIKE_DOMAIN, resembles=domain)]
        # the official domain's name inside another domain: tdkt.gov.vn.com, tdkt-gov.vn
        head = target.split(".", 1)[0]
        if len(head) >= MIN_LABEL_MARKER and not host.endswith(GOVERNMENT_SUFFIX) and _squash(head) in _squash(seen):
            return [LookupWarning(WarningCode.LOOKALIKE_DOMAIN, resembles=domain)]
    if not host.endswith(GOVERNMENT_SUFFIX):
        squashed = _squash(seen)
        if any(marker.translate(CONFUSABLES) in squashed for marker in CENTRE_NAME_MARKERS):
            closest = min(
                sorted(official), key=lambda d: _distance(seen, _skeleton(d), len(seen) + len(d)), default=None
            )
            return [LookupWarning(WarningCode.LOOKALIKE_DOMAIN, resembles=closest)]
    return []


def email_warnings(email: str, channels: list[ChannelRecord]) -> list[LookupWarning]:
    local, domain = email.rsplit("@", 1)
    if domain in FREE_MAIL_DOMAINS:
        squashed = _squash(local.translate(CONFUSABLES))
        if any(marker.translate(CONFUSABLES) in squashed for marker in CENTRE_NAME_MARKERS):
            return [LookupWarning(WarningCode.USES_CENTRE_NAME)]
        return []
    return host_warnings(domain, channels)
