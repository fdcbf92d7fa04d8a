"""Text inside attachments (plain text, HTML, PDF, DOCX), so the scanner covers them too."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass

from mailmoat.common.mail.structured import TextStatus
from mailmoat.ingest.domain.mime.html import render_html
from mailmoat.ingest.domain.mime.limits import MimeLimits

MAX_INPUT_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 200_000
MAX_PDF_PAGES = 200
_DOCX_TEXT = re.compile(rb"<w:t(?:\s[^>]*)?>([^<]*)</w:t>|<w:(?:p|br|tab)\b[^>]*/?>")
_XML_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'"}

logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # hostile PDFs would flood the log


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    status: TextStatus


def extract_text(data: bytes, sniffed: str, declared: str, limits: MimeLimits) -> Extracted:
    """The attachment's text and how far extraction got; never raises."""
    if len(data) > MAX_INPUT_BYTES:
        return Extracted("", "too_large")
    try:
        return _by_type(data, sniffed, declared, limits)
    except Exception:  # a hostile file must not stop the message: it becomes a coverage gap
        return Extracted("", "failed")


def _by_type(data: bytes, sniffed: str, declared: str, limits: MimeLimits) -> Extracted:
    if sniffed == "application/pdf":
        return _pdf(data)
    if sniffed.endswith("wordprocessingml.document") or declared.endswith(
        "wordprocessingml.document"
    ):
        return _docx(data)
    if sniffed == "text/html" or declared == "text/html":
        view = render_html(data.decode("utf-8", "replace"), limits)
        hidden = "\n".join(text for _, text in view.hidden)
        return _done("\n".join(t for t in (view.visible, view.quoted, hidden) if t))
    if sniffed.startswith("text/") or declared.startswith("text/"):
        return _done(data.decode("utf-8", "replace"))
    return Extracted("", "unsupported")


def _done(text: str) -> Extracted:
    text = text.strip()
    return Extracted(text[:MAX_TEXT_CHARS], "extracted" if text else "empty")


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        return Extracted("", "encrypted")
    texts, total = [], 0
    for page in reader.pages[:MAX_PDF_PAGES]:
        texts.append(page.extract_text() or "")
        total += len(texts[-1])
        if total > MAX_TEXT_CHARS:
            break
    return _done("\n".join(texts))


def _docx(data: bytes) -> Extracted:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("word/document.xml")
        if info.file_size > MAX_INPUT_BYTES * 5:
            return Extracted("", "too_large")
        xml = archive.read(info)
    pieces = [m.group(1) if m.group(1) is not None else b"\n" for m in _DOCX_TEXT.finditer(xml)]
    text = b"".join(pieces).decode("utf-8", "replace")
    for entity, char in _XML_ENTITIES.items():
        text = text.replace(entity, char)
    return _done(text)
