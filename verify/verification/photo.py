"""A photo of a card, checked: the home page's upload (the verdict page in answer)
and its JSON API. The photo is read bounded and its QR code decoded in a child
process under a CPU budget (``verify.core.qrdecode``); what it holds is verified as
any presented URL is."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from registry.platform.i18n import translated
from registry.platform.web import csrf, limiter
from verify.core.agency import MAX_AGENCY_INPUT
from verify.core.qrdecode import MAX_IMAGE_BYTES, QrDecodeError, decode_qr_bounded
from verify.errors import ValidationError
from verify.lookup.views import home_page
from verify.verification.answers import result_json
from verify.verification.service import Result
from verify.verification.views import verdict_page_body, verify_presented

bp = Blueprint("photo", __name__)

IMAGE_LIMIT = "10 per minute; 100 per hour"  # per client address: a photo costs real CPU to decode
# Multipart framing, the CSRF token and the agency field around a 5 MB photo; a larger
# body is refused with 413 before it is read.
UPLOAD_OVERHEAD = 64 * 1024
IMAGE_FIELDS = ("image", "photo", "file")  # accepted multipart names, first found wins


def _uploaded_image() -> bytes:
    upload: FileStorage | None = next((request.files[f] for f in IMAGE_FIELDS if f in request.files), None)
    if upload is None:
        raise ValidationError("send the photo as a multipart field named image", field="image")
    return upload.stream.read(MAX_IMAGE_BYTES + 1)  # one byte more tells "too large" apart


def _verify_image(data: bytes) -> Result:
    return verify_presented(decode_qr_bounded(data), request.form.get("agency", "")[:MAX_AGENCY_INPUT], path="photo")


@bp.url_value_preprocessor
def _photo_upload_limits(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The photo endpoints' body limit (5 MB and the form around it), set before
    anything reads the body: URL value preprocessors run before every before_request
    hook, and CSRFProtect reads the form in one."""
    if endpoint in (f"{bp.name}.photo_form", f"{bp.name}.api_verify_image"):
        request.max_content_length = MAX_IMAGE_BYTES + UPLOAD_OVERHEAD


@bp.post("/check-photo")
@limiter.limit(IMAGE_LIMIT)
def photo_form() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The page's photo upload: decode the card's QR code and show the verdict page."""
    try:
        result = _verify_image(_uploaded_image())
    except QrDecodeError as exc:
        page, status = home_page(exc.status, photo_error=translated(exc))
        return page, status, {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
    except ValidationError:
        return home_page(400, photo_error=_("Choose a photo of the card first."))
    return verdict_page_body(result), 200


@bp.post("/api/v1/verify/image")
@limiter.limit(IMAGE_LIMIT)
def api_verify_image() -> Response:
    """Verify the credential in a photo of a card.
    ---
    post:
      tags: [verification]
      summary: Decode the QR code in a card photo and verify it
      description: >-
        A JPEG, PNG or WebP photo of at most 5 MB; scaled, slightly rotated or taken at
        an angle is fine. The answer is the same as GET /api/v1/verify.
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image: {type: string, format: binary}
                agency: {type: string, maxLength: 200}
      responses:
        "200":
          description: The verdict on the decoded credential.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/VerifyAnswer"}
        "400":
          $ref: "#/components/responses/Error"
          description: No photo sent, or a damaged one (truncated_image).
        "413":
          $ref: "#/components/responses/Error"
          description: Over 5 MB or over 16.8 megapixels (too_large), refused before any pixel is decoded.
        "415":
          $ref: "#/components/responses/Error"
          description: Not a JPEG, PNG or WebP image (not_an_image).
        "422":
          $ref: "#/components/responses/Error"
          description: >-
            No QR code found in the photo (no_qr_code), or the photo could not be read
            within the decoder's CPU budget (too_complex).
        "429": {$ref: "#/components/responses/TooManyRequests"}
        "503":
          description: Every photo decoder of this server is busy (busy); try again after Retry-After seconds.
          headers:
            Retry-After:
              schema: {type: integer}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    return jsonify(result_json(_verify_image(_uploaded_image())))


csrf.exempt(api_verify_image)  # public JSON API: no session or cookie to protect
