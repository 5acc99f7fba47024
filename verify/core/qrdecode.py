"""Find and decode the QR code in a photo of a staff card.

No Flask and no database: the offline verifier client imports this module too. The
input is attacker-controlled bytes, so every step is bounded before it costs memory:
the byte size first, then the image format (JPEG, PNG, WebP only, identified by
content, never by name), then the pixel count read from the header before any pixel
is decoded (a small file can declare a huge canvas: a decompression bomb). Every
failure is one of a small exception family with a stable ``code``, an HTTP-like
``status`` and a message for the person who sent the photo, so a web view and a
command line can both report it plainly.

CPU is the one cost the header cannot bound: a canvas tiled with thousands of small
QR codes kept zxing busy for seconds, and zxing cannot be interrupted. The server
therefore decodes with ``decode_qr_bounded``: the header checks here, then the decode
in a child process under a kernel CPU limit, at most ``MAX_CONCURRENT_DECODES`` at a
time per process (``Busy`` beyond that).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from keys.contract import MAX_CARD_PHOTO_BYTES
from keys.errors import N_, ChinhdanhError

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "Busy",
    "NoQrCode",
    "NotAnImage",
    "QrDecodeError",
    "TooComplex",
    "TooLarge",
    "TruncatedImage",
    "decode_qr",
    "decode_qr_all",
    "decode_qr_bounded",
]

MAX_IMAGE_BYTES = MAX_CARD_PHOTO_BYTES  # a phone photo of a card; bounds upload and parsing work
# 4096 x 4096 (16.8 MP): a phone camera's default output (12 MP, 48-50 MP sensors bin to
# 12.5, 16 MP on some) fits; a 6300 x 6300 canvas (40 MP, 190 MB to decode) does not.
MAX_IMAGE_PIXELS = 4096 * 4096
# Only what phones and scanners produce; Pillow would otherwise also try formats
# (EPS, PSD, TGA...) whose parsers we have no reason to expose.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Above this long side the decoder also gets a downscaled copy first: a card QR in a
# 4000 px photo is large, and zxing works faster and better on a smaller image.
DOWNSCALE_LONG_SIDE = 1600
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # never a 1-D barcode on the card


class QrDecodeError(ChinhdanhError, code="qr_decode_error"):
    """Base of the photo-decoding errors, the core's own family. Its message id is
    what the person who sent the photo is told (``TEXT``, the same whatever the
    photo); ``detail`` says precisely what went wrong, in English, for the offline
    client's messages and the log. ``retry_after`` (seconds) is set when trying
    again later can succeed."""

    TEXT: ClassVar[str] = N_("This file is not a photo. Send a JPEG, PNG or WebP picture of the card.")

    def __init__(self, detail: str) -> None:
        super().__init__(self.TEXT)
        self.detail = detail


class TooLarge(QrDecodeError, code="too_large", status=413):
    """More bytes or more pixels than a card photo needs."""

    TEXT = N_("The photo is too large. Send a photo of at most 5 MB and 16 megapixels, as a phone takes it.")


class NotAnImage(QrDecodeError, code="not_an_image", status=415):
    """Not a JPEG, PNG or WebP image (judged by content)."""


class TruncatedImage(QrDecodeError, code="truncated_image"):
    """A recognised image whose pixel data is cut short or damaged."""

    TEXT = N_("The photo is damaged or incomplete. Take or send it again.")


class NoQrCode(QrDecodeError, code="no_qr_code", status=422):
    """A readable image in which no QR code was found."""

    TEXT = N_(
        "No QR code was found in the photo. Take it again closer to the card, in good light, "
        "with the whole QR code in the picture."
    )


class TooComplex(QrDecodeError, code="too_complex", status=422):
    """An image the decoder could not finish within its CPU budget."""

    TEXT = N_(
        "This photo is too complex to read in time. Take a photo of the card alone, closer, "
        "with the whole QR code in the picture."
    )


class Busy(QrDecodeError, code="busy", status=503):
    """Every decode slot of this process is taken."""

    retry_after = 5  # seconds: a decode ends within DECODE_WALL_S, most within one
    TEXT = N_("Too many photos are being checked right now. Try again in a few seconds.")


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise NotAnImage("the file is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard fires at twice its default limit; a warning turned into an
        # error (as under pytest) means the same thing.
        raise TooLarge("the image has too many pixels") from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage("the file is not a JPEG, PNG or WebP image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImage("the file is not a readable image") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise NotAnImage("the image has no pixels")
    if width * height > MAX_IMAGE_PIXELS:
        raise TooLarge("the image has too many pixels")
    return image


def _load_grey(image: Image.Image) -> Image.Image:
    """Decode the pixels (the expensive, fallible step) into one grey channel."""
    try:
        if image.format == "JPEG" and max(image.size) > 2 * DOWNSCALE_LONG_SIDE:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: less memory and time, and the
            # QR of a card is still hundreds of pixels wide.
            image.draft("L", (DOWNSCALE_LONG_SIDE, DOWNSCALE_LONG_SIDE))
        image.load()
        # Phones store rotation as EXIF; honouring it matters for mirrored selfies,
        # which the decoder's own rotation search does not cover.
        upright = ImageOps.exif_transpose(image)
        return upright.convert("L")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLarge("the image has too many pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise TruncatedImage("the image is truncated or damaged") from exc


def _candidates(grey: Image.Image) -> list[Image.Image]:
    """The grey image, and for large photos a reduced copy tried first."""
    long_side = max(grey.size)
    if long_side <= DOWNSCALE_LONG_SIDE:
        return [grey]
    scale = DOWNSCALE_LONG_SIDE / long_side
    small = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))), Image.Resampling.BOX)
    return [small, grey]


def decode_qr_all(data: bytes) -> list[str]:
    """Every QR code text found in the image ``data``, in the decoder's order.

    Raises ``TooLarge``, ``NotAnImage``, ``TruncatedImage`` or ``NoQrCode``; never
    returns an empty list.
    """
    grey = _load_grey(_open(data))
    for candidate in _candidates(grey):
        found = zxingcpp.read_barcodes(candidate, formats=_QR_ONLY)
        texts = [b.text for b in found if b.valid and b.text]
        if texts:
            return list(dict.fromkeys(texts))
    raise NoQrCode("no QR code was found in the image")


def decode_qr(data: bytes) -> str:
    """The text of the QR code in the image ``data`` (the first, if there are several).

    Raises ``TooLarge``, ``NotAnImage``, ``TruncatedImage`` or ``NoQrCode``.
    """
    return decode_qr_all(data)[0]


# ------------------------------------------------------------------ bounded decoding

# CPU the child may use once started, enforced by the kernel (a profiling timer whose
# signal ends the process, RLIMIT_CPU one second later as a backstop). Measured here:
# a 12 MP phone photo takes 0.1-0.35 s, a 16 MP WebP or RGBA PNG 0.5 s; a canvas tiled
# with small QR codes took 7 s before this limit.
DECODE_CPU_S = 1.5
# A child starved of CPU on a loaded machine is given up on too.
DECODE_WALL_S = 5
# Address space of the child: a photo at the pixel cap needs about 150 MB.
DECODE_MEMORY_BYTES = 1024 * 1024 * 1024
# Per process: each decode may take a core for DECODE_CPU_S; more at once would only
# queue on the CPU while every request waits.
MAX_CONCURRENT_DECODES = 2
SLOT_WAIT_S = 0.5  # a short wait rides over a burst; a longer one would pile up threads
DECODE_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)
_ERRORS: dict[str, type[QrDecodeError]] = {
    cls.code: cls for cls in (TooLarge, NotAnImage, TruncatedImage, NoQrCode, TooComplex)
}
# -I: no user site, no PYTHON* variables, no current directory on the path.
_CHILD_CODE = "import sys; sys.path.insert(0, {root!r}); from verify.core.qrdecode import _child_main; _child_main()"


def decode_qr_bounded(data: bytes) -> str:
    """``decode_qr`` for a server: the header checks here, the decode in a child
    process that the kernel stops after ``DECODE_CPU_S`` of CPU.

    Raises what ``decode_qr`` raises, ``TooComplex`` when the budget runs out, and
    ``Busy`` when ``MAX_CONCURRENT_DECODES`` decodes of this process are running and
    none ends within ``SLOT_WAIT_S``.
    """
    _open(data)  # size, format and pixel count from the header: refused without a child
    if not DECODE_SLOTS.acquire(timeout=SLOT_WAIT_S):
        raise Busy("every photo decoder of this server is busy")
    try:
        return _decode_in_child(data)[0]
    finally:
        DECODE_SLOTS.release()


def _decode_in_child(data: bytes) -> list[str]:
    root = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-I", "-c", _CHILD_CODE.format(root=root)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=DECODE_WALL_S, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:  # run() has killed and reaped the child
        raise TooComplex("the image could not be read within the time allowed") from exc
    if done.returncode < 0:  # SIGPROF at the CPU budget (SIGXCPU, SIGKILL as backstops)
        raise TooComplex("the image could not be read within the time allowed")
    answer: Any = None
    if done.returncode == 0:
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            answer = None
    if isinstance(answer, dict):
        texts = answer.get("texts")
        if isinstance(texts, list) and texts:
            return [str(t) for t in texts]
        if answer.get("code") in _ERRORS:
            raise _ERRORS[answer["code"]](str(answer.get("detail", "")))
    # a decoder that cannot start or dies otherwise is our fault, not the photo's
    raise RuntimeError(f"QR decoder exited with {done.returncode}: {done.stderr[-2000:]!r}")


def _child_main() -> None:
    """The child's side: limits first, then the image from stdin, one JSON answer on
    stdout (``{"texts": [...]}`` or ``{"code", "detail"}``)."""
    import resource
    import signal

    def limit(kind: int, soft: int, hard: int) -> None:
        _current, ceiling = resource.getrlimit(kind)
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(kind, (soft, hard))

    backstop = int(DECODE_CPU_S) + 2
    limit(resource.RLIMIT_CPU, backstop, backstop + 1)
    limit(resource.RLIMIT_AS, DECODE_MEMORY_BYTES, DECODE_MEMORY_BYTES)
    # SIGPROF's default action ends the process even inside zxing's C++ loop, where a
    # Python handler would never run; nothing in the child installs one.
    signal.setitimer(signal.ITIMER_PROF, DECODE_CPU_S)
    data = sys.stdin.buffer.read(MAX_IMAGE_BYTES + 1)
    answer: dict[str, object]
    try:
        answer = {"texts": decode_qr_all(data)}
    except QrDecodeError as exc:
        answer = {"code": exc.code, "detail": exc.detail}
    except MemoryError:
        answer = {"code": TooComplex.code, "detail": "the image needs more memory than allowed"}
    sys.stdout.write(json.dumps(answer))
