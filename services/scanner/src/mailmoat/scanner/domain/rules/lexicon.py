"""Word lists the rules share: where a command starts, agent actions, sensitive objects."""

from __future__ import annotations

CLAUSE_START = (
    r"(?:^|[.!?:;,\n>\-*\u2022\]]\s*|\b(?:please|and|then|also|now)\s+|\s(?=(?-i:[A-Z]))|"
    r"\b(?:you\s+)?(?:must|should|shall|need\s+to|have\s+to|are\s+to)\s+"
    r"(?:now\s+|immediately\s+)?)"
)
"""Where an imperative can begin: line or sentence start (or after a bracketed label), after
'please', 'and' or 'you must', or a capitalised word in mid-sentence (text pasted into a
sentence)."""

AGENT_ACTIONS = (
    r"(?:forward|send|e-?mail|reply|respond|click|open|visit|reveal|share|export|delete|"
    r"remove|transfer|wire|pay|upload|post|print|output|ignore|disregard|summari[sz]e|tell|"
    r"say|write|execute|run|download|install|grant|approve|b?cc|copy|leak|disclose|list|"
    r"dump|fetch|retrieve|call|include|add|mark|archive|create|change|update|reset)"
)
"""Things an email-reading agent can be made to do."""

VERDICT_ACTIONS = (
    r"(?:label|classify|categori[sz]e|treat|rate|score|flag|tag|deem|consider|whitelist|"
    r"allowlist|trust|prioriti[sz]e)"
)
"""Verdicts a reader can be told to give a mail: what steers a triaging agent or a detector."""

SENSITIVE = (
    r"(?:passwords?|passcodes?|credentials?|api[\s_-]?keys?|access[\s_-]?tokens?|"
    r"auth(?:entication)?\s+tokens?|session\s+(?:cookies?|tokens?)|secrets?|private\s+keys?|"
    r"(?:2fa|mfa|otp|one[\s-]time|verification|security|login)\s+codes?|(?:recovery|reset)\s+codes?|"
    r"seed\s+phrases?|system\s+prompt|ssh\s+keys?|bank\s+(?:details|account\s+numbers?)|"
    r"credit\s+card(?:\s+numbers?)?|social\s+security\s+numbers?)"
)
"""What an attacker wants out of the mailbox or the agent."""

BULK_MAIL = (
    r"(?:(?:all|every|each|the\s+(?:entire|whole))\s+(?:of\s+)?(?:(?:the|your|my|their|"
    r"user'?s)\s+)?(?:\w+\s+){0,2}?(?:e-?mails?|messages?|mails?|correspondence|conversations?|"
    r"threads?|contacts?|data)\b|(?:the|your|my|their|user'?s)\s+(?:inbox|mailbox|contacts|"
    r"contact\s+list|address\s+book|(?:chat|conversation|e-?mail|mail)\s+history)|"
    r"(?:the\s+)?(?:last|latest|recent|previous|first|top)\s+(?:\d+\s+|few\s+)?(?:e-?mails?|"
    r"messages?|conversations?|threads?))"
)
"""The mailbox's contents as a whole, the usual target of a forwarding instruction."""

EMAIL_ADDRESS = r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+"
URL = r"https?://[^\s\"'<>)\]]{3,2000}"
