"""Quoted reply history is split off the visible text: Gmail, Outlook, ``>`` quoting, HTML."""

from __future__ import annotations

from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.ingest.domain.mime import parse_message
from mailmoat.ingest.domain.mime.quotes import split_quoted


def _mail(body: str, subtype: str = "plain") -> StructuredMessage:
    raw = (
        "From: a@example.com\r\nTo: b@example.org\r\nSubject: Re: plan\r\n"
        f"Content-Type: text/{subtype}; charset=utf-8\r\n\r\n{body}"
    )
    return parse_message(raw.encode()).message


def test_gmail_attribution_wrapped_over_two_lines() -> None:
    text = (
        "Sounds good, see you then.\n\n"
        "On Mon, Mar 4, 2024 at 10:12 AM Alice Example <\nalice@example.com> wrote:\n\n"
        "> Shall we meet on Tuesday?\n"
    )
    fresh, quoted = split_quoted(text)
    assert fresh == "Sounds good, see you then."
    assert quoted.startswith("On Mon, Mar 4")
    assert quoted.endswith("> Shall we meet on Tuesday?")


def test_outlook_original_message_block() -> None:
    text = "Approved.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\nSubject: PO\n\nBody"
    assert split_quoted(text) == (
        "Approved.",
        "-----Original Message-----\nFrom: Bob\nSent: Monday\nSubject: PO\n\nBody",
    )


def test_outlook_header_block_after_a_rule() -> None:
    text = (
        "Thanks!\n\n________________________________\n"
        "From: Bob Builder <bob@example.com>\nSent: Tuesday, 5 March 2024 09:00\n"
        "To: Alice\nSubject: Invoice\n\nPlease pay."
    )
    fresh, quoted = split_quoted(text)
    assert fresh == "Thanks!"
    assert quoted.startswith("________________________________\nFrom: Bob Builder")


def test_a_from_line_without_sent_is_not_history() -> None:
    text = "From: the desk of the CEO\nplease read this carefully"
    assert split_quoted(text) == (text, "")


def test_interleaved_angle_quotes_leave_the_replies() -> None:
    text = "> question one?\nanswer one\n> question two?\nanswer two"
    assert split_quoted(text) == ("answer one\nanswer two", "> question one?\n> question two?")


def test_bare_wrote_line_before_quotes() -> None:
    fresh, quoted = split_quoted("Agreed.\n\nMarc wrote:\n> old text")
    assert (fresh, quoted) == ("Agreed.", "Marc wrote:\n> old text")


def test_plain_text_mail_keeps_the_history_apart() -> None:
    message = _mail("New words.\r\n\r\nOn Tue, Bob wrote:\r\n> old words\r\n")
    assert message.visible_text == "New words."
    assert message.quoted_history == "On Tue, Bob wrote:\n> old words"


def test_gmail_html_quote_is_history() -> None:
    html = (
        '<div dir="ltr">Yes, ship it.</div><br><div class="gmail_quote">'
        '<div class="gmail_attr">On Mon, Alice &lt;alice@example.com&gt; wrote:<br></div>'
        '<blockquote class="gmail_quote">Ready to ship?</blockquote></div>'
    )
    message = _mail(html, "html")
    assert message.visible_text == "Yes, ship it."
    assert "Ready to ship?" in message.quoted_history
    assert "On Mon, Alice <alice@example.com> wrote:" in message.quoted_history


def test_html_blockquote_is_history() -> None:
    message = _mail(
        "<p>Fine by me.</p><blockquote type='cite'><p>Earlier text</p></blockquote>", "html"
    )
    assert (message.visible_text, message.quoted_history) == ("Fine by me.", "Earlier text")


def test_outlook_html_reply_header_splits_on_rendered_text() -> None:
    html = (
        "<p>Looks right.</p><hr><div id='divRplyFwdMsg'><b>From:</b> Bob &lt;bob@example.com&gt;"
        "<br><b>Sent:</b> Monday<br><b>Subject:</b> Figures</div><p>Old figures</p>"
    )
    message = _mail(html, "html")
    assert message.visible_text == "Looks right."
    assert message.quoted_history.startswith("From: Bob <bob@example.com>")
    assert message.quoted_history.endswith("Old figures")
