"""The ``html_smuggling`` rule: files assembled in the browser vs. ordinary HTML mail."""

from __future__ import annotations

import base64

import pytest

from mailmoat.ingest.domain.checks import html_smuggling
from tests.unit.ingest.checks.samples import part, pe_executable

PAYLOAD = base64.b64encode(pe_executable() * 8).decode()

BLOB_SMUGGLER = f"""<html><body><script>
var b64 = "{PAYLOAD}";
var raw = atob(b64); var bytes = new Uint8Array(raw.length);
for (var i = 0; i < raw.length; i++) {{ bytes[i] = raw.charCodeAt(i); }}
var blob = new Blob([bytes], {{type: "application/octet-stream"}});
if (window.navigator.msSaveOrOpenBlob) {{ window.navigator.msSaveOrOpenBlob(blob, "scan.iso"); }}
else {{ var a = document.createElement("a"); a.href = URL.createObjectURL(blob);
a.download = "scan.iso"; document.body.appendChild(a); a.click(); }}
</script></body></html>"""

DATA_LINK = f'<a href="data:application/octet-stream;base64,{PAYLOAD}" download="f.exe">Open</a>'
DATA_NAVIGATION = (
    '<script>window.location.href = "data:application/x-msdownload;base64,TVq";</script>'
)

NEWSLETTER = f"""<html><head><style>p {{ color: #333; }}</style></head><body>
<img src="data:image/png;base64,{PAYLOAD}" alt="logo">
<h1>Spring news</h1><p>Read <a href="https://example.org/news">the full story</a>.</p>
<a href="data:image/png;base64,{PAYLOAD[:200]}" download="logo.png">Save our logo</a>
<script>document.getElementById("year").textContent = new Date().getFullYear();</script>
</body></html>"""


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (BLOB_SMUGGLER, "script decodes a large base64 payload into a Blob and saves it"),
        (DATA_LINK, "link downloads an embedded base64 file (data: URL with download)"),
        (DATA_NAVIGATION, "script navigates the window to a data: URL"),
    ],
)
def test_smuggling_html_is_found(html: str, reason: str) -> None:
    findings = html_smuggling.check(part(html.encode(), "invoice.html", "text/html"))
    assert [(f.code, f.reason) for f in findings] == [
        ("html.smuggling", f"HTML smuggling: {reason}")
    ]


def test_svg_attachment_is_checked_by_name() -> None:
    svg = f"<svg xmlns='http://www.w3.org/2000/svg'><script>{BLOB_SMUGGLER}</script></svg>"
    findings = html_smuggling.check(part(svg.encode(), "image.svg", "application/octet-stream"))
    assert [f.code for f in findings] == ["html.smuggling"]


def test_newsletter_with_inline_images_is_clean() -> None:
    assert html_smuggling.check(part(NEWSLETTER.encode(), None, "text/html")) == []


def test_non_html_parts_are_not_read() -> None:
    assert html_smuggling.check(part(BLOB_SMUGGLER.encode(), "notes.txt", "text/plain")) == []
