"""Evidence files attached to a report: checked by their content and bounded before
they are stored (in the database, ``models.EvidenceBlob``), outside any public path.

A file is accepted when its bytes are a JPEG, PNG, WebP image or a PDF, its name
(if it has an extension) agrees with that content, it is at most 5 MB, and an image
declares no more pixels than a photo has (a small file that would decode into
gigabytes is refused from its header, before any pixel is decoded). The stored file
is byte for byte what was sent: EXIF metadata (camera, time, place) can matter as
evidence. It is shown only to signed-in admins, as a download, never publicly.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from keys.errors import N_, Message
from verify.errors import EvidenceError

MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024  # a phone photo or a scanned letter fits; a video does not
MAX_IMAGE_PIXELS = 50_000_000  # above any phone camera's default mode; bounds decoding work
MAX_NAME = 200
EVIDENCE_DIR = "evidence"  # where evidence lived on disk before h14e_0011 moved it into the database

# content type -> extensions a file of that type may carry
EXTENSIONS = {
    "image/jpeg": {".jpg", ".jpeg", ".jfif"},
    "image/png": {".png"},
    "image/webp": {".webp"},
    "application/pdf": {".pdf"},
}
PIL_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as received: its name as the sender gave it and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CheckedFile:
    name: str  # the sender's name, cleaned, for admins only
    mime: str
    data: bytes
    sha256: str


def sniff(data: bytes) -> str | None:
    """The content type told by the first bytes, or None if it is none we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean_name(name: str) -> str:
    """The base name without directories or control characters, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[-MAX_NAME:] or "evidence"


def _check_image(data: bytes, mime: str, label: Message, index: int) -> None:
    """Open the header and check the declared size; then let Pillow verify the
    structure. Pillow's own bomb guard is turned into an error as well."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if PIL_FORMATS.get(img.format or "") != mime:
                    raise EvidenceError(
                        "corrupt_file",
                        Message(N_("%(file)s is not a readable image."), {"file": label}),
                        index=index,
                    )
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS or width <= 0 or height <= 0:
                    raise EvidenceError(
                        "image_too_large",
                        Message(
                            N_("%(file)s has too many pixels to be a photo. Send a smaller image."),
                            {"file": label},
                        ),
                        status=413,
                        index=index,
                    )
                img.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise EvidenceError(
            "image_too_large",
            Message(N_("%(file)s has too many pixels to be a photo. Send a smaller image."), {"file": label}),
            status=413,
            index=index,
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise EvidenceError(
            "corrupt_file", Message(N_("%(file)s is not a readable image."), {"file": label}), index=index
        ) from exc


def _check_pdf(data: bytes, label: Message, index: int) -> None:
    # a PDF ends with %%EOF (possibly followed by a newline or a little padding)
    if b"%%EOF" not in data[-1024:]:
        raise EvidenceError(
            "corrupt_file",
            Message(N_("%(file)s is not a complete PDF document."), {"file": label}),
            index=index,
        )


def check_files(uploads: Sequence[Upload]) -> list[CheckedFile]:
    """Check every file before anything is stored; returns them ready to store.

    Raises EvidenceError (field ``evidence``) naming the first bad file: too many
    files, empty, over 5 MB, a type we do not accept, a name that contradicts the
    content (a PDF named .jpg), a decompression bomb, or a damaged file.
    """
    uploads = [u for u in uploads if u.name or u.data]  # an empty file input sends nothing useful
    if len(uploads) > MAX_FILES:
        raise EvidenceError("too_many_files", Message(N_("Attach at most %(n)d files."), {"n": MAX_FILES}))
    checked = []
    for index, upload in enumerate(uploads):
        name = clean_name(upload.name)
        label = Message(N_("File %(n)d (%(name)s)"), {"n": index + 1, "name": name})
        if not upload.data:
            raise EvidenceError("empty_file", Message(N_("%(file)s is empty."), {"file": label}), index=index)
        if len(upload.data) > MAX_FILE_BYTES:
            raise EvidenceError(
                "file_too_large",
                Message(
                    N_("%(file)s is larger than %(mb)d MB."),
                    {"file": label, "mb": MAX_FILE_BYTES // (1024 * 1024)},
                ),
                status=413,
                index=index,
            )
        mime = sniff(upload.data)
        if mime is None:
            raise EvidenceError(
                "unsupported_file_type",
                Message(N_("%(file)s is not a JPEG, PNG or WebP image or a PDF document."), {"file": label}),
                status=415,
                index=index,
            )
        ext = os.path.splitext(name)[1].lower()
        if ext and ext not in EXTENSIONS[mime]:
            raise EvidenceError(
                "file_type_mismatch",
                Message(N_("%(file)s is named like another kind of file than it contains."), {"file": label}),
                status=415,
                index=index,
            )
        if mime == "application/pdf":
            _check_pdf(upload.data, label, index)
        else:
            _check_image(upload.data, mime, label, index)
        checked.append(
            CheckedFile(name=name, mime=mime, data=upload.data, sha256=hashlib.sha256(upload.data).hexdigest())
        )
    return checked
