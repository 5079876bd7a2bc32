"""The records of processing as a PDF (reportlab: pure Python, no system libraries)."""

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import records


def _cell(parts: list[str], style) -> Paragraph:
    return Paragraph("<br/>".join(escape(part) for part in parts), style)


def records_pdf(report: records.Records) -> bytes:
    """The report as a landscape A4 table: the same header lines, columns and cells as the HTML
    page and the CSV (records.Records)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=report.title,
        author="Workpex",
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=6, leading=7.5)
    head = styles["BodyText"].clone("head", fontSize=6.5, leading=8, fontName="Helvetica-Bold")
    story = [Paragraph(escape(report.title), styles["Title"])]
    story += [
        Paragraph(f"<b>{escape(label)}</b>: {escape(value)}", styles["BodyText"])
        for label, value in report.header
    ]
    story += [
        Paragraph(f"{timezone.now():%Y-%m-%d %H:%M} UTC", styles["BodyText"]),
        Spacer(1, 3 * mm),
    ]
    header = [Paragraph(escape(label), head) for label in report.columns]
    rows = [header] + [[_cell(cell, small) for cell in row] for row in report.rows]
    width = (document.width) / len(report.columns)
    table = Table(rows, colWidths=[width] * len(report.columns), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [
        table,
        Spacer(1, 4 * mm),
        Paragraph(escape(report.measures_title), styles["Heading3"]),
    ]
    story += [Paragraph("• " + escape(m), styles["BodyText"]) for m in report.measures]
    document.build(story)
    return buffer.getvalue()
