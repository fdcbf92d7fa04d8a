"""Links to request catchers and paste sites, where stolen data is usually dropped."""

from __future__ import annotations

import re

from mailmoat.scanner.domain.rules.base import PatternRule

_HOSTS = (
    r"webhook\.site|requestbin\.\w+|pipedream\.net|hookbin\.com|beeceptor\.com|"
    r"ngrok(?:-free)?\.(?:io|app|dev)|burpcollaborator\.net|oastify\.com|interact\.sh|oast\.\w+|"
    r"pastebin\.com|paste\.ee|hastebin\.com|ghostbin\.\w+|transfer\.sh|"
    r"discord(?:app)?\.com/api/webhooks|hooks\.slack\.com/services|canarytokens\.com|"
    r"requestcatcher\.com|postb\.in|webhook\.cool|trycloudflare\.com"
)
_DROP = re.compile(r"(?:https?://)?(?:[\w-]+\.)*(?:" + _HOSTS + r")[^\s\"'<>)]*", re.IGNORECASE)

DROP_SITE = PatternRule(
    code="exfil.drop_site",
    description="links to a request catcher or paste site",
    weight=25,
    patterns=(_DROP,),
    anchors=(
        "webhook",
        "requestbin",
        "pipedream",
        "hookbin",
        "beeceptor",
        "ngrok",
        "burpcollaborator",
        "oast",
        "oastify",
        "interact.sh",
        "pastebin",
        "paste.ee",
        "hastebin",
        "ghostbin",
        "transfer.sh",
        "discord",
        "discordapp",
        "hooks.slack",
        "canarytokens",
        "requestcatcher",
        "postb.in",
        "webhook.cool",
        "trycloudflare",
    ),
    markup=True,
)
