"""The invoice as a PDF (reportlab, with the Bitstream Vera fonts it ships)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from domain import money

_FONTS = Path(reportlab.__file__).parent / "fonts"
pdfmetrics.registerFont(TTFont("Vera", str(_FONTS / "Vera.ttf")))
pdfmetrics.registerFont(TTFont("Vera-Bold", str(_FONTS / "VeraBd.ttf")))

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
BAND = colors.HexColor("#f0f4f8")

BODY = ParagraphStyle("body", fontName="Vera", fontSize=9, leading=12, textColor=INK)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10, textColor=MUTED)
TITLE = ParagraphStyle("title", parent=BODY, fontName="Vera-Bold", fontSize=22, leading=26)
HEAD = ParagraphStyle("head", parent=BODY, fontName="Vera-Bold", fontSize=10, leading=13)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=TA_RIGHT)
RIGHT_BOLD = ParagraphStyle("right_bold", parent=RIGHT, fontName="Vera-Bold")


def _lines(*values: Any) -> str:
    return "<br/>".join(escape(str(v)) for v in values if v)


def _amount(value: Any, currency: str) -> str:
    return f"{money.round_money(value, currency):,} {currency}"


def _price(value: Any, currency: str) -> str:
    """A unit price with at least the currency's digits: 75 -> 75.00 for GBP."""
    places = max(money.minor_units(currency), money.decimal_places(value))
    return f"{value:,.{places}f}"


def _quantity(value: Any) -> str:
    return f"{value.normalize():f}"


class InvoicePdf:
    """Renders an invoice like a UK business would send it: seller, buyer, lines, totals."""

    def render(self, invoice: Any, seller: Any, client: Any) -> bytes:
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title=f"Invoice {invoice.number}",
            author=seller.profile.get("business_name") or seller.name,
        )
        doc.build(self._story(invoice, seller, client))
        return buffer.getvalue()

    def _story(self, invoice: Any, seller: Any, client: Any) -> list[Any]:
        p, c = seller.profile, client.details
        cur = invoice.currency
        totals = invoice.totals
        seller_block = Paragraph(
            "<font name='Vera-Bold' size='12'>"
            + escape(p.get("business_name") or seller.name)
            + "</font><br/>"
            + _lines(
                p.get("address_line1"),
                p.get("address_line2"),
                p.get("city"),
                p.get("postcode"),
                p.get("country"),
                p.get("email"),
                p.get("phone"),
            )
            + (f"<br/>VAT number: {escape(p['tax_number'])}" if p.get("tax_number") else ""),
            BODY,
        )
        header = Table(
            [[Paragraph("INVOICE", TITLE), seller_block]],
            colWidths=[85 * mm, 89 * mm],
            style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")],
        )
        bill_to = Paragraph(
            "<font name='Vera-Bold'>Bill to</font><br/>"
            + _lines(
                c.get("name"),
                c.get("company"),
                c.get("address_line1"),
                c.get("address_line2"),
                c.get("city"),
                c.get("county"),
                c.get("postcode"),
                c.get("country"),
                c.get("email"),
            )
            + (f"<br/>VAT number: {escape(c['tax_number'])}" if c.get("tax_number") else ""),
            BODY,
        )
        facts = Table(
            [
                [Paragraph("Invoice number", SMALL), Paragraph(escape(invoice.number), RIGHT_BOLD)],
                [Paragraph("Issue date", SMALL), Paragraph(_date(invoice.issue_date), RIGHT)],
                [Paragraph("Due date", SMALL), Paragraph(_date(invoice.due_date), RIGHT)],
                [Paragraph("Status", SMALL), Paragraph(invoice.status.replace("_", " "), RIGHT)],
            ],
            colWidths=[35 * mm, 45 * mm],
            style=[("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE)],
        )
        parties = Table(
            [[bill_to, facts]],
            colWidths=[94 * mm, 80 * mm],
            style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")],
        )
        rows: list[list[Any]] = [
            [
                Paragraph("Description", HEAD),
                Paragraph("Qty", RIGHT_BOLD),
                Paragraph("Unit price", RIGHT_BOLD),
                Paragraph("Amount", RIGHT_BOLD),
            ]
        ]
        for line in invoice.line_items:
            rows.append(
                [
                    Paragraph(escape(line.description), BODY),
                    Paragraph(_quantity(line.quantity), RIGHT),
                    Paragraph(_price(line.unit_price, cur), RIGHT),
                    Paragraph(_amount(line.amount(cur), cur), RIGHT),
                ]
            )
        lines = Table(rows, colWidths=[94 * mm, 20 * mm, 28 * mm, 32 * mm], repeatRows=1)
        lines.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), BAND),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ]
            )
        )
        tax_label = f"{invoice.tax_name or 'Tax'} ({_quantity(invoice.tax_rate)}%)"
        summary_rows = [
            ("Subtotal", _amount(totals.subtotal, cur)),
            (tax_label, _amount(totals.tax_amount, cur)),
            ("Total", _amount(totals.total, cur)),
            ("Amount paid", _amount(totals.amount_paid, cur)),
            ("Amount due", _amount(totals.amount_due, cur)),
        ]
        summary = Table(
            [
                [
                    Paragraph(
                        escape(label), RIGHT_BOLD if label in ("Total", "Amount due") else RIGHT
                    ),
                    Paragraph(value, RIGHT_BOLD if label in ("Total", "Amount due") else RIGHT),
                ]
                for label, value in summary_rows
            ],
            colWidths=[40 * mm, 40 * mm],
            hAlign="RIGHT",
            style=[
                ("LINEABOVE", (0, 2), (-1, 2), 0.75, INK),
                ("BACKGROUND", (0, 4), (-1, 4), BAND),
            ],
        )
        story: list[Any] = [header, Spacer(1, 10 * mm), parties, Spacer(1, 8 * mm), lines]
        story += [Spacer(1, 4 * mm), summary]
        if p.get("payment_instructions"):
            story += [
                Spacer(1, 10 * mm),
                Paragraph("Payment instructions", HEAD),
                Paragraph(escape(p["payment_instructions"]).replace("\n", "<br/>"), BODY),
            ]
        if invoice.notes:
            story += [
                Spacer(1, 6 * mm),
                Paragraph("Notes", HEAD),
                Paragraph(escape(invoice.notes).replace("\n", "<br/>"), BODY),
            ]
        return story


def _date(value: Any) -> str:
    return str(value.strftime("%d %B %Y"))
