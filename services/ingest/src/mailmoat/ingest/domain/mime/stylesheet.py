"""Rules of ``<style>`` blocks keyed by simple selectors, so class-based hiding is seen too."""

from __future__ import annotations

import re

from mailmoat.ingest.domain.mime.css import declarations, unescape

_BRACE = re.compile(r"[{}]")
_SIMPLE = re.compile(r"^([a-z0-9]*)([.#])([-\w]+)$", re.IGNORECASE)
_MAX_RULES = 2000

Rules = dict[str, dict[str, str]]


def learn_rules(css: str, rules: Rules) -> None:
    """Add the top-level rules of ``css`` whose selectors are ``.c``, ``#i`` or ``tag.c``.

    At-rule blocks (``@media``...) are skipped: they apply only on some screens.
    """
    css = unescape(css)
    depth = 0
    selector, body_start, segment_start = "", 0, 0
    for brace in _BRACE.finditer(css):
        if brace.group() == "{":
            if depth == 0:
                selector = css[segment_start : brace.start()].rpartition(";")[2].strip()
                body_start = brace.end()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                _add(rules, selector, css[body_start : brace.start()])
                segment_start = brace.end()


def _add(rules: Rules, selector_list: str, body: str) -> None:
    if selector_list.startswith("@") or "{" in body:
        return
    decls = declarations(body)
    for selector in selector_list.split(","):
        match = _SIMPLE.match(selector.strip())
        if match and len(rules) < _MAX_RULES:
            key = (match.group(1).lower() + match.group(2) + match.group(3)).lower()
            rules[key] = rules.get(key, {}) | decls


def matching(rules: Rules, tag: str, attrs: dict[str, str]) -> dict[str, str]:
    """Declarations of the rules that select an element with these attributes."""
    if not rules:
        return {}
    keys = []
    for name in attrs.get("class", "").lower().split()[:20]:
        keys += [f".{name}", f"{tag}.{name}"]
    if element_id := attrs.get("id", "").lower():
        keys += [f"#{element_id}", f"{tag}#{element_id}"]
    merged: dict[str, str] = {}
    for key in keys:
        merged |= rules.get(key, {})
    return merged
