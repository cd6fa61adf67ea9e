"""Phone numbers as clerks type them → one canonical form, or a coded ``CellError`` (``phone.*``; the
messages are in ``core.cells``' catalogue, which this module shares).

Canonical forms: mobile "13812345678"; landline "010-12345678" (area code, dash,
local); 400/800 "400-123-4567"; local without area code "12345678"; other countries
"+442079460958"; an extension is appended as "转8001". Every canonical form parses
back to itself.
"""

from __future__ import annotations

import re

from xlcomplaints.core.cells import CellError, _show, normalize_text

MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)  # a mobile number: its canonical form is itself
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d\d))([1-9]\d{6,7})", re.ASCII)
_SERVICE = re.compile(r"([48]00)(\d{3})(\d{4})", re.ASCII)
_LOCAL = re.compile(r"[2-9]\d{6,7}", re.ASCII)
_EXT = re.compile(r"(?P<main>.*?\d)\s*(?:转|轉|分机|ext\.?|x|#)\s*(?P<ext>\d{1,6})", re.ASCII)
_DASH_EXT = re.compile(r"(?P<main>.*\d)\s*-\s*(?P<ext>\d{1,5})", re.ASCII)
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?e[+-]?\d+", re.ASCII)
_PHONE_SEPARATORS = re.compile(r"[\s\-–—.()]")


def _phone(main: str, ext: str | None, value: object) -> str:
    """Canonical form of one number (separators allowed, extension already split off)."""
    compact = _PHONE_SEPARATORS.sub("", main)
    intl = compact.startswith(("+", "00"))
    digits = compact[1:] if compact.startswith("+") else compact[2:] if intl else compact
    if not re.fullmatch(r"[0-9]+", digits):
        raise CellError("phone.bad_chars", value=_show(value))
    if intl and not digits.startswith("86"):
        canonical = "+" + digits if 7 <= len(digits) <= 15 else ""
    else:
        if intl or (len(digits) == 13 and digits.startswith("86")):  # +86 / 0086 / 86 prefix
            digits = digits[2:]
            if intl and digits and not MOBILE.fullmatch(digits) and digits[0] != "0":
                digits = "0" + digits  # +86 10 1234 5678: the area code loses its 0 abroad
        if MOBILE.fullmatch(digits) or _LOCAL.fullmatch(digits):
            canonical = digits
        elif m := _LANDLINE.fullmatch(digits) or _SERVICE.fullmatch(digits):
            canonical = "-".join(m.groups())
        else:
            canonical = ""
    if canonical:
        return canonical + (f"转{ext}" if ext else "")
    n, mobile_like = len(digits), digits[:1] == "1" and not intl
    if n < 7 or (mobile_like and n < 11) or (digits[:1] == "0" and n < 10):
        raise CellError("phone.too_short", value=_show(value), digits=n)
    if n > (15 if intl else 12) or (mobile_like and n > 11):
        raise CellError("phone.too_long", value=_show(value), digits=n)
    raise CellError("phone.unreadable", value=_show(value))


def _phone_text(text: str, value: object) -> str:
    if m := _EXT.fullmatch(text):
        return _phone(m["main"], m["ext"], value)
    try:
        return _phone(text, None, value)
    except CellError:  # "010-12345678-8001": a trailing dash group may be a landline extension
        m = _DASH_EXT.fullmatch(text)
        if m and _LANDLINE.fullmatch(_PHONE_SEPARATORS.sub("", m["main"])):
            return _phone(m["main"], m["ext"], value)
        raise


def parse_phone(value: object) -> str | None:
    """One phone number in canonical form; numbers typed as numbers are read, but a
    landline whose leading 0 Excel dropped, or a scientific-notation text, is refused."""
    if value is None:
        return None
    if isinstance(value, str):
        text = normalize_text(value).lower()
        if not text:
            return None
        if _SCIENTIFIC.fullmatch(text):
            raise CellError("phone.scientific", value=_show(value))
        return _phone_text(re.sub(r"^(\d+)\.0+$", r"\1", text), value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e15 \
            or not float(value).is_integer():
        raise CellError("phone.unreadable", value=_show(value))
    digits = str(int(value))
    try:
        return _phone_text(digits, value)
    except CellError:
        if _LANDLINE.fullmatch("0" + digits):
            raise CellError("phone.lost_zero", value=digits, suggestion=_phone_text("0" + digits, value)) from None
        raise
