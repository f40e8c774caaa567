"""Everything a response tells its reader, as text to search: headers, HTML, CSV, the cells of a workbook and
the text drawn in a PDF (as far as it can be read without a PDF library)."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import zipfile
import zlib
from urllib.parse import quote

from django.http import HttpResponseBase

_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\s*endstream", re.S)
_PDF_LITERAL = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)
_PDF_HEX = re.compile(rb"<([0-9A-Fa-f\s]+)>")
_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def body_bytes(response: HttpResponseBase) -> bytes:
    """The whole body, streamed or not. The test client closes a streamed response once it has been read
    (closing it again here would fire request_finished, which closes the database connection)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)  # type: ignore[attr-defined]


def response_text(response: HttpResponseBase) -> str:
    """Headers and body as one searchable text; downloads are opened (XLSX parts, PDF text)."""
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    body = body_bytes(response)
    if body.startswith(b"PK"):
        text = xlsx_text(body)
    elif body.startswith(b"%PDF"):
        text = pdf_text(body)
    else:
        text = body.decode("utf-8-sig", errors="replace")
    return f"{headers}\n{text}\n{html.unescape(text)}"


def xlsx_text(data: bytes) -> str:
    """Every XML part of the workbook (shared strings, inline strings, sheet names, properties)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = [archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()]
    return "\n".join(parts)


def _unescape_literal(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        char = raw[i : i + 1]
        if char != b"\\":
            out += char
            i += 1
            continue
        following = raw[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += _PDF_ESCAPES.get(following, following)
            i += 2
    return bytes(out)


def _hex_string(raw: bytes) -> bytes:
    digits = re.sub(rb"\s", b"", raw).decode()
    return bytes.fromhex(digits + "0" * (len(digits) % 2))  # an odd last digit is followed by 0


def _decoded(strings: list[bytes]) -> str:
    """The strings joined twice: as the CID fonts (the Chinese ones) draw them, UTF-16BE code units, and
    as the standard fonts do, Latin-1. Joined, so a line wrapped between two strings still reads whole."""
    utf16 = "".join(s.decode("utf-16-be", errors="replace") if len(s) % 2 == 0 else "\ufffd" for s in strings)
    return f"{utf16}\n{b''.join(strings).decode('latin-1')}"


def _inflated(stream: bytes) -> bytes:
    """A stream's content through the filters ReportLab uses (ASCII85, then Flate); as is otherwise."""
    if stream.endswith(b"~>"):
        stream = base64.a85decode(stream.removesuffix(b"~>").removeprefix(b"<~"))
    try:
        return zlib.decompress(stream)
    except zlib.error:
        return stream


def pdf_text(data: bytes) -> str:
    """The strings shown in each (inflated) content stream, concatenated in drawing order."""
    texts = []
    for stream in _PDF_STREAM.findall(data):
        content = _inflated(stream)
        literals = [_unescape_literal(m[1:-1]) for m in _PDF_LITERAL.findall(content)]
        hexes = [_hex_string(m) for m in _PDF_HEX.findall(content)]
        texts += [_decoded(literals), _decoded(hexes)]
    return "\n".join([data.decode("latin-1"), *texts])


def spellings(marker: str) -> set[str]:
    """The forms a string takes in a page: as is, HTML-escaped, JSON-escaped (\\uXXXX) and URL-quoted."""
    return {marker, html.escape(marker), json.dumps(marker)[1:-1], quote(marker), quote(marker, safe="")}
