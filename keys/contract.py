"""The wire contract between the server and every verifier (the offline client
included): the ``typ`` of each signed document, the claims an assignment adds, the
shapes of the public URLs, and the time zone dates are shown in. Written once here,
so that the server and the client cannot drift apart."""

from __future__ import annotations

from zoneinfo import ZoneInfo

# ``typ`` header of each signed document
STAFF_TYP = "staff-credential+jwt"  # a staff card
ASSIGNMENT_TYP = "assignment+jwt"  # a letter of introduction
CREDENTIAL_TYPS = frozenset({STAFF_TYP, ASSIGNMENT_TYP})
STATUS_LIST_TYP = "statuslist+jwt"
KEYSET_TYP = "keyset+jwt"
ROSTER_TYP = "roster+jwt"
AUDIT_CHECKPOINT_TYP = "audit-checkpoint+jwt"  # {seq, hash, at} of the audit log, kept outside it
RECEIPT_TYP = "verification-receipt+jwt"  # a signed record of one verification, for the officer's file

# a verifier reads at most this much of what it is given: a QR URL with its token is
# well under 1,000 characters; a card's photo is what a phone takes
MAX_PRESENTED_CHARS = 8192
MAX_CARD_PHOTO_BYTES = 5 * 1024 * 1024

# what an assignment's token adds to a credential's claims: text when present
ASSIGNMENT_TEXT_CLAIMS = ("agency", "agency_domain", "purpose")

# public paths
VERIFY_PREFIX = "/v/"  # PUBLIC_BASE_URL/v/<token> is what every QR code holds
VERIFY_API_PATH = "/api/v1/verify"
JWKS_PATH = "/.well-known/jwks.json"
KEYSET_PATH = "/api/v1/keyset"
ROOT_KEY_PATH = "/api/v1/keyset/root"
ROSTER_PATH = "/api/v1/roster"
STATUS_LIST_PATH = "/api/v1/status-lists/"
RECEIPT_PREFIX = "/r/"  # PUBLIC_BASE_URL/r/<receipt> shows a receipt checked

# the pages below a credential's verdict page, PUBLIC_BASE_URL/v/<token><page>
LETTER_PAGE = "/letter"  # an assignment's letter of introduction, to print
LETTER_PDF_PAGE = "/letter.pdf"
RECEIPT_PDF_PAGE = "/receipt.pdf"  # a signed receipt of the verification, one A4 page

# dates are shown, and letters dated and ended, in Viet Nam time
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def verification_url(base_url: str, token: str, page: str = "") -> str:
    """What the QR code holds, the verdict page any phone camera opens; with ``page``
    (``LETTER_PAGE``, ``LETTER_PDF_PAGE``, ``RECEIPT_PDF_PAGE``), that page of the same
    token. With ``base_url`` empty, the path alone (a route's with ``"<token>"``)."""
    return f"{base_url}{VERIFY_PREFIX}{token}{page}"


def receipt_url(base_url: str, receipt: str) -> str:
    """What a receipt's QR code holds: the page that shows the receipt checked."""
    return f"{base_url}{RECEIPT_PREFIX}{receipt}"


def status_list_uri(base_url: str, list_id: int) -> str:
    """The ``status.status_list.uri`` claim of a credential on list ``list_id``."""
    return f"{base_url}{STATUS_LIST_PATH}{list_id}"


def staff_photo_url(base_url: str, code: str) -> str:
    return f"{base_url}/api/v1/staff/{code}/photo"
