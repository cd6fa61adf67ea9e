"""Small edits to workbook-level XML (workbook.xml, its relationships, content types, table
parts), as pure functions over lxml elements: the package decides when, these say how.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from xlcomplaints.workbook.xlsx_values import COL_NAMES, parse_range

R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_REL = R_NS + "/worksheet"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
FILTER_DATABASE = "_xlnm._filterdatabase"


@dataclass(frozen=True)
class TableEdge:
    """Rows of an Excel table (ListObject) we must never write: its header or totals rows."""

    table: str
    first_row: int
    last_row: int
    first_col: int
    last_col: int


def table_edges(table: etree._Element, fallback: str) -> list[TableEdge]:
    """A table part's header and totals rows (a cell of ours there makes Excel drop the table)."""
    span = parse_range(table.get("ref"))
    if span is None:
        return []
    r1, c1, r2, c2 = span
    name = table.get("displayName") or table.get("name") or fallback
    header, totals = int(table.get("headerRowCount") or 1), int(table.get("totalsRowCount") or 0)
    edges = [TableEdge(name, r1, r1 + header - 1, c1, c2)] if header > 0 else []
    return edges + ([TableEdge(name, r2 - totals + 1, r2, c1, c2)] if totals > 0 else [])


def first_hit(edges: Sequence[TableEdge], rows: Iterable[int], cols: Sequence[int]) -> tuple[TableEdge, int, int] | None:
    """The first table edge a write of these rows and columns would touch: (edge, row, col)."""
    if not edges:
        return None
    wanted = set(rows)
    for e in edges:
        hit_rows = [r for r in range(e.first_row, e.last_row + 1) if r in wanted]
        hit_cols = [c for c in cols if e.first_col <= c <= e.last_col]
        if hit_rows and hit_cols:
            return e, hit_rows[0], min(hit_cols)
    return None


def set_filter_range(workbook: etree._Element, index: int, span: tuple[int, int, int, int]) -> bool:
    """Point sheet #index's hidden _xlnm._FilterDatabase name at ``span``; True if it changed.

    Excel rewrites a stale one, but LibreOffice filters by the name. Only a name of one
    plain range is updated.
    """
    ns = f"{{{etree.QName(workbook).namespace}}}"
    target = f"${COL_NAMES[span[1]]}${span[0]}:${COL_NAMES[span[3]]}${span[2]}"
    changed = False
    for d in workbook.iterfind(f"{ns}definedNames/{ns}definedName"):
        if d.get("name", "").lower() != FILTER_DATABASE or d.get("localSheetId") != str(index):
            continue
        text = d.text or ""
        unquoted = re.sub(r"'(?:[^']|'')*'", "", text)  # a quoted sheet name may hold ! or ,
        sheet, bang, area = text.rpartition("!")
        if unquoted.count("!") == 1 and "," not in unquoted and parse_range(area.replace("$", "")) \
                and area != target:
            d.text = sheet + bang + target
            changed = True
    return changed


def add_sheet(workbook: etree._Element, rels: etree._Element, types: etree._Element, *, part: str,
              target: str, title: str, names: Iterable[tuple[str, str, bool]]) -> tuple[str, int]:
    """Enter a new worksheet part as the last sheet: its relationship, <sheet>, content type and
    sheet-scope names (name, value, hidden; their sheet references pointed at ``title``).
    Returns its relationship id and sheetId."""
    ids = {r.get("Id") for r in rels}
    rid = next(f"rId{i}" for i in range(len(ids) + 1, len(ids) + 2 + len(ids)) if f"rId{i}" not in ids)
    rels.append(rels.makeelement(f"{{{etree.QName(rels).namespace}}}Relationship",
                                 {"Id": rid, "Type": WORKSHEET_REL, "Target": target}))
    for stale in [o for o in types if (o.get("PartName") or "").lower() == "/" + part.lower()]:
        types.remove(stale)  # an Override left behind for a part of that name: one per part
    types.append(types.makeelement(f"{{{etree.QName(types).namespace}}}Override",
                                   {"PartName": "/" + part, "ContentType": WORKSHEET_TYPE}))
    ns = f"{{{etree.QName(workbook).namespace}}}"
    sheets = workbook.find(f"{ns}sheets")
    if sheets is None:
        raise ValueError("workbook.xml has no <sheets>")
    index = sum(1 for s in sheets if isinstance(s.tag, str))
    r_id = next((k for s in sheets for k in s.attrib if k.endswith("}id")), f"{{{R_NS}}}id")
    sheet_id = max([0, *(int(s.get("sheetId", "0")) for s in sheets)]) + 1
    sheets.append(sheets.makeelement(f"{ns}sheet", {"name": title, "sheetId": str(sheet_id), r_id: rid}))
    defined = workbook.find(f"{ns}definedNames")
    if defined is None:  # after sheets, functionGroups, externalReferences (CT_Workbook order)
        defined = workbook.makeelement(f"{ns}definedNames", {})
        before = [el for el in workbook if etree.QName(el).localname in
                  ("sheets", "functionGroups", "externalReferences")]
        before[-1].addnext(defined)
    quoted = "'" + title.replace("'", "''") + "'"
    for name, value, hidden in names:
        element = defined.makeelement(f"{ns}definedName", {
            "name": name, "localSheetId": str(index), **({"hidden": "1"} if hidden else {})})
        element.text = re.sub(r"(?:'(?:[^']|'')*'|[^\s!,=()'\"]+)!", quoted.replace("\\", "\\\\") + "!", value)
        defined.append(element)
    return rid, sheet_id
