"""What each verdict says to a person, in the catalog's languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from verify.verdicts import Verdict

HEADLINES = {
    Verdict.VALID: _l("VALID: an authorised staff member of the Centre"),
    Verdict.SUSPENDED: _l("SUSPENDED: do not trust this person"),
    Verdict.REVOKED: _l("REVOKED: do not trust this person"),
    Verdict.EXPIRED: _l("EXPIRED: do not trust this credential"),
    Verdict.NOT_YET_VALID: _l("NOT YET VALID: do not trust this credential yet"),
    Verdict.UNKNOWN_KEY: _l("NOT ISSUED BY THE CENTRE: do not trust this person"),
    Verdict.BAD_SIGNATURE: _l("FORGED: do not trust this person"),
    Verdict.MALFORMED: _l("NOT A CREDENTIAL: this code cannot be read"),
    Verdict.KEY_REVOKED: _l("INVALID SIGNING KEY: do not trust this credential"),
    Verdict.WRONG_AGENCY: _l("NOT SENT TO YOUR AGENCY: do not proceed"),
    Verdict.FOREIGN_SITE: _l("FORGED CARD: its QR code points at another website"),
}

EXPLANATIONS = {
    Verdict.VALID: _l(
        "The credential is genuine and in force. Before acting on any request, call back on "
        "the official number shown below, not on a number the person gave you."
    ),
    Verdict.SUSPENDED: _l(
        "The Centre has suspended this credential. The person may not act for the Centre "
        "now. Call the Centre on its official number."
    ),
    Verdict.REVOKED: _l("The Centre has withdrawn this credential. Anyone presenting it is not acting for the Centre."),
    Verdict.EXPIRED: _l(
        "This credential is past its end date. Ask the Centre, on its official number, "
        "whether the person still works for it."
    ),
    Verdict.NOT_YET_VALID: _l("This credential only takes effect later. Until then it proves nothing."),
    Verdict.UNKNOWN_KEY: _l("The credential was not signed with any key of the Centre. It is not genuine."),
    Verdict.BAD_SIGNATURE: _l("The credential has been altered or forged: its signature does not match its content."),
    Verdict.MALFORMED: _l(
        "What was scanned or typed is not a Centre credential. Check that you copied "
        "the whole code, or scan the QR code again."
    ),
    Verdict.KEY_REVOKED: _l(
        "The key that signed this credential has been withdrawn because it may have been "
        "stolen. The credential cannot be trusted."
    ),
    Verdict.WRONG_AGENCY: _l("This letter is genuine, but the Centre sent the person to another agency, not yours."),
    Verdict.FOREIGN_SITE: _l(
        "A genuine card's QR code always opens this service. This one sends phones to another "
        "website, whatever it carries: the card is forged. Do not trust the person, and do not "
        "enter anything on that website."
    ),
}

NEVER_DOES = (
    _l("The Centre never asks for money, fees or transfers to write or publish an article."),
    _l("The Centre contacts agencies only through the official channels listed on this service."),
    _l("The Centre never asks you to send documents to a personal email or chat account."),
)
