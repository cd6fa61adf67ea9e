"""Our own native chart on a sheet (``port.DrawsCharts``), through the package writer.

A sheet has at most one drawing part, shared by every chart, picture and shape on it. Ours is the
anchor in it named by its key (``xdr:cNvPr name``), with the chart part it points at: refresh adds
them (a drawing part too, with its relationship and the sheet's ``<drawing>``, when the sheet has
none), replaces them when what they show changed, and removes them (with the drawing, if nothing
else is left on it) when there is nothing to chart. Anchors of the office's own in the drawing stay
as they are, and so does every other part; only new part names are used (nothing is renumbered).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from lxml import etree

from xlcomplaints.workbook.cell_edit import CellEdits
from xlcomplaints.workbook.chart_xml import (
    C_NS,
    CHART_REL,
    CHART_TYPE,
    DRAWING_REL,
    DRAWING_TYPE,
    R_NS,
    XDR_NS,
    anchor_xml,
    chart_part,
    drawing_part,
    rels_part,
)
from xlcomplaints.workbook.package_parts import _rels_name, _resolve
from xlcomplaints.workbook.port import BarChart
from xlcomplaints.workbook.xml_text import XmlPart

_TAG = re.compile(r"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(/?)([\w.:-]+)(?:[^>"']|"[^"]*"|'[^']*')*?(/?)>""",
                  re.S)
#: What follows <drawing> in a worksheet (CT_Worksheet), so it goes before the first of them.
_AFTER_DRAWING = frozenset(("legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                            "webPublishItems", "tableParts", "extLst", "AlternateContent", "/worksheet"))
_ANCHORS = tuple(f"{{{XDR_NS}}}{a}" for a in ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor"))
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _top_level(post: str) -> Iterator[tuple[str, int, int]]:
    """The worksheet's elements after </sheetData>: local name, start and end of the start tag
    (``/worksheet`` for its closing tag)."""
    depth = 0
    for m in _TAG.finditer(post):
        if m.group(2) is None:
            continue
        closing, name, empty = m.group(1), m.group(2).rpartition(":")[2], m.group(3)
        if closing:
            if depth == 0:
                yield "/" + name, m.start(), m.end()
            depth -= 1
            continue
        if depth == 0:
            yield name, m.start(), m.end()
        if not empty:
            depth += 1


class _Raw(XmlPart):
    """A part replaced whole by bytes we made: saved as they are (not re-serialised), so the next
    refresh finds exactly what it would write."""

    def __init__(self, name: str, data: bytes) -> None:  # noqa: D107 - nothing parsed
        self.name, self.data = name, data

    def serialise(self) -> bytes:
        return self.data


def _canonical(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n")


class SheetCharts(CellEdits):
    """``set_chart``: our chart on a sheet, in its drawing (see the module's docstring)."""

    # ---- parts, in the archive or added here
    def _exists(self, name: str) -> bool:
        return name in self._added or (name in self._names and name not in self._removed)

    def _part_xml(self, name: str) -> XmlPart:
        part = self._parts.get(name)
        if part is None:
            data = self._added.get(name)
            part = self._parts[name] = self._parsed(name, data)
        return part

    def _part_bytes(self, name: str) -> bytes:
        if name in self._added:
            return self._added[name]
        if name in self._dirty and name in self._parts:
            return self._parts[name].serialise()
        return self._zip.read(name)

    def _store(self, part: XmlPart) -> None:
        if part.name in self._added:
            self._added[part.name] = part.serialise()
        self._touch(part.name)

    def _new_part(self, name: str, data: bytes, content_type: str | None) -> None:
        self._added[name] = data
        self._names.append(name)
        self._folded[name.lower()] = name
        self._parts.pop(name, None)
        self._touch(name)
        if content_type is not None:
            types = self._xml("[Content_Types].xml")
            for stale in [o for o in types.root if (o.get("PartName") or "").lower() == "/" + name.lower()]:
                types.root.remove(stale)
            types.root.append(types.root.makeelement(f"{{{etree.QName(types.root).namespace}}}Override",
                                                     {"PartName": "/" + name, "ContentType": content_type}))
            self._touch(types.name)

    def _drop_part(self, name: str) -> None:
        if name in self._added:
            del self._added[name]
            self._names.remove(name)
        else:
            self._removed.add(name)
        types = self._xml("[Content_Types].xml")
        for stale in [o for o in types.root if (o.get("PartName") or "").lower() == "/" + name.lower()]:
            types.root.remove(stale)
            self._touch(types.name)

    def _free(self, pattern: str) -> str:
        """A part name the package has never held, nor relationships for it (a damaged package may
        keep a removed part's)."""
        n = 1
        while pattern.format(n).lower() in self._folded or _rels_name(pattern.format(n)).lower() in self._folded:
            n += 1
        return pattern.format(n)

    def _rels_of(self, source: str) -> list[tuple[str, str, str]]:
        """The source part's internal relationships: (id, type, target part)."""
        name = self._entry(_rels_name(source))
        if not self._exists(name):
            return []
        return [(r.get("Id", ""), r.get("Type", ""), self._entry(_resolve(source, r.get("Target", ""))))
                for r in self._part_xml(name).root if r.get("TargetMode") != "External"]

    def _add_rel(self, source: str, kind: str, target: str) -> str:
        name = self._entry(_rels_name(source))
        relative = posixpath.relpath(target, posixpath.dirname(source))
        if not self._exists(name):
            self._new_part(name, rels_part([("rId1", kind, relative)]), None)
            return "rId1"
        rels = self._part_xml(name)
        ids = {r.get("Id") for r in rels.root}
        rid = next(f"rId{i}" for i in range(1, len(ids) + 2) if f"rId{i}" not in ids)
        rels.root.append(rels.root.makeelement(f"{{{_REL_NS}}}Relationship",
                                               {"Id": rid, "Type": kind, "Target": relative}))
        self._store(rels)
        return rid

    def _retarget(self, source: str, kind: str, target: str) -> str | None:
        """A relationship of this kind whose part is missing (a damaged package) pointed at ``target``;
        its id, or None when there is none."""
        name = self._entry(_rels_name(source))
        if not self._exists(name):
            return None
        rels = self._part_xml(name)
        for r in rels.root:
            if r.get("Type", "").endswith(kind) and r.get("TargetMode") != "External" \
                    and not self._exists(self._entry(_resolve(source, r.get("Target", "")))):
                r.set("Target", posixpath.relpath(target, posixpath.dirname(source)))
                self._store(rels)
                return r.get("Id")
        return None

    def _drop_rel(self, source: str, rid: str) -> None:
        name = self._entry(_rels_name(source))
        rels = self._part_xml(name)
        for r in [r for r in rels.root if r.get("Id") == rid]:
            rels.root.remove(r)
        if len(rels.root):
            self._store(rels)
        else:
            self._drop_part(name)

    # ---- the chart
    def _our_anchor(self, drawing: str, key: str) -> tuple[etree._Element, str, str] | None:
        """Our anchor in the drawing, its chart's relationship id and part."""
        root = self._part_xml(drawing).root
        charts = {rid: target for rid, kind, target in self._rels_of(drawing) if kind.endswith("/chart")}
        for anchor in root:
            if anchor.tag not in _ANCHORS:
                continue
            named = anchor.find(f".//{{{XDR_NS}}}cNvPr")
            ref = anchor.find(f".//{{{C_NS}}}chart")
            rid = None if ref is None else ref.get(f"{{{R_NS}}}id")
            if named is not None and named.get("name") == key and rid in charts:
                return anchor, rid, charts[rid]
        return None

    def set_chart(self, sheet: str, key: str, chart: BarChart | None) -> None:
        """Our chart named ``key`` on the sheet becomes ``chart``: added, replaced when it changed,
        removed with None (see the module's docstring)."""
        ref = self.sheet(sheet)
        drawing = next(((rid, t) for rid, kind, t in self._rels_of(ref.part) if kind.endswith("/drawing")
                        and self._exists(t)), None)  # strict files name the type in another namespace
        found = self._our_anchor(drawing[1], key) if drawing else None
        if chart is None:
            if drawing is not None and found is not None:
                self._remove_chart(sheet, ref.part, drawing, found)
            return
        made = chart_part(chart, ref.name)
        if drawing is not None and found is not None:
            anchor, rid, part = found
            if self._part_bytes(part) != made:
                self._parts[part] = _Raw(part, made)
                if part in self._added:
                    self._added[part] = made
                self._touch(part)
            shape = anchor.find(f".//{{{XDR_NS}}}cNvPr")
            new = etree.fromstring(anchor_xml(chart, key, int(shape.get("id") or 1) if shape is not None else 1, rid))
            if _canonical(new) != _canonical(anchor):
                anchor.getparent().replace(anchor, new)
                self._store(self._part_xml(drawing[1]))
            return
        part = self._free("xl/charts/chart{}.xml")
        self._new_part(part, made, CHART_TYPE)
        if drawing is not None:  # the office's own drawing: ours is added beside what it holds
            dpart = self._part_xml(drawing[1])
            rid = self._add_rel(drawing[1], CHART_REL, part)
            ids = [int(x) for x in dpart.root.xpath(".//*[local-name()='cNvPr']/@id") if str(x).isdigit()]
            dpart.root.append(etree.fromstring(anchor_xml(chart, key, max(ids, default=1) + 1, rid)))
            self._store(dpart)
            return
        dname = self._free("xl/drawings/drawing{}.xml")
        rid = self._retarget(ref.part, "/drawing", dname) or self._add_rel(ref.part, DRAWING_REL, dname)
        self._new_part(dname, drawing_part(anchor_xml(chart, key, 2, "rId1")), DRAWING_TYPE)
        self._new_part(self._entry(_rels_name(dname)), rels_part(
            [("rId1", CHART_REL, posixpath.relpath(part, posixpath.dirname(dname)))]), None)
        sh = self._worksheet(sheet)
        element = f'<{sh.p}drawing xmlns:r="{R_NS}" r:id="{rid}"/>'
        stale = next(((start, end) for name, start, end in _top_level(sh.post) if name == "drawing"), None)
        if stale is not None:  # a <drawing> whose part is missing: ours takes its place (one per sheet)
            start, end = self._element_span(sh.post, stale)
            sh.post = sh.post[:start] + element + sh.post[end:]
        else:
            at = next(start for name, start, _ in _top_level(sh.post) if name in _AFTER_DRAWING)
            sh.post = sh.post[:at] + element + sh.post[at:]
        sh.post_changed = True
        self._touch(sh.name)

    def _remove_chart(self, sheet: str, part: str, drawing: tuple[str, str],
                      found: tuple[etree._Element, str, str]) -> None:
        anchor, rid, chart = found
        dpart = self._part_xml(drawing[1])
        dpart.root.remove(anchor)
        self._drop_rel(drawing[1], rid)
        for _, _, own in self._rels_of(chart):  # what Excel keeps beside a chart (its style and colours)
            if own.startswith("xl/charts/") and self._exists(own):
                self._drop_part(own)
        if self._exists(self._entry(_rels_name(chart))):
            self._drop_part(self._entry(_rels_name(chart)))
        self._drop_part(chart)
        if any(el.tag in _ANCHORS for el in dpart.root):  # the office's own drawings stay
            self._store(dpart)
            return
        for rels in (self._entry(_rels_name(drawing[1])),):
            if self._exists(rels):
                self._drop_part(rels)
        self._drop_part(drawing[1])
        self._drop_rel(part, drawing[0])
        sh = self._worksheet(sheet)
        for name, start, end in _top_level(sh.post):
            if name == "drawing":
                start, end = self._element_span(sh.post, (start, end))
                sh.post = sh.post[:start] + sh.post[end:]
                sh.post_changed = True
                self._touch(sh.name)
                break

    @staticmethod
    def _element_span(post: str, tag: tuple[int, int]) -> tuple[int, int]:
        """From a top-level element's start tag to the end of the element."""
        start, end = tag
        if not post[start:end].endswith("/>"):
            end = post.index(">", post.index("drawing>", end)) + 1
        return start, end
