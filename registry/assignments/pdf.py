"""The letter of introduction as a one-page A4 PDF (fpdf2), laid out like a Vietnamese
administrative document: the Board's heading and the national motto side by side,
number, place and date, the title, "Kính gửi", the body, the signature block and the
QR code that opens the verification page.

The text is real text (selectable, searchable) in DejaVu Serif, which the project
ships in ``static/fonts`` with its licence, so the letter renders the same on a fresh
machine whatever fonts it has; fpdf2 embeds the subset of glyphs it uses. The letter
itself is always in Vietnamese: it is an official document. No Flask here: the
command line (``assignment letter --pdf``) and the public page both call
``render_letter_pdf``.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from keys.contract import VN_TZ
from registry import qr
from registry.assignments.letters import LetterRecord
from registry.assignments.models import ContactKind

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"
FONT = "DejaVuSerifCondensed"  # close to the Times metrics of printed letters, full Vietnamese
FONT_FILES = {
    "": "DejaVuSerifCondensed.ttf",
    "B": "DejaVuSerifCondensed-Bold.ttf",
    "I": "DejaVuSerifCondensed-Italic.ttf",
}

# Margins of Decree 30/2020/ND-CP on administrative documents (mm): wider on the left
# for binding.
MARGIN_LEFT = 30.0
MARGIN_RIGHT = 20.0
MARGIN_TOP = 20.0
PAGE_WIDTH = 210.0
PAGE_HEIGHT = 297.0
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
HEAD_LEFT_WIDTH = 72.0  # the issuing body's block
HEAD_RIGHT_SPILL = 4.0  # the national name may reach 4 mm into the right margin, as printed letters do
# The body starts at 13 pt (the decree asks for 13-14) and steps down only when the
# bounded fields at their longest would push it into the signature and QR block.
BODY_SIZES = (13.0, 12.0, 11.0, 10.0)
LINE_FACTOR = 0.54  # mm of line height per point of type: about 1.5 lines
QR_SIZE = 40.0  # mm: a version-33 code still has 0.25 mm modules, which phones read
QR_SCALE = 8  # px per module of the embedded PNG: crisp at 40 mm (about 600 dpi)
QR_BOTTOM = 22.0  # mm from the foot of the page to the bottom of the QR code
SIGNATURE_BLOCK = 22.0  # mm the recipients and signature block need above the QR code

BOARD_PARENT = "BỘ NỘI VỤ"
BOARD = ("BAN THI ĐUA - KHEN THƯỞNG", "TRUNG ƯƠNG")
BOARD_NAME = "Ban Thi đua - Khen thưởng Trung ương"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TITLE = "GIẤY GIỚI THIỆU"
CHANNEL_LABELS = {ContactKind.PHONE: "Điện thoại", ContactKind.EMAIL: "Thư điện tử", ContactKind.ZALO: "Zalo"}


class LetterTooLongError(ValueError):
    """The fields do not fit one page even at the smallest body size (cannot happen
    with the bounds the registry enforces; raised rather than printing over the QR)."""


def vn_long_date(moment: datetime, place: str) -> str:
    """ "Hà Nội, ngày 05 tháng 02 năm 2026": days below 10 and months 1 and 2 take a
    leading zero, as the decree on administrative documents asks."""
    local = moment.astimezone(VN_TZ)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"{place}, ngày {local.day:02d} tháng {month} năm {local.year}"


def channels_text(letter: LetterRecord) -> str:
    return "; ".join(f"{CHANNEL_LABELS[c.kind]} {c.display}" for c in letter.channels)


def _centered_lines(pdf: FPDF, x: float, width: float, lines: list[tuple[str, float, str]]) -> float:
    """Write (text, size, style) lines centered in [x, x + width]; returns the new y."""
    for text, size, style in lines:
        pdf.set_font(FONT, style, size)
        pdf.set_x(x)
        pdf.cell(width, size * 0.45, text, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _rule(pdf: FPDF, x: float, width: float, length: float, y: float) -> None:
    """The short line under a heading block, centered in its column."""
    start = x + (width - length) / 2
    pdf.set_line_width(0.3)
    pdf.line(start, y, start + length, y)


def _labelled(pdf: FPDF, label: str, value: str, size: float, *, bold_value: bool = False) -> None:
    pdf.set_x(MARGIN_LEFT)
    pdf.set_font(FONT, "", size)
    pdf.write(size * LINE_FACTOR, label)
    pdf.set_font(FONT, "B" if bold_value else "", size)
    pdf.write(size * LINE_FACTOR, value)
    pdf.ln(size * LINE_FACTOR)


def new_document() -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    pdf.set_auto_page_break(False)  # one page by construction: see BODY_SIZES
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, str(FONT_DIR / name))
    pdf.set_lang("vi")
    return pdf


def _heading(pdf: FPDF, letter: LetterRecord) -> None:
    """The issuing body and number on the left; nation, motto, place and date on the right."""
    right_x = MARGIN_LEFT + HEAD_LEFT_WIDTH
    right_w = TEXT_WIDTH - HEAD_LEFT_WIDTH + HEAD_RIGHT_SPILL
    pdf.set_xy(MARGIN_LEFT, MARGIN_TOP)
    left_end = _centered_lines(
        pdf, MARGIN_LEFT, HEAD_LEFT_WIDTH, [(BOARD_PARENT, 12, ""), (BOARD[0], 12, "B"), (BOARD[1], 12, "B")]
    )
    _rule(pdf, MARGIN_LEFT, HEAD_LEFT_WIDTH, 24, left_end + 0.8)
    pdf.set_xy(right_x, MARGIN_TOP)
    right_end = _centered_lines(pdf, right_x, right_w, [(NATION, 11.5, "B"), (MOTTO, 12.5, "B")])
    pdf.set_font(FONT, "B", 12.5)
    _rule(pdf, right_x, right_w, pdf.get_string_width(MOTTO), right_end + 0.8)
    line_y = max(left_end, right_end) + 4
    pdf.set_xy(MARGIN_LEFT, line_y)
    _centered_lines(pdf, MARGIN_LEFT, HEAD_LEFT_WIDTH, [(f"Số: {letter.number}", 12.5, "")])
    pdf.set_xy(right_x, line_y)
    _centered_lines(pdf, right_x, right_w, [(vn_long_date(letter.issued_at, letter.place), 12.5, "I")])


def _body(pdf: FPDF, letter: LetterRecord, size: float) -> float:
    """Title, addressee and body at ``size`` points; returns the y where they end."""
    line = size * LINE_FACTOR
    pdf.set_xy(MARGIN_LEFT, pdf.get_y() + 10)
    pdf.set_font(FONT, "B", 15)
    pdf.cell(TEXT_WIDTH, 8, TITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "", size + 1)
    pdf.multi_cell(TEXT_WIDTH, line, f"Kính gửi: {letter.agency}", align=Align.C, new_x=XPos.LMARGIN)
    pdf.ln(4)
    pdf.set_font(FONT, "", size)
    pdf.multi_cell(TEXT_WIDTH, line, f"{BOARD_NAME} trân trọng giới thiệu:", align=Align.L, new_x=XPos.LMARGIN)
    _labelled(pdf, "Ông/Bà: ", letter.staff_name, size, bold_value=True)
    _labelled(pdf, "Chức vụ: ", letter.staff_title, size)
    _labelled(pdf, "Đơn vị: ", letter.staff_unit, size)
    _labelled(pdf, "Mã cán bộ: ", letter.staff_code, size)
    _labelled(pdf, "Được cử đến: ", letter.agency, size, bold_value=True)
    if letter.agency_domain:
        _labelled(pdf, "Tên miền thư điện tử của Quý cơ quan: ", letter.agency_domain, size)
    _labelled(pdf, "Về việc: ", letter.purpose, size)
    if letter.channels:
        _labelled(pdf, "Liên hệ với Quý cơ quan qua: ", channels_text(letter), size)
    pdf.set_font(FONT, "", size)
    pdf.multi_cell(
        TEXT_WIDTH,
        line,
        "Đề nghị Quý cơ quan tạo điều kiện để ông/bà có tên trên hoàn thành nhiệm vụ.",
        align=Align.L,
        new_x=XPos.LMARGIN,
    )
    start = (letter.not_before or letter.issued_at).astimezone(VN_TZ)
    _labelled(
        pdf,
        "Giấy giới thiệu có giá trị ",
        f"từ ngày {start:%d/%m/%Y} đến hết ngày {letter.last_day:%d/%m/%Y}.",
        size,
        bold_value=True,
    )
    return pdf.get_y()


def _signature(pdf: FPDF, y: float) -> None:
    """Recipients on the left, the issuing body on the right."""
    pdf.set_xy(MARGIN_LEFT, y)
    pdf.set_font(FONT, "B", 11)  # bold italic in the decree; bold is the nearest shipped face
    pdf.cell(60, 5.5, "Nơi nhận:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10.5)
    for text in ("- Như trên;", "- Lưu: VT, TTTT."):
        pdf.cell(60, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    sign_x = MARGIN_LEFT + 62
    sign_w = TEXT_WIDTH - 62
    pdf.set_xy(sign_x, y)
    _centered_lines(pdf, sign_x, sign_w, [("BAN THI ĐUA - KHEN THƯỞNG TRUNG ƯƠNG", 11.5, "B")])
    pdf.set_x(sign_x)
    pdf.set_font(FONT, "I", 11)
    pdf.multi_cell(
        sign_w, 5.5, "(Giấy giới thiệu điện tử, ký số; xác minh bằng mã QR bên dưới)", align=Align.C, new_x=XPos.LMARGIN
    )


def _verification(pdf: FPDF, letter: LetterRecord, url: str) -> None:
    """The QR code (also a link) and how to check it, anchored to the foot of the page."""
    qr_y = PAGE_HEIGHT - QR_BOTTOM - QR_SIZE
    png = qr.png(url, scale=QR_SCALE)
    pdf.image(io.BytesIO(png), x=MARGIN_LEFT, y=qr_y, w=QR_SIZE, h=QR_SIZE, link=url, alt_text="QR")
    note_x = MARGIN_LEFT + QR_SIZE + 5
    note_w = TEXT_WIDTH - QR_SIZE - 5
    pdf.set_xy(note_x, qr_y + 1)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(note_w, 5.5, "Xác minh giấy giới thiệu này", align=Align.L, new_x=XPos.LEFT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(
        note_w,
        5,
        "Quét mã QR bằng camera điện thoại (hoặc bấm vào mã). Giấy chỉ có giá trị khi trang xác minh "
        "của Ban báo HỢP LỆ cho đúng cơ quan của Quý vị. Trung tâm không bao giờ đề nghị nộp tiền, "
        "phí để viết hay đăng bài; chỉ liên hệ lại qua số điện thoại chính thức hiện trên trang xác minh.",
        align=Align.L,
        new_x=XPos.LEFT,
    )
    pdf.set_font(FONT, "", 8.5)
    pdf.multi_cell(note_w, 4.5, f"Mã giấy: {letter.id}", align=Align.L, new_x=XPos.LEFT)


def _compose(letter: LetterRecord, url: str, size: float) -> FPDF | None:
    """The page with the body at ``size``, or None if the body would not fit."""
    pdf = new_document()
    pdf.set_title(f"Giấy giới thiệu số {letter.number}")
    pdf.set_author(BOARD_NAME)
    pdf.set_subject(f"{letter.staff_name} - {letter.agency}")
    pdf.set_creator("chinhdanh")
    pdf.set_creation_date(letter.issued_at)
    pdf.add_page()
    _heading(pdf, letter)
    body_end = _body(pdf, letter, size)
    signature_y = body_end + 5
    if signature_y + SIGNATURE_BLOCK > PAGE_HEIGHT - QR_BOTTOM - QR_SIZE:
        return None
    _signature(pdf, signature_y)
    _verification(pdf, letter, url)
    return pdf


def body_size(letter: LetterRecord, url: str) -> float:
    """The body size the letter is printed at (the largest that fits one page)."""
    for size in BODY_SIZES:
        if _compose(letter, url, size) is not None:
            return size
    raise LetterTooLongError("the letter does not fit one page")


def render_letter_pdf(letter: LetterRecord, *, url: str) -> bytes:
    """The one-page PDF of ``letter``, whose QR code (also a link) opens ``url``.
    Raise LetterTooLongError if it cannot fit one page."""
    for size in BODY_SIZES:
        pdf = _compose(letter, url, size)
        if pdf is not None:
            return bytes(pdf.output())
    raise LetterTooLongError("the letter does not fit one page")
