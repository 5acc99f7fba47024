"""What the command line says, as catalog msgids: labels, warnings, and argparse's
own words. The verdicts' words are the web pages' own (``verify.core.texts``).
English is the msgid; ``locale/vi`` holds the Vietnamese."""

from __future__ import annotations

from keys.errors import N_

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
# the verification page's words (verify.core.callback): the person's own contacts are withheld
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
