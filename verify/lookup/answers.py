"""The lookup's and the live-code check's answers as JSON, in the request's
language: what each answer and warning says, and what the printed card shows of each
person (their own contacts only where ``verify.core.callback`` allows). The pages
render these same dictionaries."""

from __future__ import annotations

from typing import Any

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from registry.channels.service import ChannelRecord
from registry.livecode.service import LiveCodeAnswer, LiveCodeResult
from registry.platform.config import base_url
from verify.core.callback import shows_own_contacts
from verify.lookup.hosts import LookupWarning, WarningCode
from verify.lookup.service import Answer, LookupResult
from verify.verification.answers import card_json, channel_json
from verify.warnings.service import WarningRef

LOCKED_UNTIL_FORMAT = "HH:mm dd/MM/yyyy"
ANSWER_HEADLINES = {
    Answer.OFFICIAL_STAFF: _l("OFFICIAL: a staff member of the Centre"),
    Answer.OFFICIAL_CHANNEL: _l("OFFICIAL: a contact channel of the Centre"),
    Answer.REPORTED_IMPOSTOR: _l("REPORTED IMPOSTOR: do not proceed"),
    Answer.UNKNOWN: _l("UNKNOWN: not a Centre staff member or channel"),
}
ANSWER_EXPLANATIONS = {
    Answer.OFFICIAL_STAFF: _l(
        "This matches a staff member of the Centre. Impostors use real names and can fake a "
        "caller's number: before acting, call back on the official number shown below."
    ),
    Answer.OFFICIAL_CHANNEL: _l(
        "This is one of the Centre's official contacts. You can write or call back on it safely."
    ),
    Answer.REPORTED_IMPOSTOR: _l(
        "Agencies have reported this to the Centre as used by someone impersonating its staff, "
        "and the Centre has confirmed it. Do not proceed, and report the contact."
    ),
    Answer.UNKNOWN: _l(
        "This is not a staff member or an official channel of the Centre. Do not proceed, and report it to the Centre."
    ),
}
WARNING_TEXTS = {
    WarningCode.NAMESAKES: _l(
        "A name proves nothing: impostors use the names of real staff. Every staff member with "
        "this name is listed with photo and unit. Call back only on the official number shown, "
        "never on a number the caller gave you."
    ),
    WarningCode.STAFF_SUSPENDED: _l("A staff member listed here is suspended and may not act for the Centre now."),
    WarningCode.LOOKALIKE_DOMAIN: _l(
        "This address imitates an official address of the Centre (%(official)s) but is not one. "
        "It is a common trick of impostors."
    ),
    WarningCode.USES_CENTRE_NAME: _l(
        "This address uses the name of the Board or the Centre at a free email provider that "
        "anyone can sign up to. It is not an official address of the Centre."
    ),
    WarningCode.ALSO_REPORTED: _l("Reports also name this contact: someone may be faking it. Call back to be sure."),
}
LIVE_CODE_EXPLANATIONS = {
    LiveCodeAnswer.VALID: _l(
        "The caller has this staff member's authenticator right now. A code works only once: "
        "if it is read out again, it is refused."
    ),
    LiveCodeAnswer.INVALID: _l(
        "The code does not match, or it was already used. Ask for a fresh code once; if it is "
        "wrong again, end the call and call back on the official number."
    ),
    LiveCodeAnswer.LOCKED: _l(
        "Checks for this staff code are stopped until %(until)s because of repeated wrong codes. "
        "Anyone can cause this, so it proves nothing about the caller: call back on the "
        "official number shown instead."
    ),
    LiveCodeAnswer.UNKNOWN_STAFF: _l("No active staff member of the Centre with a live code has this staff code."),
}
LIVE_CODE_HEADLINES = {
    LiveCodeAnswer.VALID: _l("CORRECT CODE: this is the staff member's current live code"),
    LiveCodeAnswer.INVALID: _l("WRONG CODE: do not trust the caller"),
    LiveCodeAnswer.LOCKED: _l("LOCKED: too many wrong codes for this staff code"),
    LiveCodeAnswer.UNKNOWN_STAFF: _l("UNKNOWN STAFF CODE: do not trust the caller"),
}


def warning_json(w: LookupWarning) -> dict[str, Any]:
    text = WARNING_TEXTS[w.code]
    message = str(text) % {"official": w.resembles or "—"} if w.code is WarningCode.LOOKALIKE_DOMAIN else str(text)
    body: dict[str, Any] = {"code": w.code.value, "message": message}
    if w.resembles:
        body["resembles"] = w.resembles
    return body


def lookup_json(result: LookupResult) -> dict[str, Any]:
    impostor = None
    if result.impostor is not None:
        impostor = {
            "count": result.impostor.count,
            "first_seen": result.impostor.first_seen.isoformat(),
            "last_seen": result.impostor.last_seen.isoformat(),
        }
    return {
        "answer": result.answer.value,
        "headline": str(ANSWER_HEADLINES[result.answer]),
        "message": str(ANSWER_EXPLANATIONS[result.answer]),
        "query": {"text": result.query.text, "kind": result.query.kind.value, "normalized": result.query.normal},
        "staff": [
            card_json(s, own_contacts=shows_own_contacts(s, valid=result.answer is Answer.OFFICIAL_STAFF))
            for s in result.staff
        ],
        "channel": channel_json(result.channel) if result.channel else None,
        "impostor": impostor,
        "warnings": [warning_json(w) for w in result.warnings],
        "official_contacts": [channel_json(c) for c in result.official_contacts],
        "public_warnings": [public_warning_json(w) for w in result.public_warnings],
        "checked_at": result.checked_at.isoformat(),
    }


def public_warning_json(ref: WarningRef) -> dict[str, Any]:
    """A link to one of the Centre's published warnings."""
    return {"id": ref.id, "url": f"{base_url()}/warnings/{ref.id}", "published_at": ref.published_at.isoformat()}


def live_code_json(result: LiveCodeResult, contacts: tuple[ChannelRecord, ...]) -> dict[str, Any]:
    """The live-code answer, with ``contacts`` (the Centre's official channels)."""
    until = result.locked_until
    explanation = LIVE_CODE_EXPLANATIONS[result.answer]
    message = (
        str(explanation) % {"until": format_datetime(until, LOCKED_UNTIL_FORMAT)}
        if until is not None
        else str(explanation)
    )
    staff = None
    if result.staff is not None:
        own = shows_own_contacts(result.staff, valid=result.answer is LiveCodeAnswer.VALID)
        staff = card_json(result.staff, own_contacts=own)
    return {
        "answer": result.answer.value,
        "headline": str(LIVE_CODE_HEADLINES[result.answer]),
        "message": message,
        "staff_code": result.staff_code,
        "locked_until": until.isoformat() if until else None,
        "staff": staff,
        "official_contacts": [channel_json(c) for c in contacts],
        "checked_at": result.checked_at.isoformat(),
    }
