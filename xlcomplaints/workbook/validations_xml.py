"""Data validations (dropdowns, input messages) of a worksheet, as text after its </sheetData>:
read as the port's ``Validation`` records, and put back covering other areas — for ``upgrade``, which
brings our columns' validations up to the template's. Pure functions over the sheet's text; the
package decides when.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from xlcomplaints.workbook.port import Area, Validation
from xlcomplaints.workbook.sheet_xml import xml_unescape
from xlcomplaints.workbook.xlsx_values import parse_range, range_ref

_Q = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
_SQREF = re.compile(r"""(\ssqref\s*=\s*")([^"]*)(")""")
#: What follows <dataValidations> in a worksheet (CT_Worksheet order): a new one goes before the first.
_AFTER = ("hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
          "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
          "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
          "extLst")


def _block(p: str) -> re.Pattern[str]:
    e = re.escape(p)
    return re.compile(rf"<{e}dataValidations\b{_Q}(?:/>|>(.*?)</{e}dataValidations\s*>)", re.S)


def _one(p: str) -> re.Pattern[str]:
    e = re.escape(p)
    return re.compile(rf"<{e}dataValidation\b{_Q}(?:/>|>.*?</{e}dataValidation\s*>)", re.S)


def read(post: str, p: str = "") -> list[str]:
    """Each <dataValidation> element of the sheet, as written."""
    m = _block(p).search(post)
    return _one(p).findall(m[1] or "") if m else []


def sqref(element: str) -> list[Area] | None:
    """The areas a validation covers (row1, col1, row2, col2); None if one cannot be read."""
    m = _SQREF.search(element)
    if m is None:
        return None
    areas = [parse_range(a) for a in m[2].split()]
    return None if any(a is None for a in areas) else [a for a in areas if a is not None]


def parsed(element: str) -> Validation:
    """The element as a flow sees it; one whose areas cannot be read covers none (never ours)."""
    return Validation(tuple(sqref(element) or ()), canonical(element), element)


def rendered(v: Validation) -> str:
    """The element of ``v``, covering ``v.areas``."""
    return _with_sqref(v.element, " ".join(range_ref(*a) for a in v.areas))


def _with_sqref(element: str, refs: str) -> str:
    return _SQREF.sub(lambda m: m[1] + refs + m[3], element, count=1)


#: Attributes at their schema default (CT_DataValidation): a writer may leave them out or write them.
_DEFAULTS = {"type": "none", "errorStyle": "stop", "imeMode": "noControl", "operator": "between", "allowBlank": "0",
             "showDropDown": "0", "showInputMessage": "0", "showErrorMessage": "0"}
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FORMULA = re.compile(r"<(?:[\w.-]+:)?(formula[12])\b[^>]*>(.*?)</(?:[\w.-]+:)?formula[12]\s*>", re.S)


def canonical(element: str) -> tuple[object, ...]:
    """What a validation says, whichever program wrote it: its attributes but where it applies
    (defaults left out, booleans as 0/1, entities decoded) and its formulas."""
    start = element[: element.find(">") + 1]
    attrs = {}
    for m in _ATTR.finditer(start):
        value = xml_unescape(m[2] if m[2] is not None else m[3])
        value = {"true": "1", "false": "0"}.get(value, value)
        if _DEFAULTS.get(m[1]) != value and m[1] != "sqref":
            attrs[m[1]] = value
    return tuple(sorted(attrs.items())), tuple((m[1], xml_unescape(m[2]).strip()) for m in _FORMULA.finditer(element))


def replaced(post: str, keep: Callable[[str], bool], added: Iterable[str], p: str = "") -> str:
    """The sheet's text with the validations ``keep`` refuses removed and ``added`` appended,
    in one <dataValidations>; with none left, none at all."""
    block = _block(p)
    m = block.search(post)
    kept = [v for v in (_one(p).findall(m[1] or "") if m else []) if keep(v)]
    items = kept + list(added)
    new = f'<{p}dataValidations count="{len(items)}">{"".join(items)}</{p}dataValidations>' if items else ""
    if m is not None:
        return post[: m.start()] + new + post[m.end() :]
    if not new:
        return post
    e = re.escape(p)
    later = re.compile(rf"<{e}(?:{'|'.join(_AFTER)})\b")
    at = later.search(post)
    end = post.rfind("</")  # </worksheet>
    pos = at.start() if at else end
    return post[:pos] + new + post[pos:]
