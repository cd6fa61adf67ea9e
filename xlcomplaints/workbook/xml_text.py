"""XML as text, for the xlsx writer (package.py): small parts edited with lxml behind their
original declaration bytes (XmlPart), and what every way of editing a worksheet as text
shares: start-tag and attribute patterns, entity (un)escaping, plain text of a string item,
and a cell's XML from its encoded value (cell_xml, make_tails).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from lxml import etree

from xlcomplaints.workbook.xlsx_values import (
    EPOCH_1900,
    EPOCH_1904,
    US_PER_DAY,
    CellValue,
    Encoded,
    encode,
    escape_text,
    number_text,
    unescape_text,
)

# --------------------------------------------------------------------------- XML parts
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([\w.-]+)["']""")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)


def declared_encoding(data: bytes) -> str:
    m = _ENCODING.match(data)
    return m.group(1).decode("ascii") if m else "utf-8"


class XmlPart:
    """A small part edited with lxml; re-serialised behind its original declaration bytes."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.prolog = _PROLOG.match(data).group(0)  # type: ignore[union-attr]
        self.epilog = data[len(data.rstrip()) :]
        self.root = etree.fromstring(data, _parser())

    def serialise(self) -> bytes:
        encoding = self.root.getroottree().docinfo.encoding or "UTF-8"
        body = etree.tostring(self.root, encoding=encoding, xml_declaration=False)
        return self.prolog + body + self.epilog


# --------------------------------------------------------------------------- sheet text
# Worksheets are edited as text: rows are sliced out of <sheetData> and indexed by
# number, a row is split into cells only when touched, and only the cells written are
# rebuilt. Everything else (declaration, namespaces, mc:Ignorable, extLst, controls...)
# keeps its exact bytes, and 1M cells cost seconds instead of a DOM's minutes.
_Q = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""  # rest of a start tag, quote-aware
START = re.compile(r"""<[\w:.-]+((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
R_ATTR = re.compile(r"""\sr\s*=\s*["']([^"']*)["']""")
DROP = re.compile(r"""\s+(?:t|cm|vm)\s*=\s*(?:"[^"]*"|'[^']*')""")
SHEET_DATA = re.compile(r"<([\w.-]+:)?sheetData\b" + _Q + r"(/?)>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
EXOTIC = ("<!--", "<![CDATA[", "<?")
TAG_END = " \t\r\n/>"
T_ATTR = re.compile(r"""\st\s*=\s*["']([^"']*)["']""")
META_ATTR = re.compile(r"""\s[cv]m\s*=""")
SHARED_ATTRS = re.compile(r"""\s+(?:t|si|ref)\s*=\s*(?:"[^"]*"|'[^']*')""")
# Text runs of an <si>/<is> in any prefix; phonetic guides (<rPh>) are not part of the value.
_RUN_T = re.compile(r"<(?:[\w.-]+:)?t\b" + _Q + r"(?:/>|>(.*?)</(?:[\w.-]+:)?t\s*>)", re.S)
_RPH = re.compile(r"<(?:[\w.-]+:)?rPh\b" + _Q + r"(?:/>|>.*?</(?:[\w.-]+:)?rPh\s*>)", re.S)
SI = re.compile(r"<(?:[\w.-]+:)?si\b" + _Q + r"(?:/>|>(.*?)</(?:[\w.-]+:)?si\s*>)", re.S)


class Patterns:
    """Element patterns for the prefix the sheet uses for the main namespace (usually none)."""

    def __init__(self, prefix: str) -> None:
        e = re.escape(prefix)

        def element(name: str) -> re.Pattern[str]:
            return re.compile(rf"<{e}{name}\b{_Q}(?:/>|>.*?</{e}{name}\s*>)", re.S)

        self.f, self.inline, self.ext = element("f"), element("is"), element("extLst")
        # Excel writes r= first: one C-level scan then splits a whole row into cells. Same
        # matches as r'\s*<c r="..."(?:[^>]*/>|[^>]*>.*?</c>)', without its backtracking:
        # possessive runs, "/>" seen behind the ">", content taken up to the first </c>.
        self.fast_cell = re.compile(
            rf'\s*+<{e}c r="([A-Z]{{1,3}})[0-9]+"[^>]*+'
            rf"(?:(?<=/)>|>[^<]*+(?:<(?!/{e}c>)[^<]*+)*+</{e}c>)"
        )
        self.fast_cells = re.compile(f"({self.fast_cell.pattern})")  # for findall
        self.v = re.compile(rf"<{e}v\b{_Q}(?:/>|>(.*?)</{e}v\s*>)", re.S)
        self.has_f = re.compile(rf"<{e}f\b")
        self.cell_end = re.compile(rf"</{e}c\s*>")
        self.col = re.compile(rf"<{e}col\b{_Q}/?>")
        self.dimension = re.compile(rf"<{e}dimension\b{_Q}/?>")
        self.autofilter = re.compile(rf"<{e}autoFilter\b{_Q}/?>")
        self.protection = re.compile(rf"<{e}sheetProtection\b{_Q}/?>")
        self.calc_pr = re.compile(rf"<{e}sheetCalcPr\b{_Q}/?>")


def parse_attrs(tag: str) -> dict[str, str]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(tag)}


def set_attr(tag: str, name: str, value: str) -> str:
    """Set one attribute in a start tag's text, leaving the rest of the tag as it was."""
    pat = re.compile(rf"""(\s{re.escape(name)}\s*=\s*)(?:"[^"]*"|'[^']*')""")
    if pat.search(tag):
        return pat.sub(lambda m: f'{m[1]}"{value}"', tag, count=1)
    cut = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:cut].rstrip()} {name}="{value}"{tag[cut:]}'


def first_attr(tag: str, name: str, value: str) -> str:
    """Insert an attribute right after the element name (where Excel puts r=)."""
    m = re.match(r"<[\w:.-]+", tag)
    return f'{tag[: m.end()]} {name}="{value}"{tag[m.end() :]}'  # type: ignore[union-attr]


def plain_text(xml: str) -> str:
    """Value of an <is>/<si>: its runs' text, unescaped twice (XML, then Excel's _xHHHH_)."""
    runs = _RUN_T.finditer(_RPH.sub("", xml) if "rPh" in xml else xml)
    return unescape_text(xml_unescape("".join(m[1] or "" for m in runs)))


def xml_unescape(text: str) -> str:
    if "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        ref = m[1]
        if ref[0] != "#":
            return _NAMED[ref]
        return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))

    return _ENTITY.sub(one, text)


def xml_escape(text: str) -> str:
    # \r must be a character reference: a literal CR would be read back as \n.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _cell_tail(p: str, enc: Encoded, ext: str = "") -> str:
    """A <c>'s text after its attributes; strings are inline (sharedStrings stays untouched)."""
    if enc is None:
        return f">{ext}</{p}c>" if ext else "/>"
    kind, text = enc
    if kind == "n":
        return f"><{p}v>{text}</{p}v>{ext}</{p}c>"
    if kind == "s":
        space = ""
        if text and (
            text[0] in " \t\n\r"
            or text[-1] in " \t\n\r"
            or "\n" in text
            or "\t" in text
            or "  " in text
        ):
            space = ' xml:space="preserve"'
        body = xml_escape(escape_text(text))
        return f' t="inlineStr"><{p}is><{p}t{space}>{body}</{p}t></{p}is>{ext}</{p}c>'
    t = ' t="b"' if kind == "b" else ""
    return f"{t}><{p}v>{text}</{p}v>{ext}</{p}c>"


def cell_xml(p: str, attrs: str, enc: Encoded, ext: str = "") -> str:
    """A <c> with the given attribute text."""
    return f"<{p}c{attrs}{_cell_tail(p, enc, ext)}"


# Text needing more than the plain inline form: escapes, xml:space="preserve", _xHHHH_.
_NOT_PLAIN = re.compile("[&<>\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x|  |^ | $")


Tail = Callable[[CellValue], str]  # a checked value -> the cell's text after its attributes
_TAILS_LIMIT = 1 << 12  # cached tails per value type


def make_tails(p: str, date1904: bool) -> Tail:
    """Cell tails (see _cell_tail) by value, cached: a register repeats a few statuses and dates.

    A closure (a plain call: it runs for every cell written), one per sheet prefix, shared
    by the package's sheets. Each exact type has its own cache (1, 1.0 and True are equal
    keys); a full one starts over, so it follows what the rows repeat. Values must have
    been checked (see check_row).
    """
    caches: dict[type, dict[CellValue, str]] = {str: {}, float: {}, int: {}, dt.datetime: {}}
    plain, number = (f' t="inlineStr"><{p}is><{p}t>', f"</{p}t></{p}is></{p}c>"), (f"><{p}v>", f"</{p}v></{p}c>")
    get, epoch, leap = caches.get, EPOCH_1904 if date1904 else EPOCH_1900, not date1904

    def miss(value: CellValue, cache: dict[CellValue, str] | None) -> str:
        kind = type(value)
        if kind is str and not _NOT_PLAIN.search(value):  # type: ignore[arg-type]
            tail = f"{plain[0]}{value}{plain[1]}"
        elif kind is dt.datetime:  # excel_serial, inlined: a register has tens of thousands
            delta: dt.timedelta = value - epoch  # type: ignore[operator, assignment]
            days = delta.days + (leap and delta.days >= 60)
            frac = (delta.seconds * 1_000_000 + delta.microseconds) / US_PER_DAY
            tail = f"{number[0]}{number_text(days + frac) if frac else days}{number[1]}"
        else:
            tail = _cell_tail(p, encode(value, date1904))
        if cache is not None:
            if len(cache) >= _TAILS_LIMIT:
                cache.clear()
            cache[value] = tail
        return tail

    def tail(value: CellValue) -> str:
        cache = get(type(value))
        if cache is not None:
            found = cache.get(value)
            if found is not None:
                return found
        return miss(value, cache)

    return tail


def inner_xml(element: str) -> str:
    """Text between an element's start and end tag ('' when self-closing)."""
    m = START.match(element)
    return "" if m is None or m[2] else element[m.end() : element.rindex("<")]

