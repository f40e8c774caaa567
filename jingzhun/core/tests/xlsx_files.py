"""Small .xlsx packages written by hand, as an attacker would write them: any sheet XML, any ZIP layout."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import quoteattr

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


def sheet_xml(rows: str, *, dimension: str | None = None, prefix: str = "") -> str:
    """A worksheet whose <sheetData> holds ``rows`` (written as they are), with an optional <dimension>."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    return f"{XML}<{p}worksheet {xmlns}>{dim}<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>"


def cell(ref: str | None, value: str | None = "1", *, prefix: str = "") -> str:
    """One cell: a number (or an inline string for text), empty when ``value`` is None (self-closing)."""
    p = f"{prefix}:" if prefix else ""
    r = f' r="{ref}"' if ref else ""
    if value is None:
        return f'<{p}c{r} s="1"/>'
    if value.isdigit():
        return f"<{p}c{r}><{p}v>{value}</{p}v></{p}c>"
    return f'<{p}c{r} t="inlineStr"><{p}is><{p}t>{value}</{p}t></{p}is></{p}c>'


def xlsx_package(
    sheets: dict[str, str],
    *,
    extra: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """A workbook with ``sheets`` (name → worksheet XML) and any ``extra`` members."""
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(len(names))
    )
    members = {
        "[Content_Types].xml": (
            f'{XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>"
        ).encode(),
        "_rels/.rels": (
            f'{XML}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'{XML}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
            + "".join(
                f'<sheet name={quoteattr(name)} sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, name in enumerate(names)
            )
            + "</sheets></workbook>"
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'{XML}<Relationships xmlns="{PKG_REL_NS}">'
            + "".join(
                f'<Relationship Id="rId{i + 1}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                for i in range(len(names))
            )
            + "</Relationships>"
        ).encode(),
    }
    for i, name in enumerate(names):
        members[f"xl/worksheets/sheet{i + 1}.xml"] = sheets[name].encode()
    members.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()
