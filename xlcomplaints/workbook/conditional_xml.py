"""Conditional formats of a worksheet, as text after its </sheetData>: read as the port's
``ConditionalFormat`` records (what they say, their formats included, compared whichever program
wrote them), and replaced — for ``upgrade``, which brings our columns' colouring up to the template's.
Pure functions over the sheet's and the styles' XML; the package decides when.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import etree

from xlcomplaints.workbook.port import ConditionalFormat
from xlcomplaints.workbook.validations_xml import sqref

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_Q = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
_PRIORITY = re.compile(r"""(<cfRule\b[^>]*?\spriority=")(\d+)(")""")
_DXF = re.compile(r"""(<cfRule\b[^>]*?\sdxfId=")(\d+)(")""")
#: What follows <conditionalFormatting> in a worksheet (CT_Worksheet order): a new one goes before the first.
_AFTER = ("dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks",
          "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
          "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
          "extLst")


def _block(p: str) -> re.Pattern[str]:
    e = re.escape(p)
    return re.compile(rf"<{e}conditionalFormatting\b{_Q}(?:/>|>.*?</{e}conditionalFormatting\s*>)", re.S)


def read(post: str, p: str = "") -> list[str]:
    """Each <conditionalFormatting> element of the sheet (not those in its extLst), as written."""
    cut = post.find(f"<{p}extLst")
    return _block(p).findall(post if cut < 0 else post[:cut])


def parsed(element: str, dxfs: list[etree._Element]) -> ConditionalFormat:
    """The element as a flow sees it; ``dxfs`` are the workbook's differential formats (styles.xml)."""
    root = etree.fromstring(f'<x xmlns="{MAIN}">{element}</x>')[0]
    rules = []
    for rule in root:
        if etree.QName(rule).localname != "cfRule":
            continue
        attrs = tuple(sorted((k, v) for k, v in rule.attrib.items() if k not in ("priority", "dxfId")))
        dxf_id = rule.get("dxfId")
        dxf = etree.tostring(dxfs[int(dxf_id)], method="c14n") if dxf_id and int(dxf_id) < len(dxfs) else None
        texts = tuple((etree.QName(ch).localname, (ch.text or "").strip()) for ch in rule.iter() if ch is not rule)
        rules.append((attrs, dxf, texts))
    return ConditionalFormat(tuple(sqref(f' sqref="{root.get("sqref", "")}"') or ()), tuple(rules), element)


def dxf_ids(elements: Iterable[str]) -> set[int]:
    return {int(m[2]) for e in elements for m in _DXF.finditer(e)}


def renumbered(elements: Iterable[str], dxf_map: dict[int, int], first_priority: int) -> list[str]:
    """The elements with their formats' ids mapped and their rules' priorities from ``first_priority`` on."""
    out, priority = [], first_priority

    def next_priority(m: re.Match[str]) -> str:
        nonlocal priority
        priority += 1
        return f"{m[1]}{priority - 1}{m[3]}"

    for e in elements:
        e = _DXF.sub(lambda m: f"{m[1]}{dxf_map[int(m[2])]}{m[3]}", e)
        out.append(_PRIORITY.sub(next_priority, e))
    return out


def priorities(elements: Iterable[str]) -> list[int]:
    return [int(m[2]) for e in elements for m in _PRIORITY.finditer(e)]


def replaced(post: str, keep: Callable[[str], bool], added: list[str], p: str = "") -> str:
    """The sheet's text with the blocks ``keep`` refuses removed and ``added`` put where the first of
    them was (or where the schema puts them); the others stay where they are."""
    blocks = [m for m in _block(p).finditer(post) if not keep(m[0])]
    if blocks:
        at = blocks[0].start()
        for m in reversed(blocks):
            post = post[: m.start()] + post[m.end() :]
        return post[:at] + "".join(added) + post[at:]
    if not added:
        return post
    later = re.compile(rf"<{re.escape(p)}(?:{'|'.join(_AFTER)})\b")
    found = later.search(post)
    at = found.start() if found else post.rfind("</")
    return post[:at] + "".join(added) + post[at:]
