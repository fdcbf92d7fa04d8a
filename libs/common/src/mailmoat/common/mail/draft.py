"""What leaves, as it leaves: a draft made ready to send, and the fingerprint an approval binds.

Policy prepares every send the same way before judging it (no hidden characters in the subject
or text; HTML sanitised, and dropped unless every recipient may receive it), and the gateway
prepares a reviewer's edits the same way, so the draft a person approves is byte for byte the
draft that is judged and sent.

An approval (a person's, then policy's) stores ``content_sha256`` of the draft it approved, and
dispatch sends nothing whose fingerprint differs: a draft changed after it was approved (in the
database, or by a bug in any service between) is refused, never sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

from mailmoat.common.audit_chain import canonical_json
from mailmoat.common.mail.html import sanitise_html
from mailmoat.common.mail.scrub import scrub


def prepare(subject: str, text: str, html: str | None) -> tuple[str, str, str | None]:
    """The subject and text scrubbed of hidden characters, the HTML sanitised (``mail.html``)."""
    ready_html = sanitise_html(scrub(html).text) if html else None
    return scrub(subject).text, scrub(text).text, ready_html


def html_allowed(recipients: Sequence[str], html_recipients: Collection[str]) -> bool:
    """Whether every recipient's allowlist row allows HTML (``html_recipients``, lower case);
    otherwise the send leaves as text only."""
    return all(r.lower() in html_recipients for r in recipients)


def content_sha256(recipients: Sequence[str], subject: str, text: str, html: str | None) -> str:
    """SHA-256 (hex) of the draft: its recipients in order, subject, text and HTML, encoded as
    canonical JSON (sorted keys, no whitespace, ASCII only)."""
    content = {"html": html, "subject": subject, "text": text, "to": list(recipients)}
    return hashlib.sha256(canonical_json(content)).hexdigest()
