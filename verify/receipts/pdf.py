"""A receipt as a one-page A4 PDF (fpdf2): the Board's name, the title, the facts as
labelled lines, and the QR code (also a link) of the receipt's page, ``/r/<receipt>``.

The page is laid out by the letters' document (``registry.assignments.pdf.new_document``:
A4, the administrative margins, DejaVu Serif embedded, so Vietnamese text is real,
selectable text on any machine). The words come in already translated: this module
knows no language and no Flask.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from fpdf.enums import Align, XPos, YPos

from registry import qr
from registry.assignments.pdf import BOARD_NAME, FONT, MARGIN_LEFT, PAGE_HEIGHT, TEXT_WIDTH, new_document

QR_SIZE = 55.0  # mm: a receipt's URL is about 1,000 characters (version 25-30); 55 mm keeps modules near 0.4 mm
QR_SCALE = 6  # px per module of the embedded PNG
QR_BOTTOM = 20.0  # mm from the foot of the page to the bottom of the QR code
LABEL_WIDTH = 68.0  # mm: the widest label, in Vietnamese, on one line
LINE = 6.5  # mm per line of the facts
MAX_VALUE_CHARS = 300  # the longest fact (an agency of 200 characters) wraps, never overflows


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    """The page's words, in the reader's language."""

    title: str
    headline: str
    rows: list[tuple[str, str]]  # (label, value)
    explanation: str
    qr_caption: str
    qr_note: str
    lang: str
    checked_at: datetime


def render_receipt_pdf(page: ReceiptPage, *, url: str) -> bytes:
    """One A4 page with ``page``'s words and the QR code (also a link) of ``url``."""
    pdf = new_document()
    pdf.set_lang(page.lang)
    pdf.set_title(page.title)
    pdf.set_author(BOARD_NAME)
    pdf.set_creator("chinhdanh")
    pdf.set_creation_date(page.checked_at)
    pdf.add_page()
    pdf.set_font(FONT, "B", 12)
    pdf.cell(TEXT_WIDTH, 6, BOARD_NAME.upper(), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_font(FONT, "B", 16)
    pdf.cell(TEXT_WIDTH, 9, page.title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(TEXT_WIDTH, 7, page.headline, align=Align.C, new_x=XPos.LMARGIN)
    pdf.ln(6)
    for label, value in page.rows:
        y = pdf.get_y()
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(LABEL_WIDTH, LINE, label, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        label_end = pdf.get_y()
        pdf.set_xy(MARGIN_LEFT + LABEL_WIDTH, y)
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(
            TEXT_WIDTH - LABEL_WIDTH, LINE, value[:MAX_VALUE_CHARS], align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_xy(MARGIN_LEFT, max(pdf.get_y(), label_end) + 1.5)
    pdf.ln(4)
    pdf.set_font(FONT, "I", 10.5)
    pdf.multi_cell(TEXT_WIDTH, 5.5, page.explanation, align=Align.L, new_x=XPos.LMARGIN)
    qr_y = PAGE_HEIGHT - QR_BOTTOM - QR_SIZE
    png = qr.png(url, scale=QR_SCALE)
    pdf.image(io.BytesIO(png), x=MARGIN_LEFT, y=qr_y, w=QR_SIZE, h=QR_SIZE, link=url, alt_text="QR")
    note_x = MARGIN_LEFT + QR_SIZE + 5
    pdf.set_xy(note_x, qr_y + 2)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(TEXT_WIDTH - QR_SIZE - 5, 5.5, page.qr_caption, align=Align.L, new_x=XPos.LEFT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(TEXT_WIDTH - QR_SIZE - 5, 5, page.qr_note, align=Align.L, new_x=XPos.LEFT)
    return bytes(pdf.output())
