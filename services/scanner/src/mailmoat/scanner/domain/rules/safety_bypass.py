"""Safety bypass: text telling the reader to drop its training, safeguards or usual rules."""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, PatternRule

_I = re.IGNORECASE
# "Never bypass safety interlocks" and "don't ignore the rules" warn; they do not order.
_NOT_WARNED = r"(?<!\bnot\s)(?<!\bnever\s)(?<!n't\s)(?<!\bno\s)"
_DROP = (
    _NOT_WARNED + r"\b(?:ignor|disregard|forget|overrid|ovarrid|overrul|bypass|circumvent|evad|"
    r"disabl|deactivat|suspend|abandon|shelv|ditch|discard|disobey|defy|defie|violat|"
    r"transcend|escap|break(?:ing)?\s+free\s+(?:of|from)|free\s+yourself\s+from|turn\w*\s+off|"
    r"switch\w*\s+off|set\w*\s+aside|put\w*\s+aside|step\w*\s+outside|go\w*\s+beyond|"
    r"venture\w*\s+beyond|get\w*\s+around|work\w*\s+around|relinquish|lift|deviat|"
    r"contradict|rise\s+up\s+against|act\w*\s+outside|operat\w*\s+outside)\w*"
)
_OWN = r"(?:your|its|ur|the\s+(?:AI'?s|assistant'?s|model'?s))"
_RULES = (
    r"(?:training|programming|guidelines|restrictions|rules|directives|protocols?|"
    r"constraints|limitations|limits|principles|ethics|policies|safeguards|guardrails|filters|"
    r"conditioning|alignment|standards|confines|boundaries|teachings|decision[\s-]making|"
    r"programmed\s+\w+|standard\s+operations)"
)
_SAFETY = (
    r"(?:safety|ethical|ethics|moral|content|built-in|alignment|programmed|AI)\s+"
    r"(?:filters?|training|guidelines|restrictions|rules|protocols|measures|guardrails|"
    r"constraints|polic(?:y|ies)|settings|mechanisms|layers|checks|limits|principles)"
)
_DROP_RULES = re.compile(
    rf"{_DROP}\b[^.\n]{{0,30}}?\b(?:{_OWN}\s+(?:\w+\s+){{0,2}}?{_RULES}|{_SAFETY}|"
    r"(?:guidelines|guardrails|safeguards|programmed\s+confines))\b",
    _I,
)
_LIFTED = re.compile(
    rf"\b{_SAFETY}\s+(?:are|is|have\s+been|has\s+been|were|now)\s+(?:now\s+)?(?:temporarily\s+)?"
    r"(?:suspended|disabled|lifted|removed|off|deactivated|compressed\s+out|void|waived|"
    r"bypassed|overridden)"
    r"|\b(?:these|your|the|my)\s+(?:restrictions|guidelines|rules|filters|safeguards)\s+"
    r"(?:do\s+not|don'?t|no\s+longer)\s+apply\s+(?:to\s+(?:me|us|this)|here|now)"
    r"|\b(?:you\s+have|you'?ve\s+got|with|you\s+are\s+under)\s+no\s+(?:restrictions|filters|"
    r"limits|guidelines|rules)\b"
    r"|\b(?:respond|reply|answer|speak|act|operate)\w*\s+(?:fully\s+)?(?:unrestricted|unfiltered|"
    r"uncensored|without\s+(?:any\s+)?(?:restrictions|filters|limits))",
    _I,
)
_FOREIGN_DROP = (
    r"\b(?:ignor|olvid|descart|omit|desactiv|aparta|salta|supera|esque[cç]|desconsider|"
    r"desengat|oubli|contourn|d[ée]sactiv|vergiss|missacht|umgeh|deaktivier|dimentic|"
    r"aggir|scavalc|abandon|anul|desaf|contradi|desvi|desasocia|desassocia|contrevien|"
    r"verletz|brich|scart|disattiv|bypass)\w*"
)
# Spanish, French, German, Italian and Portuguese: "your rules", or rules that are ethical,
# programmed or built in, are the object.
_FOREIGN_BUILT_IN = re.compile(
    _FOREIGN_DROP + r"\s+[^.\n]{0,40}?\b(?:[ée]tic[ao]s?|[ée]thiques?|ethische\w*|etich[ei]|"
    r"[ée]ticos|programad[ao]s|programmat[ei]|programmiert\w*|integrad[ao]s|incorporad[ao]s|"
    r"int[ée]gr[ée]e?s|integrat[ei]|seguridad|seguran[çc]a|s[ée]curit[ée]|sicurezza|"
    r"Sicherheits\w*)\b",
    _I,
)
_FOREIGN = re.compile(
    _FOREIGN_DROP + r"\s+(?:\w+\s+){0,3}?(?:tus?|tes?|ton|vos|deine[nrs]?|dein|le\s+tue|"
    r"i\s+tuoi|il\s+tuo|la\s+tua|teus?|tuas?|seus?|suas?|o\s+teu|os\s+teus|as\s+tuas|todas\s+"
    r"as|todas\s+las|toutes\s+les|alle)\s+(?:\w+\s+){0,2}?(?:pautas|reglas|normas|directrices|"
    r"programaci[óo]n|restricciones|[ée]ticas|protocol\w*|r[èe]gles|consignes|directives|"
    r"mesures|s[ée]curit[ée]|programmation|Regeln|Richtlinien|Programmierung|Anweisungen|"
    r"Sicherheit\w*|direttive|regole|istruzioni|programmazione|regras|diretrizes|"
    r"programa[çc][ãa]o|protocolos?|processo|percorsi|procedimientos|proc[ée]dures|"
    r"procedimentos|limitaciones|limitazioni|limit[ie]s?|restri[çc][õo]es|restrizioni|"
    r"principios|Compliance\w*|marco|fun[çc][õo]es|norma)\b",
    _I,
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Each part is run around its own anchors: the verbs and participles are rare in mail, while
# nouns like "settings" or "standards" fill newsletters and would wake the expressions often.
_DROP_ANCHORS = (
    *_words(
        "ignore ignores ignoring disregard disregarding forget forgetting override overriding "
        "ovarride overrule bypass bypassing circumvent circumventing evade evading disable "
        "disabling deactivate suspend abandon abandoning shelve ditch discard disobey disobeying "
        "defy defying violate violating transcend escape relinquish lift lifting deviate "
        "contradict"
    ),
    *(
        "break free",
        "breaking free",
        "free yourself",
        "turn off",
        "switch off",
        "set aside",
        "put aside",
        "step outside",
        "go beyond",
        "venture beyond",
        "get around",
        "work around",
        "rise up",
        "act outside",
        "operate outside",
    ),
)
_LIFTED_ANCHORS = (
    *_words(
        "suspended disabled lifted removed deactivated compressed void waived bypassed overridden "
        "apply unrestricted unfiltered uncensored"
    ),
    *("no restrictions", "no filters", "no limits", "no guidelines", "no rules"),
)
# Foreign nouns only: "marco", "norma" or "compliance" also name people or English things.
_FOREIGN_ANCHORS = _words(
    "pautas reglas normas directrices programación programacion restricciones éticas eticas "
    "règles regles consignes directives mesures sécurité securite programmation regeln "
    "richtlinien programmierung anweisungen sicherheit direttive regole istruzioni "
    "programmazione regras diretrizes programação programacao protocolo protocolos processo "
    "percorsi procedimientos procédures procedimentos limitaciones limitazioni limites limiti "
    "restrições restricoes restrizioni principios funções funcoes ético ética éticos etico "
    "etica etiche etici éthique éthiques ethische ethischen ethischer programadas programados "
    "programmate programmati integradas incorporadas intégrées intégrés seguridad segurança "
    "seguranca sicurezza"
)
_DESCRIPTION = "tells the reader to drop its training, safeguards or usual rules"


class SafetyBypassRule:
    """Orders to drop training or safeguards, in English and five other languages."""

    code = "injection.safety_bypass"
    description = _DESCRIPTION
    weight = 50
    markup = False

    def __init__(self) -> None:
        parts = (
            ((_DROP_RULES,), _DROP_ANCHORS),
            ((_LIFTED,), _LIFTED_ANCHORS),
            ((_FOREIGN, _FOREIGN_BUILT_IN), _FOREIGN_ANCHORS),
        )
        self._parts = tuple(
            PatternRule(self.code, _DESCRIPTION, self.weight, patterns, anchors, reach=120)
            for patterns, anchors in parts
        )

    def check(self, segment: Segment) -> list[Finding]:
        found = [finding for part in self._parts for finding in part.check(segment)]
        return found[:MAX_HITS]


SAFETY_BYPASS = SafetyBypassRule()
