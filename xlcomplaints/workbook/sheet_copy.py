"""A worksheet of one package (our template) made fit to be added to another.

What a sheet refers to outside itself is the workbook's: cell styles (cellXfs and the
fonts, fills, borders and number formats they use), conditional-format styles (dxfs) and
shared strings. The copy brings its styles along, appended to the target's styles.xml
(nothing of the target's is changed or renumbered), and holds its text as inline strings.
Drawings (the header note's comment) stay behind: they need parts of their own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable

from lxml import etree

from xlcomplaints.workbook.xml_text import xml_escape

_CELL_S = re.compile(r'(<(?:c|row)\b[^>]*?\ss=")(\d+)(")')
_COL_STYLE = re.compile(r'(<col\b[^>]*?\sstyle=")(\d+)(")')
_DXF = re.compile(r'(<cfRule\b[^>]*?\sdxfId=")(\d+)(")')
_SHARED_CELL = re.compile(r'<c r="([A-Z]+\d+)"( s="\d+")? t="s"><v>(\d+)</v></c>')
_DETACHED = re.compile(r"<(?:legacyDrawing|legacyDrawingHF|drawing|picture)\b[^>]*/>|<tableParts\b.*?</tableParts>", re.S)
_CODE_NAME = re.compile(r'(<sheetPr\b[^>]*?)\scodeName="[^"]*"')
#: styles.xml children in schema order (CT_Stylesheet).
_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
          "tableStyles", "colors", "extLst")


def detached(sheet_xml: str, shared: Callable[[int], str | None], *, keep_code_name: bool) -> str:
    """The sheet without its drawings, its shared strings inline, and (for a workbook whose VBA
    project has no module for it) without its codeName."""
    def inline(m: re.Match[str]) -> str:
        text = shared(int(m[3]))
        if text is None:
            raise ValueError(f"shared string {m[3]} not in the template")
        return f'<c r="{m[1]}"{m[2] or ""} t="inlineStr"><is><t xml:space="preserve">{xml_escape(text)}</t></is></c>'

    out = _SHARED_CELL.sub(inline, _DETACHED.sub("", sheet_xml))
    if 't="s"' in out:
        raise ValueError("the template sheet holds shared strings in a form not handled")
    return out if keep_code_name else _CODE_NAME.sub(r"\1", out)


def _section(root: etree._Element, tag: str) -> etree._Element:
    ns = f"{{{etree.QName(root).namespace}}}"
    found = root.find(ns + tag)
    if found is None:
        found = root.makeelement(ns + tag, {"count": "0"})
        later = _ORDER[_ORDER.index(tag) + 1 :]
        after = next((ch for ch in root if etree.QName(ch).localname in later), None)
        if after is None:
            root.append(found)
        else:
            after.addprevious(found)
    return found


def _append(section: etree._Element, element: etree._Element) -> int:
    section.append(copy.deepcopy(element))
    n = sum(1 for ch in section if isinstance(ch.tag, str))
    section.set("count", str(n))
    return n - 1


def merge_styles(src: etree._Element, dst: etree._Element, xfs: Iterable[int],
                 dxfs: Iterable[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Append the source's cell styles ``xfs`` and differential styles ``dxfs`` (with what they
    use) to the target's styles.xml; returns old index → new index for each."""
    ns = f"{{{etree.QName(src).namespace}}}"
    children = {tag: [ch for ch in (src.find(ns + tag) if src.find(ns + tag) is not None else [])
                      if isinstance(ch.tag, str)] for tag in ("fonts", "fills", "borders", "cellXfs", "dxfs")}
    src_formats = {f.get("numFmtId"): f.get("formatCode") for f in src.iterfind(f"{ns}numFmts/{ns}numFmt")}
    copied: dict[tuple[str, int], int] = {}

    def bring(tag: str, index: int) -> int:
        key = (tag, index)
        if key not in copied:
            copied[key] = _append(_section(dst, tag), children[tag][index])
        return copied[key]

    def number_format(fmt_id: str) -> str:
        if int(fmt_id) < 164:  # built in: the same everywhere
            return fmt_id
        code = src_formats[fmt_id]
        formats = _section(dst, "numFmts")
        for f in formats:
            if isinstance(f.tag, str) and f.get("formatCode") == code:
                return f.get("numFmtId", fmt_id)
        new_id = max([163, *(int(f.get("numFmtId", "0")) for f in formats if isinstance(f.tag, str))]) + 1
        _append(formats, formats.makeelement(formats.tag.replace("numFmts", "numFmt"),
                                             {"numFmtId": str(new_id), "formatCode": code or "General"}))
        return str(new_id)

    xf_map: dict[int, int] = {}
    for i in sorted(set(xfs)):
        xf = copy.deepcopy(children["cellXfs"][i])
        for attr, tag in (("fontId", "fonts"), ("fillId", "fills"), ("borderId", "borders")):
            if xf.get(attr) is not None:
                xf.set(attr, str(bring(tag, int(xf.get(attr)))))
        if xf.get("numFmtId") is not None:
            xf.set("numFmtId", number_format(xf.get("numFmtId")))
        xf.set("xfId", "0")  # the Normal cell style every workbook has
        xf_map[i] = _append(_section(dst, "cellXfs"), xf)
    dxf_map = {i: bring("dxfs", i) for i in sorted(set(dxfs))}
    return xf_map, dxf_map


def style_ids(sheet_xml: str) -> tuple[set[int], set[int]]:
    """The cell styles and differential styles a sheet uses."""
    xfs = {int(m[2]) for m in _CELL_S.finditer(sheet_xml)} | {int(m[2]) for m in _COL_STYLE.finditer(sheet_xml)}
    return xfs, {int(m[2]) for m in _DXF.finditer(sheet_xml)}


def restyled(sheet_xml: str, xf_map: dict[int, int], dxf_map: dict[int, int]) -> str:
    def sub(mapping: dict[int, int]) -> Callable[[re.Match[str]], str]:
        return lambda m: f"{m[1]}{mapping[int(m[2])]}{m[3]}"

    out = _CELL_S.sub(sub(xf_map), sheet_xml)
    out = _COL_STYLE.sub(sub(xf_map), out)
    return _DXF.sub(sub(dxf_map), out)
