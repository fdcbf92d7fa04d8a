"""The little CSS needed to tell whether an element's text is hidden from a person."""

from __future__ import annotations

import re

from mailmoat.common.mail.structured import HiddenKind

Color = tuple[int, int, int]

_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)
_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
_LENGTH = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*(px|pt|em|rem|pc|in|cm|mm|%|vw|vh|ex|ch)?\s*$"
)
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$")
_RGB = re.compile(r"^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+))?\s*\)$")
_PX_PER_UNIT = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 37.8, "mm": 3.78}
_PX_PER_UNIT |= {"em": 16.0, "rem": 16.0, "ex": 8.0, "ch": 8.0, "vw": 12.0, "vh": 8.0}
_NAMED = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "silver": (192, 192, 192),
    "navy": (0, 0, 128),
    "whitesmoke": (245, 245, 245),
    "snow": (255, 250, 250),
    "ivory": (255, 255, 240),
}
TRANSPARENT: Color = (-1, -1, -1)
_OFF_SCREEN_PX = -500.0
_SIDES = ("left", "top", "right", "bottom", "text-indent", "margin-left", "margin-top")


def unescape(text: str) -> str:
    """Undo CSS escapes, which browsers apply before matching property names and values."""
    return _ESCAPE.sub(_unescape_one, _COMMENT.sub(" ", text))


def _unescape_one(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return match.group(2)
    code = int(match.group(1), 16)
    return chr(code) if 0 < code < 0x110000 else "\ufffd"


def declarations(style: str) -> dict[str, str]:
    """Property -> value of a ``style`` attribute or rule body, lower-cased, last one winning."""
    result: dict[str, str] = {}
    for item in unescape(style).split(";"):
        name, colon, value = item.partition(":")
        if colon:
            value = value.lower().replace("!important", "").strip()
            result[name.strip().lower()] = value
    return result


def hiding(decls: dict[str, str]) -> tuple[HiddenKind, str | None] | None:
    """How these declarations hide an element's text, and the property a child may override
    it with (``visibility``, ``font-size``); None when they do not hide it."""
    if not decls:
        return None
    if decls.get("display") == "none" or decls.get("mso-hide") == "all":
        return "css_hidden", None
    if decls.get("visibility") in ("hidden", "collapse"):
        return "css_hidden", "visibility"
    opacity = _number(decls.get("opacity"))
    if opacity is not None and opacity <= 0.05:
        return "css_hidden", None
    font = px(decls.get("font-size"))
    if font is not None and font < 1.5:
        return "zero_size", "font-size"
    if _zero_box(decls):
        return "zero_size", None
    if _off_screen(decls):
        return "off_screen", None
    return None


def overrides(prop: str, decls: dict[str, str]) -> bool:
    """Whether a child's own declaration undoes a parent's hiding through ``prop``."""
    value = decls.get(prop, "")
    if prop == "visibility":
        return value == "visible"
    # Relative sizes (em, %) of a zero font stay zero; only an absolute size brings text back.
    size = px(value) if not value.endswith(("em", "%", "ex", "ch")) else None
    return size is not None and size >= 1.5


def _zero_box(decls: dict[str, str]) -> bool:
    if "scale(0" in decls.get("transform", "").replace(" ", ""):
        return True
    clipped = "rect(0" in decls.get("clip", "").replace(" ", "")
    if clipped and decls.get("position") in ("absolute", "fixed"):
        return True
    if decls.get("overflow") != "hidden":
        return False
    sizes = (px(decls.get(name)) for name in ("width", "height", "max-width", "max-height"))
    return any(size is not None and size <= 1 for size in sizes)


def _off_screen(decls: dict[str, str]) -> bool:
    offsets = (px(decls.get(side)) for side in _SIDES)
    if any(offset is not None and offset <= _OFF_SCREEN_PX for offset in offsets):
        return True
    if decls.get("position") not in ("absolute", "fixed"):
        return False
    far = (px(decls.get(side)) for side in ("left", "top"))
    return any(offset is not None and offset >= 5000 for offset in far)


def px(value: str | None) -> float | None:
    """A CSS length in approximate pixels; None for anything else (auto, %, calc...)."""
    if not value:
        return None
    match = _LENGTH.match(value.split()[0] if value.split() else value)
    if match is None or match.group(2) == "%":
        return None
    return float(match.group(1)) * _PX_PER_UNIT[match.group(2) or ""]


def _number(value: str | None) -> float | None:
    if not value:
        return None
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        return None
    return number / 100 if value.endswith("%") else number


def parse_color(value: str | None) -> Color | None:
    """An RGB triple, TRANSPARENT, or None when the value is not a colour we understand."""
    if not value:
        return None
    value = value.strip().lower()
    if value == "transparent":
        return TRANSPARENT
    if value in _NAMED:
        return _NAMED[value]
    if hex_match := _HEX.match(value):
        return _hex(hex_match.group(1))
    if rgb_match := _RGB.match(value):
        return _rgb(rgb_match)
    return None


def _hex(digits: str) -> Color:
    if len(digits) == 3:
        digits = "".join(2 * digit for digit in digits)
    if len(digits) == 8 and digits[6:] == "00":
        return TRANSPARENT
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _rgb(match: re.Match[str]) -> Color:
    alpha = match.group(4)
    if alpha is not None and float(alpha) == 0:
        return TRANSPARENT
    red, green, blue = (min(255, int(float(match.group(i)))) for i in (1, 2, 3))
    return red, green, blue


def background_color(decls: dict[str, str]) -> Color | None:
    """The background colour set by ``background-color`` or the ``background`` shorthand."""
    if "background-color" in decls:
        return parse_color(decls["background-color"])
    shorthand = decls.get("background", "")
    return next((c for part in shorthand.split() if (c := parse_color(part))), None)


def hides_background(decls: dict[str, str]) -> bool:
    """A background image makes the background colour unknowable; text on it may well show."""
    return "url(" in decls.get("background", "") or "url(" in decls.get("background-image", "")


def too_close(text: Color, background: Color) -> bool:
    """Whether text of this colour would be invisible on this background."""
    if text == TRANSPARENT:
        return True
    if background == TRANSPARENT:
        return False
    return sum(abs(a - b) for a, b in zip(text, background, strict=True)) <= 24
