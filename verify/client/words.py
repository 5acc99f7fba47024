"""What the command line says, as catalog msgids: the verdicts in the words of the
web pages (``verify/messages.py``), labels, warnings, and argparse's own words.
English is the msgid; ``locale/vi`` holds the Vietnamese."""

from __future__ import annotations

from verify.verdicts import Verdict


def N_(message: str) -> str:
    """Marks a msgid for the catalog; translated where it is shown."""
    return message


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
# the same msgids as verify/messages.py, so the client and the web pages say the same
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
    # the client's own words: they name the site, which the web page's table cannot
    Verdict.FOREIGN_SITE: N_(
        "This code sends phones to {host}, not to the Centre's verification service ({server}). The QR code "
        "of a genuine card never does: the card is forged, however official that website looks. Do not open "
        "it, and do not trust this person."
    ),
}
STAFF_STATUS = {"active": N_("working"), "suspended": N_("suspended"), "departed": N_("no longer works there")}
WHAT = (N_("key set"), N_("status list"), N_("roster"), N_("root key"), N_("key list (JWKS)"))
LABEL_CENTRE_CONTACTS = N_("The Centre's official contacts")
LABEL_COULD_NOT_DECIDE = N_("Could not decide")
LABEL_DOCUMENT = N_("Document")
LABEL_FOREIGN_SITE = N_("Website in the code")
LABEL_HOLDER = N_("Holder")
LABEL_OFFICIAL_EMAIL = N_("Official email")
LABEL_OFFICIAL_PHONE = N_("Official phone")
LABEL_PURPOSE = N_("Purpose")
LABEL_SENT_TO = N_("Sent to")
LABEL_SERVER = N_("Server")
LABEL_STAFF_STATUS = N_("Staff status")
LABEL_TITLE = N_("Title")
LABEL_UNIT = N_("Unit")
LABEL_VALID_FROM = N_("Valid from")
LABEL_VALID_UNTIL = N_("Valid until")
LABEL_VERDICT = N_("Verdict")
# the verification page's words (verify.callback): the person's own contacts are withheld
OWN_CONTACTS_WITHHELD = N_(
    "This person's own phone and email are not shown with this answer. To check anything, call the "
    "Centre back on its official contacts."
)
# argparse's own words, looked up in our catalog while the parser runs
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("options"),
    N_("positional arguments"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
)
WARNINGS = {
    "not_in_roster": N_("The holder is not in the cached roster: sync again to see their title and unit."),
    "jwks_unavailable": N_("The JWKS could not be read; the root-signed key set is used alone."),
    "jwks_mismatch": N_("The JWKS lists a key that the root-signed key set does not vouch for; it is ignored."),
}
