"""The PDF notice (reportlab): ticket number, offence, time, place, fine, due date, evidence photo,
a QR code to the portal, in English and Urdu (Noto Naskh Arabic, shaped with arabic-reshaper + python-bidi)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import arabic_reshaper
from bidi.algorithm import get_display
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from services.notices.texts import NoticeText

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoNaskhArabic.ttf"
URDU_FONT = "NotoNaskhArabic"


@lru_cache(maxsize=1)
def _register_font() -> str:
    pdfmetrics.registerFont(TTFont(URDU_FONT, str(FONT_FILE)))
    return URDU_FONT


def urdu(text: str) -> str:
    """Urdu text shaped (joined letter forms) and in visual order, ready to draw left to right."""
    return str(get_display(arabic_reshaper.reshape(text)))


def render_pdf(t: NoticeText, owner_name: str, address: str, photo: Path | None) -> bytes:
    """The notice as a one-page A4 PDF."""
    font = _register_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)  # invariant: same input, same bytes
    c.setTitle(f"{t.title_en} {t.ticket_id}")
    w, h = A4
    y = h - 25 * mm
    c.setFont("Helvetica-Bold", 15)
    c.drawString(20 * mm, y, t.title_en)
    c.setFont(font, 15)
    c.drawRightString(w - 20 * mm, y - 9 * mm, urdu(t.title_ur))
    y -= 22 * mm
    c.setFont("Helvetica", 10)
    for line in (owner_name, *address.splitlines()[:3]):
        if line:
            c.drawString(20 * mm, y, line)
            y -= 5 * mm
    y -= 4 * mm
    rows = [
        ("Ticket number", t.ticket_id, "چالان نمبر"),
        ("Offence", t.offence_en, "خلاف ورزی"),
        ("Time", t.when, "وقت"),
        ("Place", t.place, "مقام"),
        ("Fine", f"PKR {t.fine_pkr}", "جرمانہ"),
        ("Due date", t.due, "آخری تاریخ"),
    ]
    for en, value, ur in rows:
        c.setFont("Helvetica-Bold", 11)
        c.drawString(20 * mm, y, en)
        c.setFont("Helvetica", 11)
        c.drawString(60 * mm, y, value)
        c.setFont(font, 12)
        c.drawRightString(w - 20 * mm, y, urdu(ur))
        y -= 8 * mm
    c.setFont(font, 12)
    c.drawRightString(w - 20 * mm, y, urdu(f"خلاف ورزی: {t.offence_ur} — جرمانہ {t.fine_pkr} روپے"))
    y -= 10 * mm
    if photo is not None and photo.is_file():
        try:
            img = ImageReader(str(photo))
            iw, ih = img.getSize()
            dw = 110 * mm
            dh = dw * ih / max(iw, 1)
            c.drawImage(img, 20 * mm, y - dh, dw, dh)
            c.setFont("Helvetica", 8)
            c.drawString(20 * mm, y - dh - 4 * mm, "Evidence photo")
        except (OSError, ValueError):
            c.setFont("Helvetica", 9)
            c.drawString(20 * mm, y - 5 * mm, "Evidence photo unavailable: see the portal")
    qr = QrCodeWidget(t.portal_url)
    b = qr.getBounds()
    size = 35 * mm
    d = Drawing(size, size, transform=[size / (b[2] - b[0]), 0, 0, size / (b[3] - b[1]), 0, 0])
    d.add(qr)
    renderPDF.draw(d, c, w - 20 * mm - size, 40 * mm)
    c.setFont("Helvetica", 9)
    c.drawString(20 * mm, 45 * mm, t.action_en)
    c.drawString(20 * mm, 40 * mm, f"Portal: {t.portal_url}")
    c.setFont(font, 11)
    c.drawRightString(w - 20 * mm - size - 5 * mm, 55 * mm, urdu(t.action_ur))
    c.showPage()
    c.save()
    return buf.getvalue()


__all__ = ["FONT_FILE", "render_pdf", "urdu"]
