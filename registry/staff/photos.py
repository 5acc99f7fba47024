"""The one way a staff photo enters the registry, from the console or the command
line: decoded with its orientation applied, fitted into PHOTO_BOX and re-encoded as
JPEG, so that no EXIF (GPS, camera, date) survives; then stored and audited by its
digest, never by its content."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from keys.errors import N_
from registry.audit import service as audit
from registry.errors import ValidationError
from registry.staff.models import Staff

MAX_PHOTO_UPLOAD = 5 * 1024 * 1024  # a phone photo; the stored one is far smaller
MAX_PHOTO_PIXELS = 40_000_000  # refuses decompression bombs before decoding
PHOTO_BOX = (480, 640)  # 3:4 portrait, sharp on the card at 300 dpi and on a phone
PHOTO_QUALITY = 85
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PHOTO_BYTES = 2 * 1024 * 1024  # what is stored
PHOTO_MIMES = ("image/jpeg", "image/png", "image/webp")


def normalize_photo(data: bytes) -> bytes:
    """A staff photo as the card shows it (JPEG, no metadata). Raise ValidationError
    for anything that is not a reasonable JPEG, PNG or WebP photo."""
    if not data:
        raise ValidationError(N_("Choose a photo file."), field="photo")
    if len(data) > MAX_PHOTO_UPLOAD:
        raise ValidationError(N_("The photo is larger than 5 MB."), field="photo")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ACCEPTED_FORMATS:
                raise ValidationError(N_("The photo must be JPEG, PNG or WebP."), field="photo")
            if img.width * img.height > MAX_PHOTO_PIXELS:
                raise ValidationError(N_("The photo has too many pixels."), field="photo")
            img.load()
            oriented = ImageOps.exif_transpose(img)
            rgb = oriented.convert("RGB")
            rgb.thumbnail(PHOTO_BOX, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            rgb.save(out, format="JPEG", quality=PHOTO_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ValidationError(N_("The file is not a readable image."), field="photo") from exc
    return out.getvalue()


def set_photo(staff: Staff, photo: bytes, mime: str | None) -> None:
    """Store a photo as it is: ``normalize_photo`` has made an upload one first."""
    if len(photo) > MAX_PHOTO_BYTES:
        raise ValidationError(N_("photo is larger than 2 MB"), field="photo")
    if mime not in PHOTO_MIMES:
        raise ValidationError(N_("photo must be JPEG, PNG or WebP"), field="photo")
    staff.photo = photo
    staff.photo_mime = mime


def set_staff_photo(session: Session, person: Staff, data: bytes, *, actor: str, now: datetime) -> None:
    """Clean ``data`` (an upload) into ``person``'s photo, audited as ``staff.photo``."""
    cleaned = normalize_photo(data)
    set_photo(person, cleaned, "image/jpeg")
    person.updated_at = now
    session.flush()
    details = {"sha256": hashlib.sha256(cleaned).hexdigest(), "bytes": len(cleaned)}
    audit.append(session, actor=actor, action="staff.photo", target=person.code, details=details, now=now)
