"""The package's parts, for the xlsx writer (package.py): opening the archive, resolving its
sheets and names, reading parts (lazily, small XML parts through lxml), and the small edits to
workbook-level parts (defined names, the calculation flag, calcChain, the filter name).

PackageParts holds all of a package's state; cell_edit.CellEdits adds how values go into
cells, package.XlsxPackage the writing API and saving.
"""

from __future__ import annotations

import io
import os
import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import unquote

from lxml import etree

from xlcomplaints.workbook.damage import archive_error
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.safety import FileStamp, read_with_stamp
from xlcomplaints.workbook.sheet_frame import Frame
from xlcomplaints.workbook.sheet_xml import Sheet
from xlcomplaints.workbook.stream_base import Streamed
from xlcomplaints.workbook.workbook_xml import TableEdge, set_filter_range, table_edges
from xlcomplaints.workbook.xlsx_values import parse_range
from xlcomplaints.workbook.xlsx_zip import StoredPart, stored_part
from xlcomplaints.workbook.xml_text import (
    SI,
    Tail,
    XmlPart,
    declared_encoding,
    make_tails,
    parse_attrs,
    plain_text,
)


@dataclass(frozen=True)
class SheetRef:
    """One <sheet> of workbook.xml, resolved to its part. kind: worksheet, chartsheet, ..."""

    name: str
    sheet_id: int
    rel_id: str
    part: str
    state: str = "visible"
    kind: str = "worksheet"


@dataclass(frozen=True)
class DefinedName:
    name: str
    value: str
    local_sheet: str | None
    hidden: bool



def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _resolve(source_part: str, target: str) -> str:
    target = unquote(target)
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _attr(el: etree._Element, local: str) -> str | None:
    """Attribute by local name in any namespace (r:id is transitional or strict)."""
    for key, value in el.attrib.items():
        if key.endswith("}" + local):
            return value
    return None



class PackageParts:
    """An .xlsx/.xlsm held in memory; parts are parsed only when read or patched."""

    def __init__(
        self, data: bytes, path: Path | None = None, stamp: FileStamp | None = None, label: str | None = None
    ) -> None:
        self.path = path
        self.stamp = stamp
        self.label = label or (path.name if path is not None else "workbook")  # what messages call it
        self._load(data)

    @classmethod
    def open(cls, source: str | os.PathLike[str] | bytes, *, label: str | None = None) -> Self:
        """Open a file (stamped, so save() can refuse if someone saved it meanwhile) or bytes.

        Raises WorkbookError for a package whose part names could be read two ways.
        """
        if isinstance(source, bytes | bytearray | memoryview):
            return cls(bytes(source), label=label)
        path = Path(source)
        data, stamp = read_with_stamp(path)
        return cls(data, path, stamp, label)

    def _load(self, data: bytes) -> None:
        self._data = data
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self._names = self._zip.namelist()
        self._folded = {n.lower(): n for n in self._names}
        self._refuse_ambiguous_names()
        self._parts: dict[str, XmlPart] = {}
        self._sheets: dict[str, Sheet] = {}  # held sheets: original bytes and edited rows
        self._streams: dict[str, Streamed] = {}  # sheets whose writes apply as they stream out
        self._tail_caches: dict[str, Tail] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._differs: dict[str, bool] = {}  # dirty part -> would its bytes change (cached)
        self._shared: list[str] | None = None  # raw <si> contents
        self._shared_text: dict[int, str] = {}
        self._calc_chain_dropped = False
        self._filtered: set[str] = set()  # sheets whose autoFilter replace_rows resized
        self._guards: dict[str, list[TableEdge]] = {}  # sheet part -> its tables' header and totals rows
        self._added: dict[str, bytes] = {}  # parts not in the archive (a recreated sheet): their bytes
        office = next(
            (
                r.get("Target", "")
                for r in self._xml("_rels/.rels").root
                if r.get("Type", "").endswith("/officeDocument")
            ),
            "xl/workbook.xml",
        )
        self.workbook_part = self._entry(_resolve("", office))
        self._wb_rels = self._entry(_rels_name(self.workbook_part))
        wb = self._xml(self.workbook_part).root
        ns = f"{{{etree.QName(wb).namespace}}}"
        rels = {
            r.get("Id"): r
            for r in self._xml(self._wb_rels).root
            if r.get("TargetMode") != "External"
        }
        self.sheets: list[SheetRef] = []
        self._sheet_order: list[str] = []  # what localSheetId counts, unresolvable sheets too
        for s in wb.iterfind(f"{ns}sheets/{ns}sheet"):
            self._sheet_order.append(s.get("name", ""))
            rid = _attr(s, "id") or ""
            rel = rels.get(rid)
            if rel is None:
                continue
            self.sheets.append(
                SheetRef(
                    name=s.get("name", ""),
                    sheet_id=int(s.get("sheetId", "0")),
                    rel_id=rid,
                    part=self._entry(_resolve(self.workbook_part, rel.get("Target", ""))),
                    state=s.get("state", "visible"),
                    kind=rel.get("Type", "").rsplit("/", 1)[-1],
                )
            )
        pr = wb.find(f"{ns}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904") in ("1", "true")

    def _refuse_ambiguous_names(self) -> None:
        """Part names use "/" and are case-insensitive (OPC): a name with "\\" or two entries for
        one part would be read one way by one reader and another by the next; refuse them whole."""
        odd = next((n for n in self._names if "\\" in n), None)
        if odd is not None:
            raise WorkbookError("file.backslash_names", path=self.label, part=odd)
        if len(self._folded) != len(self._names):
            seen: set[str] = set()
            for name in self._names:
                if name.lower() in seen:
                    raise WorkbookError("file.duplicate_parts", path=self.label, part=name)
                seen.add(name.lower())

    # ---- reading
    def _entry(self, name: str) -> str:
        """Zip entry for a part name (OPC part names are case-insensitive)."""
        return name if name in self._names else self._folded.get(name.lower(), name)

    def _xml(self, name: str) -> XmlPart:
        part = self._parts.get(name)
        if part is None:
            part = self._parts[name] = self._parsed(name)
        return part

    def _parsed(self, name: str, data: bytes | None = None) -> XmlPart:
        """The part (``data``, else the archive's) as a tree. A part read only now, when a refresh saves (the
        Summary's drawing, a sheet's tables), that is not XML or does not inflate is damage, said as such."""
        try:
            return XmlPart(name, self._zip.read(name) if data is None else data)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error) as e:
            raise archive_error(self.label, e, part=name) from e
    def sheet(self, name: str) -> SheetRef:
        """Sheet by name; Excel treats sheet names case-insensitively."""
        for ref in self.sheets:
            if ref.name == name:
                return ref
        for ref in self.sheets:
            if ref.name.casefold() == name.casefold():
                return ref
        raise KeyError(f"no sheet named {name!r}")

    def defined_names(self) -> list[DefinedName]:
        wb = self._xml(self.workbook_part).root
        ns = f"{{{etree.QName(wb).namespace}}}"
        out = []
        for d in wb.iterfind(f"{ns}definedNames/{ns}definedName"):
            local = d.get("localSheetId")
            sheet = None
            if local is not None and local.isdigit() and int(local) < len(self._sheet_order):
                sheet = self._sheet_order[int(local)]
            hidden = d.get("hidden") in ("1", "true")
            out.append(DefinedName(d.get("name", ""), d.text or "", sheet, hidden))
        return out

    def _shared_string(self, index: int) -> str | None:
        """Text of shared string #index, only to tell whether a write would change a value.

        Items are sliced out with one regex and decoded on demand: a register can hold
        hundreds of thousands of them and we usually need a few.
        """
        if self._shared is None:
            self._shared = []
            for rel in self._xml(self._wb_rels).root:
                name = self._entry(_resolve(self.workbook_part, rel.get("Target", "")))
                if rel.get("Type", "").endswith("/sharedStrings") and name in self._names:
                    data = self._zip.read(name)
                    self._shared = SI.findall(data.decode(declared_encoding(data)))
        if not 0 <= index < len(self._shared):
            return None
        text = self._shared_text.get(index)
        if text is None:
            text = self._shared_text[index] = plain_text(self._shared[index])
        return text

    def _inflate(self, name: str) -> bytes:
        """A part's bytes, inflated into one buffer of its size straight from the archive.

        zipfile.read would hold its output blocks and their joined copy at once: twice a
        large sheet. The CRC is checked as zipfile does.
        """
        if name in self._added:
            return self._added[name]
        info = self._zip.getinfo(name)
        raw = None
        if not (
            info.compress_type != zipfile.ZIP_DEFLATED
            or info.flag_bits & 0x1  # encrypted
            or max(info.file_size, info.compress_size) >= 0xFFFFFFFF
        ):
            raw = stored_part(self._data, info).raw
        if raw is None:
            return self._zip.read(name)
        data = zlib.decompress(raw, -15, max(info.file_size, 1))
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {name!r}")
        return data

    def _touch(self, name: str) -> None:
        self._dirty.add(name)
        self._differs.pop(name, None)

    def stored(self, name: str) -> StoredPart:
        """A part's zip entry and its compressed bytes as read (the sheet streamer's part reader)."""
        return stored_part(self._data, self._zip.getinfo(name))

    def tails(self, p: str) -> Tail:
        tails = self._tail_caches.get(p)
        if tails is None:
            tails = self._tail_caches[p] = make_tails(p, self.date1904)
        return tails

    def _table_guards(self, part: str) -> list[TableEdge]:
        """The header and totals rows of the tables on a sheet, from its table parts."""
        guards = self._guards.get(part)
        if guards is None:
            guards = self._guards[part] = []
            rels_name = self._entry(_rels_name(part))
            for rel in self._xml(rels_name).root if rels_name in self._names else ():
                target = self._entry(_resolve(part, rel.get("Target", "")))
                if rel.get("Type", "").endswith("/table") and rel.get("TargetMode") != "External" \
                        and target in self._names:
                    guards += table_edges(self._xml(target).root, target)
        return guards

    def _sync_filter_name(self, part: str) -> None:
        """The sheet's hidden _xlnm._FilterDatabase name set to its (resized) autoFilter range
        (LibreOffice filters by the name: rows past it would not be filtered after a re-save)."""
        frame: Frame | None = self._streams.get(part) or self._sheets.get(part)
        if frame is None:
            return
        found = frame.px.autofilter.search(frame.post)
        span = parse_range(parse_attrs(found[0]).get("ref") or "") if found else None
        ref = next((s for s in self.sheets if s.part == part), None)
        if span is None or ref is None or ref.name not in self._sheet_order:
            return
        if set_filter_range(self._xml(self.workbook_part).root, self._sheet_order.index(ref.name), span):
            self._touch(self.workbook_part)

    def _part_of(self, source: str, rels_name: str, kind: str) -> str | None:
        """The part a relationship of this type leads to (styles, sharedStrings...), if any."""
        for rel in self._xml(rels_name).root:
            if rel.get("Type", "").endswith(kind) and rel.get("TargetMode") != "External":
                name = self._entry(_resolve(source, rel.get("Target", "")))
                if name in self._names:
                    return name
        return None

    def force_full_calculation(self) -> None:
        """Set calcPr fullCalcOnLoad so Excel recomputes every formula when it opens the file.

        Excel trusts the cached results saved with a formula; values we write do not make
        their dependents dirty, so they would show stale totals until a manual recalc. Opt-in
        because it patches workbook.xml and Excel then asks to save on close.
        """
        part = self._xml(self.workbook_part)
        ns = f"{{{etree.QName(part.root).namespace}}}"
        calc = part.root.find(f"{ns}calcPr")
        if calc is None:
            later = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                     "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")  # fmt: skip
            calc = part.root.makeelement(f"{ns}calcPr", {})
            after = next((ch for ch in part.root if etree.QName(ch).localname in later), None)
            if after is None:
                part.root.append(calc)
            else:
                after.addprevious(calc)
        if calc.get("fullCalcOnLoad") not in ("1", "true"):
            calc.set("fullCalcOnLoad", "1")
            self._touch(self.workbook_part)

    def set_defined_name(self, name: str, value: str, local_sheet: str | None = None, *,
                         hidden: bool = True) -> None:
        """Add a defined name to workbook.xml, or replace the one with the same name and scope
        (workbook scope, or the sheet ``local_sheet``); everything else in the part is kept."""
        part = self._xml(self.workbook_part)
        ns = f"{{{etree.QName(part.root).namespace}}}"
        local = None
        if local_sheet is not None:
            local = str(next(i for i, n in enumerate(self._sheet_order) if n.casefold() == local_sheet.casefold()))
        names = part.root.find(f"{ns}definedNames")
        if names is None:  # after sheets (and the two optional parts that may follow them)
            names = part.root.makeelement(f"{ns}definedNames", {})
            before = [ch for ch in part.root
                      if etree.QName(ch).localname in ("sheets", "functionGroups", "externalReferences")]
            before[-1].addnext(names)
        for d in list(names):
            if d.get("name", "").casefold() == name.casefold() and d.get("localSheetId") == local:
                if d.text == value and (d.get("hidden") in ("1", "true")) == hidden:
                    return
                names.remove(d)
        attrs = {"name": name, **({"localSheetId": local} if local is not None else {}),
                 **({"hidden": "1"} if hidden else {})}
        element = names.makeelement(f"{ns}definedName", attrs)
        element.text = value
        names.append(element)
        self._touch(self.workbook_part)

    def _drop_calc_chain(self) -> None:
        """Excel rebuilds calcChain; a stale one (listing cells without formulas) needs repair."""
        if self._calc_chain_dropped:
            return
        self._calc_chain_dropped = True
        rels = self._xml(self._wb_rels)
        for rel in list(rels.root):
            if rel.get("Type", "").endswith("/calcChain"):
                part = self._entry(_resolve(self.workbook_part, rel.get("Target", "")))
                rels.root.remove(rel)
                self._touch(self._wb_rels)
                if part in self._names:
                    self._removed.add(part)
                types = self._xml("[Content_Types].xml")
                for override in list(types.root):
                    if override.get("PartName", "").lstrip("/").lower() == part.lower():
                        types.root.remove(override)
                        self._touch(types.name)

