"""What each verdict says to a person, written once for the web pages and the
offline client: English message ids marked with ``N_``, translated where they are
shown (the pages through the server's catalog, the client through its own).

An explanation may name ``{host}``, the site a forged card's QR code leads to, and
``{server}``, the service's own address: whoever shows it fills both in."""

from __future__ import annotations

from keys.errors import N_
from verify.core.verdicts import Verdict

HEADLINES = {
    Verdict.VALID: N_("VALID: an authorised staff member of the Centre"),
    Verdict.SUSPENDED: N_("SUSPENDED: do not trust this person"),
    Verdict.REVOKED: N_("REVOKED: do not trust this person"),
    Verdict.EXPIRED: N_("EXPIRED: do not trust this credential"),
    Verdict.NOT_YET_VALID: N_("NOT YET VALID: do not trust this credential yet"),
    Verdict.UNKNOWN_KEY: N_("NOT ISSUED BY THE CENTRE: do not trust this person"),
    Verdict.BAD_SIGNATURE: N_("FORGED: do not trust this person"),
    Verdict.MALFORMED: N_("NOT A CREDENTIAL: this code cannot be read"),
    Verdict.KEY_REVOKED: N_("INVALID SIGNING KEY: do not trust this credential"),
    Verdict.WRONG_AGENCY: N_("NOT SENT TO YOUR AGENCY: do not proceed"),
    Verdict.FOREIGN_SITE: N_("FORGED CARD: its QR code leads to another website"),
}

EXPLANATIONS = {
    Verdict.VALID: N_(
        "The credential is genuine and in force. Before acting on any request, call back on "
        "the official number shown below, not on a number the person gave you."
    ),
    Verdict.SUSPENDED: N_(
        "The Centre has suspended this credential. The person may not act for the Centre "
        "now. Call the Centre on its official number."
    ),
    Verdict.REVOKED: N_("The Centre has withdrawn this credential. Anyone presenting it is not acting for the Centre."),
    Verdict.EXPIRED: N_(
        "This credential is past its end date. Ask the Centre, on its official number, "
        "whether the person still works for it."
    ),
    Verdict.NOT_YET_VALID: N_("This credential only takes effect later. Until then it proves nothing."),
    Verdict.UNKNOWN_KEY: N_("The credential was not signed with any key of the Centre. It is not genuine."),
    Verdict.BAD_SIGNATURE: N_("The credential has been altered or forged: its signature does not match its content."),
    Verdict.MALFORMED: N_(
        "What was scanned or typed is not a Centre credential. Check that you copied "
        "the whole code, or scan the QR code again."
    ),
    Verdict.KEY_REVOKED: N_(
        "The key that signed this credential has been withdrawn because it may have been "
        "stolen. The credential cannot be trusted."
    ),
    Verdict.WRONG_AGENCY: N_("This letter is genuine, but the Centre sent the person to another agency, not yours."),
    Verdict.FOREIGN_SITE: N_(
        "This code sends phones to {host}, not to the Centre's verification service ({server}). The QR code "
        "of a genuine card never does: the card is forged, however official that website looks. Do not open "
        "it, and do not trust this person."
    ),
}
