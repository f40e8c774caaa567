"""The 明白卡 and the 人有卡 as A4 PDFs (reportlab, with a built-in CID font), from the plain data of cards.py."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from jingzhun.registry.documents.cards import HouseholdCard, MemberCard, Section

PDF_FONT = "STSong-Light"  # Adobe's CID font: no font file to ship; readers supply the glyphs (宋体)
TableCommand = tuple[Any, ...]  # a reportlab TableStyle command: (name, first cell, last cell, *arguments)


def _pdf_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


class _Pdf:
    """Shared styles and flowable helpers for both cards."""

    def __init__(self) -> None:
        from reportlab.lib import colors
        from reportlab.lib.enums import TA_CENTER
        from reportlab.lib.styles import ParagraphStyle

        font = _pdf_font()
        self.colors = colors
        self.title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=TA_CENTER)
        self.subtitle = ParagraphStyle("subtitle", fontName=font, fontSize=10, leading=14, alignment=TA_CENTER)
        self.heading = ParagraphStyle("heading", fontName=font, fontSize=11.5, leading=14, spaceBefore=4, spaceAfter=2)
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=11, wordWrap="CJK")
        self.small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10.5, wordWrap="CJK")
        self.label = ParagraphStyle("label", parent=self.cell, textColor=colors.HexColor("#444444"))
        self.font = font

    def p(self, text: object, style: Any = None) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(escape(str(text or "")), style or self.cell)

    def grid(
        self,
        rows: list[list[Any]],
        widths: list[float],
        *,
        header: bool = False,
        extra: Iterable[TableCommand] = (),
        heights: list[float] | None = None,
        lines: bool = True,
    ) -> Any:
        from reportlab.platypus import Table, TableStyle

        style: list[TableCommand] = [
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if lines:
            style.append(("GRID", (0, 0), (-1, -1), 0.5, self.colors.black))
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#eeeeee")))
        style.extend(extra)
        table = Table(rows, colWidths=widths, rowHeights=heights, repeatRows=1 if header else 0, hAlign="LEFT")
        table.setStyle(TableStyle(style))
        return table

    def section(self, section: Section, width: float) -> list[Any]:
        """A section as a label/value grid (Section.rows decides the layout, as on the HTML card)."""
        pairs = section.per_row
        label_w = width * (0.2 if pairs == 2 else 0.14)
        value_w = width / pairs - label_w
        rows: list[list[Any]] = []
        extra: list[TableCommand] = []
        shade = self.colors.HexColor("#f4f4f4")
        for row in section.rows:
            cells: list[Any] = []
            for f in row:
                cells += [self.p(f.label, self.label), self.p(f.value)]
            y = len(rows)
            if row[0].wide:
                extra += [("SPAN", (1, y), (2 * pairs - 1, y)), ("BACKGROUND", (0, y), (0, y), shade)]
            else:
                extra += [("BACKGROUND", (c, y), (c, y), shade) for c in range(0, 2 * pairs, 2)]
            rows.append(cells + [""] * (2 * pairs - len(cells)))
        return [
            self.p(section.title, self.heading),
            self.grid(rows, [label_w, value_w] * pairs, extra=extra),
        ]

    def helper_block(self, width: float) -> list[Any]:
        """Blank 帮扶责任人 area and signature lines, filled in by hand."""
        from reportlab.platypus import KeepTogether, Spacer

        label_w, value_w = width * 0.2, width * 0.3
        rows = [
            [self.p(_("帮扶单位"), self.label), "", self.p(_("帮扶责任人"), self.label), ""],
            [self.p(_("职务"), self.label), "", self.p(_("联系电话"), self.label), ""],
            [self.p(_("帮扶措施"), self.label), "", "", ""],
        ]
        table = self.grid(
            rows,
            [label_w, value_w, label_w, value_w],
            extra=[("SPAN", (1, 2), (3, 2)), ("VALIGN", (0, 2), (0, 2), "TOP")],
            heights=[17, 17, 40],  # room for handwriting
        )
        signatures = self.grid(
            [
                [
                    self.p(_("户主（签字）：")),
                    self.p(_("帮扶责任人（签字）：")),
                    self.p(_("村委会（盖章）：")),
                ],
                [self.p(_("日期：______年____月____日"), self.small)] * 3,
            ],
            [width / 3] * 3,
            extra=[("VALIGN", (0, 0), (-1, 0), "TOP")],
            heights=[26, 12],
            lines=False,
        )
        # Kept on one page: a helper block split across pages is useless for signing.
        return [KeepTogether([self.p(_("帮扶责任人"), self.heading), table, Spacer(1, 6), signatures])]

    def card_head(self, title: str, region_name: str, household_number: str, notice: str) -> list[Any]:
        """A card's title, its region and 户编号, and ``notice`` (cancelled / removed) when there is one."""
        from reportlab.platypus import Spacer

        story: list[Any] = [
            self.p(title, self.title),
            self.p(
                _("%(region)s　户编号：%(number)s") % {"region": region_name, "number": household_number},
                self.subtitle,
            ),
        ]
        if notice:
            story.append(self.p(notice, self.subtitle))
        story.append(Spacer(1, 4))
        return story

    @staticmethod
    def card_footer(household_number: str, generated_on: dt.date) -> str:
        return _("户编号 %(number)s　生成日期 %(date)s") % {
            "number": household_number,
            "date": f"{generated_on:%Y-%m-%d}",
        }

    def build(self, story: list[Any], *, title: str, footer: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        def on_page(canvas: Any, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(self.font, 7.5)
            canvas.drawString(15 * mm, 9 * mm, footer)
            canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, _("第 %(page)s 页") % {"page": doc.page})
            canvas.restoreState()

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=14 * mm,
            bottomMargin=16 * mm,
            title=title,
            author=_("精准扶贫信息系统"),
        )
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
        return buffer.getvalue()


def household_card_pdf(card: HouseholdCard) -> bytes:
    """The 明白卡 as an A4 PDF."""
    from reportlab.lib.units import mm

    pdf = _Pdf()
    width = 180 * mm
    notice = _("（该户已注销）") if card.cancelled else ""
    story = pdf.card_head(_("精准扶贫明白卡"), card.region_name, card.household_number, notice)
    story += pdf.section(card.summary, width)

    story.append(pdf.p(_("家庭成员"), pdf.heading))
    head = [_("序号"), _("姓名"), _("性别"), _("与户主关系"), _("证件号码"), _("出生日期")]
    head += [_("文化程度"), _("健康状况"), _("劳动技能"), _("务工状况")]
    rows = [[pdf.p(h, pdf.small) for h in head]]
    for i, m in enumerate(card.members, 1):
        values = [i, m.name, m.sex, m.relationship, m.id_number, m.birth_date]
        values += [m.education, m.health, m.labour, m.work]
        rows.append([pdf.p(v, pdf.small) for v in values])
    widths = [w * mm for w in (8, 15, 8, 14, 31, 18, 16, 20, 20, 30)]
    story.append(pdf.grid(rows, widths, header=True))

    story.append(pdf.p(_("收入情况（元）"), pdf.heading))
    if card.income.years:
        rows = [[pdf.p(_("项目"), pdf.label)] + [pdf.p(_("%(y)s年") % {"y": y}) for y in card.income.years]]
        bold: list[TableCommand] = []
        for line in card.income.lines:
            rows.append([pdf.p(line.label, pdf.label), *(pdf.p(v) for v in line.values)])
            if line.total:
                bold.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), pdf.colors.HexColor("#f7efe6")))
        year_w = (width - 50 * mm) / len(card.income.years)
        story.append(pdf.grid(rows, [50 * mm] + [year_w] * len(card.income.years), header=True, extra=bold))
    else:
        story.append(pdf.p(_("暂无年度收入记录")))

    story += pdf.section(card.guarantees, width)
    story += pdf.section(card.policies, width)
    story += pdf.helper_block(width)
    footer = pdf.card_footer(card.household_number, card.generated_on)
    return pdf.build(story, title=_("明白卡 %(number)s") % {"number": card.household_number}, footer=footer)


def member_card_pdf(card: MemberCard) -> bytes:
    """The 人有卡 as an A4 PDF."""
    from reportlab.lib.units import mm

    pdf = _Pdf()
    width = 180 * mm
    notice = _("（该成员已减少）") if card.removed else ""
    story = pdf.card_head(_("精准扶贫人员信息卡"), card.region_name, card.household_number, notice)
    for section in card.sections:
        story += pdf.section(section, width)
    story += pdf.helper_block(width)
    footer = pdf.card_footer(card.household_number, card.generated_on)
    return pdf.build(story, title=_("人有卡 %(name)s") % {"name": card.name}, footer=footer)
