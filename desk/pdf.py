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


def _cell(value: str | list[str], style) -> Paragraph:
    parts = [value] if isinstance(value, str) else value
    return Paragraph("<br/>".join(escape(part) for part in parts), style)


def records_pdf(activities: list[records.Activity]) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title="Records of processing activities (GDPR Art. 30)",
        author="Workpex",
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    head = styles["BodyText"].clone("head", fontSize=7.5, leading=9, fontName="Helvetica-Bold")
    story = [
        Paragraph("Records of processing activities (GDPR Art. 30)", styles["Title"]),
        Paragraph(escape(records.CONTROLLER), styles["BodyText"]),
        Paragraph(
            f"Generated {timezone.now():%Y-%m-%d %H:%M} UTC from the personal-data registry.",
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
    ]
    header = [Paragraph(label, head) for _name, label in records.COLUMNS]
    rows = [header] + [
        [_cell(getattr(activity, name), small) for name, _label in records.COLUMNS]
        for activity in activities
    ]
    widths = [28, 38, 46, 26, 20, 30, 18, 30, 30]
    table = Table(rows, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 4 * mm), Paragraph("Security measures", styles["Heading3"])]
    story += [Paragraph("• " + escape(m), styles["BodyText"]) for m in records.SECURITY_MEASURES]
    story += [
        Paragraph("Service providers", styles["Heading3"]),
        Paragraph(escape(", ".join(records.service_providers()) or "—"), styles["BodyText"]),
    ]
    document.build(story)
    return buffer.getvalue()
