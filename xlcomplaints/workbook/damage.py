"""What is wrong in a damaged workbook, and where, in the user's language alone.

A workbook refused as damaged (``file.corrupt``) is told in one sentence: WHAT is wrong (a ``Damage``
kind: the archive cut short, a part missing, a part that is not XML or not UTF-8, a cell reference that is
not one, a part's data that does not unpack, a cell pointing at a text the shared strings lack) and WHERE
(the sheet's name as the clerk sees it and its part, or the part by what it is: the shared strings, the
styles, the workbook's list of parts). The libraries' own words (lxml's, zipfile's, calamine's, all
English) are never the sentence: they are classified here, kept in the error's ``detail`` for a
maintainer, and shown, marked as such, only when no kind fits (``Damage.UNKNOWN``).

Both languages are rendered when the error is made (``damage_zh``, ``damage_en``), as ``file.other_format``
and ``file.wrong_kind`` carry theirs, so a worker's refusal crosses processes as plain strings.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from enum import StrEnum

from lxml import etree

from xlcomplaints.i18n import register_messages, render
from xlcomplaints.workbook.errors import WorkbookError


class Damage(StrEnum):
    """What is wrong in a damaged workbook; each value is the code of its (zh, en) text."""

    TRUNCATED = "damage.truncated"
    PART_MISSING = "damage.part_missing"
    NOT_XML = "damage.not_xml"
    ENCODING = "damage.encoding"
    REFERENCE = "damage.reference"
    DATA = "damage.data"
    ENCRYPTED_PART = "damage.encrypted_part"
    COMPRESSION = "damage.compression"
    SHARED_TEXT = "damage.shared_text"
    STRUCTURE = "damage.structure"
    RELATIONSHIP = "damage.relationship"
    UNKNOWN = "damage.unknown"


MESSAGES: dict[str, tuple[str, str]] = {
    Damage.TRUNCATED: ("文件不完整（压缩包被截断或已损坏）", "the file is incomplete (its zip archive is cut short or damaged)"),
    Damage.PART_MISSING: ("{where}缺失", "{where} is missing"),
    Damage.NOT_XML: ("{where}的内容不是有效的 XML{line}", "the content of {where} is not valid XML{line}"),
    Damage.ENCODING: ("{where}的文字编码不是 UTF-8{line}", "the text of {where} is not in UTF-8{line}"),
    Damage.REFERENCE: ("{where}中有不是单元格地址的引用{ref}", "{where} holds a reference that is not a cell's{ref}"),
    Damage.DATA: ("{where}的数据已损坏，无法解压", "the data of {where} is damaged and does not unpack"),
    Damage.ENCRYPTED_PART: ("{where}被单独加密，无法读取", "{where} is encrypted on its own and cannot be read"),
    Damage.COMPRESSION: ("{where}的压缩方式本程序无法解压", "{where} is compressed in a way this program cannot unpack"),
    Damage.SHARED_TEXT: ("{where}中有单元格指向共享字符串（xl/sharedStrings.xml）中不存在的文字",
                         "{where} has cells that point at texts the shared strings (xl/sharedStrings.xml) do not hold"),
    Damage.STRUCTURE: ("{where}的内容不是 Excel 在此应有的结构", "the content of {where} is not what Excel holds there"),
    Damage.RELATIONSHIP: ("{where}中缺少某个工作表的条目", "{where} lacks the entry of one of the sheets"),
    Damage.UNKNOWN: ("{where}无法读取", "{where} cannot be read"),
    "damage.line": ("（第 {line} 行）", " (line {line})"),
    "damage.ref": ("“{ref}”", ": '{ref}'"),
    "damage.raw": ("【原始信息，供维护人员：{raw}】", " [raw detail, for maintainers: {raw}]"),
    "damage.where.sheet": ("“{sheet}”工作表（{part}）", "the sheet '{sheet}' ({part})"),
    "damage.where.sheet_only": ("“{sheet}”工作表", "the sheet '{sheet}'"),
    "damage.where.part": ("部件 {part} ", "the part {part}"),
    "damage.where.nowhere": ("文件中的某个部件", "a part of the file"),
    "damage.where.shared_strings": ("共享字符串（{part}）", "the shared-strings part ({part})"),
    "damage.where.styles": ("样式表（{part}）", "the styles part ({part})"),
    "damage.where.workbook": ("工作簿的工作表清单（{part}）", "the workbook's list of sheets ({part})"),
    "damage.where.workbook_rels": ("工作簿的部件清单（{part}）", "the workbook's list of parts ({part})"),
    "damage.where.package_rels": ("文件的部件清单（{part}）", "the file's list of parts ({part})"),
    "damage.where.content_types": ("内容类型表（{part}）", "the content-types part ({part})"),
}
register_messages({str(k): v for k, v in MESSAGES.items()})

#: Parts named by what they are (by their usual names, folded to lower case).
_NAMED_PARTS = {"xl/sharedstrings.xml": "damage.where.shared_strings", "xl/styles.xml": "damage.where.styles",
                "xl/workbook.xml": "damage.where.workbook", "xl/_rels/workbook.xml.rels": "damage.where.workbook_rels",
                "_rels/.rels": "damage.where.package_rels", "[content_types].xml": "damage.where.content_types"}


def _where(lang: str, part: str | None, sheet: str | None) -> str:
    if sheet:
        return render("damage.where.sheet" if part else "damage.where.sheet_only", lang, {"sheet": sheet, "part": part})
    if part:
        return render(_NAMED_PARTS.get(part.lower(), "damage.where.part"), lang, {"part": part})
    return render("damage.where.nowhere", lang, {})


def _said(lang: str, kind: Damage, part: str | None, sheet: str | None, line: int | None, ref: str,
          raw: str) -> str:
    text = render(kind, lang, {"where": _where(lang, part, sheet),
                               "ref": render("damage.ref", lang, {"ref": ref}) if ref else "",
                               "line": render("damage.line", lang, {"line": line}) if line else ""})
    return text + render("damage.raw", lang, {"raw": raw}) if kind is Damage.UNKNOWN and raw else text


def damaged(path: str, kind: Damage, *, part: str | None = None, sheet: str | None = None, line: int | None = None,
            ref: str = "", raw: str = "") -> WorkbookError:
    """The ``file.corrupt`` refusal of ``path``: ``kind`` at ``part`` (of ``sheet``, the name the clerk sees),
    in both languages; ``raw``, the library's words, kept as ``detail`` (shown only for an unknown kind)."""
    ref = ref[:20]
    return WorkbookError("file.corrupt", path=path, damage=kind.value, part=part or "", sheet=sheet or "", line=line,
                         ref=ref, damage_zh=_said("zh", kind, part, sheet, line, ref, raw),
                         damage_en=_said("en", kind, part, sheet, line, ref, raw), detail=raw)


def raw_words(e: BaseException) -> str:
    """A library's words for ``e``, for a maintainer: its type and message on one line, shortened."""
    said = " ".join(str(e).split())
    return (f"{type(e).__name__}: {said}" if said else type(e).__name__)[:300]


def xml_error(path: str, e: etree.XMLSyntaxError, *, part: str | None, sheet: str | None = None) -> WorkbookError:
    """lxml's refusal of a part: a text not in UTF-8 (or the encoding it declares), or not XML at all."""
    said = str(e).lower()
    kind = Damage.ENCODING if "decode" in said or "encoding" in said or "utf-8" in said else Damage.NOT_XML
    return damaged(path, kind, part=part, sheet=sheet, line=e.lineno or None, raw=raw_words(e))


_MISSING_NAME = re.compile(r"There is no item named '([^']*)' in the archive")


def archive_error(path: str, e: BaseException, *, part: str | None, sheet: str | None = None) -> WorkbookError:
    """zipfile's or zlib's refusal while reading ``part``: missing, its data damaged, or not XML (lxml's)."""
    if isinstance(e, etree.XMLSyntaxError):
        return xml_error(path, e, part=part, sheet=sheet)
    if isinstance(e, KeyError) and (m := _MISSING_NAME.search(str(e))):
        return damaged(path, Damage.PART_MISSING, part=m[1], sheet=sheet if m[1] == part else None, raw=raw_words(e))
    if isinstance(e, zipfile.BadZipFile | zlib.error | EOFError):
        return damaged(path, Damage.DATA, part=part, sheet=sheet, raw=raw_words(e))
    if isinstance(e, RuntimeError) and "encrypted" in str(e):  # zipfile: "File ... is encrypted, password required"
        return damaged(path, Damage.ENCRYPTED_PART, part=part, sheet=sheet, raw=raw_words(e))
    if isinstance(e, NotImplementedError):  # zipfile: "That compression method is not supported"
        return damaged(path, Damage.COMPRESSION, part=part, sheet=sheet, raw=raw_words(e))
    return damaged(path, Damage.UNKNOWN, part=part, sheet=sheet, raw=raw_words(e))


class _Nothing:
    """A parser target that keeps nothing: the part is only read through."""

    def start(self, tag: str, attrib: object) -> None:
        pass

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def diagnose(path: str, z: zipfile.ZipFile, part: str, *, sheet: str | None = None,
             required: bool = True) -> WorkbookError | None:
    """Read ``part`` of ``z`` as XML, streamed: the refusal that says what is wrong with it, or None if it reads
    (or, not ``required``, is absent). The parts it is given are within the limits already checked."""
    folded = {n.lower(): n for n in z.namelist()}
    name = part if part in z.NameToInfo else folded.get(part.lower())
    if name is None:
        return damaged(path, Damage.PART_MISSING, part=part, sheet=sheet) if required else None
    try:
        parser = etree.XMLParser(target=_Nothing(), resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=True)  # no tree is built: a large sheet costs a piece at a time
        with z.open(name) as fh:
            while piece := fh.read(1 << 16):
                parser.feed(piece)
        parser.close()
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as e:
        return archive_error(path, e, part=part, sheet=sheet)
    return None


#: calamine's words (python-calamine 0.x), classified: what is wrong when our own reading of the part found nothing.
_CALAMINE_KINDS: tuple[tuple[str, Damage], ...] = (
    ("string index not found in shared strings", Damage.SHARED_TEXT), ("checksum", Damage.DATA),
    ("deflate", Damage.DATA), ("decode", Damage.ENCODING), ("encoding", Damage.ENCODING),
    ("range is missing", Damage.REFERENCE), ("expecting", Damage.REFERENCE), ("invalid reference", Damage.REFERENCE),
    ("relationship not found", Damage.RELATIONSHIP), ("xml", Damage.STRUCTURE))
#: The part calamine means when it names the element it looked for (``XmlError: sst``) or the relationship it lacks.
_CALAMINE_PARTS = {"workbook": "xl/workbook.xml", "sst": "xl/sharedStrings.xml", "stylesheet": "xl/styles.xml",
                   "relationship not found": "xl/_rels/workbook.xml.rels"}


def reader_error(path: str, e: BaseException, *, part: str | None, sheet: str | None = None) -> WorkbookError:
    """calamine's refusal of a sheet (or of the file when opened), classified by its words. Called once our own
    reading found the parts well-formed XML: an XML error of calamine's is then a part of another shape."""
    said = f"{type(e).__name__}: {e}".lower()
    kind = next((k for words, k in _CALAMINE_KINDS if words in said), Damage.UNKNOWN)
    if part is None:
        named = next((p for words, p in _CALAMINE_PARTS.items() if said.endswith(words)), None)
        part, sheet = (named, None) if named else (part, sheet)
    return damaged(path, kind, part=part, sheet=sheet, raw=raw_words(e))


#: The parts read when a workbook is opened (ours and calamine's), and whether one must be there.
OPENED_PARTS = (("[Content_Types].xml", False), ("_rels/.rels", False), ("xl/workbook.xml", True),
                ("xl/_rels/workbook.xml.rels", True), ("xl/styles.xml", False), ("xl/sharedStrings.xml", False))


def opening_error(path: str, z: zipfile.ZipFile, e: BaseException) -> WorkbookError:
    """Why a workbook could not be opened: the first of the parts read then that is missing or unreadable,
    else the library's words classified."""
    for part, required in OPENED_PARTS:
        if (found := diagnose(path, z, part, required=required)) is not None:
            return _with_words(found, e)
    if isinstance(e, KeyError | zipfile.BadZipFile | zlib.error | etree.XMLSyntaxError):
        return archive_error(path, e, part=None)
    return reader_error(path, e, part=None)


def sheet_error(path: str, z: zipfile.ZipFile, e: BaseException, *, sheet: str, part: str | None) -> WorkbookError:
    """Why a sheet could not be read: its part missing or unreadable, the shared strings its cells need missing
    or unreadable, else calamine's words classified."""
    found = diagnose(path, z, part, sheet=sheet) if part else None
    if found is None and "shared strings" in str(e).lower():
        found = diagnose(path, z, "xl/sharedStrings.xml")
    return _with_words(found, e) if found else reader_error(path, e, part=part, sheet=sheet)


def _with_words(found: WorkbookError, e: BaseException) -> WorkbookError:
    """``found``, keeping the words of the error that set the look off for a maintainer when it has none."""
    found.params["detail"] = found.params["detail"] or raw_words(e)
    return found



def on_sheet(e: WorkbookError, sheet: str) -> WorkbookError:
    """A damaged part found while unpacking it (``limits.inflate``, which knows parts, not sheets) named by its sheet."""
    p = e.params
    if e.code != "file.corrupt" or not p.get("part") or p.get("sheet"):
        return e
    return damaged(p["path"], Damage(p["damage"]), part=p["part"], sheet=sheet, line=p.get("line"),
                   ref=p.get("ref", ""), raw=p.get("detail", ""))
