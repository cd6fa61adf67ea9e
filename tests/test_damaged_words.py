"""A damaged workbook is refused in the clerk's language alone, saying WHAT is wrong and WHERE.

A clerk whose file is refused as damaged reads one sentence: the archive cut short, a part missing, a
sheet's content not XML (the sheet's name as they see it, and its part), and so on. It used to carry the
libraries' English as its detail, in Chinese mode too: ``（XmlError: sst）``, ``（KeyError: "There is no
item named 'xl/_rels/workbook.xml.rels' in the archive"）``, ``（投诉登记: Range is missing the expected row
component.）``, ``（词表: Cell string index not found in shared strings table）`` (which names neither the
shared strings' part nor the sheet that needs them). Each kind of damage below is made as a real file on
disk, and its words are held, for ``validate`` and for the Issues row of ``consolidate``, in zh and in en.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.test_cli import run
from xlcomplaints.api import consolidate
from xlcomplaints.demo import make_branch
from xlcomplaints.workbook.damage import Damage, damaged

REGISTER, REGISTER_PART = "投诉登记", "xl/worksheets/sheet1.xml"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _rezipped(good: Path, out: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            data = change(info.filename, z.read(info))
            if data is not None:
                w.writestr(info.filename, data)
    return out


def _part(name: str, new: Callable[[bytes], bytes | None]) -> Callable[[str, bytes], bytes | None]:
    def change(part: str, data: bytes) -> bytes | None:
        if part != name:
            return data
        changed = new(data)
        assert changed != data, name  # the maker did damage the part
        return changed
    return change


def _sub(pattern: bytes, repl: bytes) -> Callable[[bytes], bytes]:
    return lambda data: re.sub(pattern, repl, data, count=1)


def _crc_damaged(good: Path, out: Path) -> Path:
    """One byte of the register's compressed data flipped: the archive opens, that part does not unpack."""
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo(REGISTER_PART)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


def _entry_patched(flag: int = 0, method: int | None = None) -> Callable[[Path, Path], Path]:
    """The register's zip entry marked encrypted (``flag`` 1) or compressed by a method zipfile cannot read (9,
    Deflate64), in its local header and in the central directory alike."""
    def make(good: Path, out: Path) -> Path:
        data = bytearray(good.read_bytes())
        with zipfile.ZipFile(good) as z:
            info = z.getinfo(REGISTER_PART)
        central = data.index(b"PK\x01\x02")
        while data[central + 46:central + 46 + len(REGISTER_PART)] != REGISTER_PART.encode():
            central = data.index(b"PK\x01\x02", central + 4)
        for flags_at, method_at in ((info.header_offset + 6, info.header_offset + 8), (central + 8, central + 10)):
            data[flags_at] |= flag
            if method is not None:
                struct.pack_into("<H", data, method_at, method)
        out.write_bytes(bytes(data))
        return out
    return make


#: name → (maker of the damaged file from a good one, what the sentence must name in both languages)
Maker = Callable[[Path, Path], Path]
KINDS: dict[str, tuple[Maker, tuple[str, ...]]] = {
    "zip_truncated": (lambda g, o: o.write_bytes(g.read_bytes()[:g.stat().st_size // 2]) and o, ()),
    "zip_header_only": (lambda g, o: o.write_bytes(b"PK\x03\x04broken zip") and o, ()),
    "not_a_zip": (lambda g, o: o.write_bytes(b"hello, this is not a workbook") and o, ()),
    "encrypted_ole": (lambda g, o: o.write_bytes(OLE + b"\0" * 64 + "EncryptedPackage".encode("utf-16-le")) and o, ()),
    "old_xls": (lambda g, o: o.with_suffix(".xls").write_bytes(OLE + b"\0" * 256) and o.with_suffix(".xls"), ()),
    "sheet_not_xml": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, lambda d: b"not xml at all")),
                      (REGISTER, REGISTER_PART)),
    "sheet_xml_broken": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, _sub(b"</sheetData>", b"</sheetDat>"))),
                         (REGISTER, REGISTER_PART)),
    "sheet_bad_utf8": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, _sub(b"<sheetData>",
                                                                             b"<sheetData><!-- \xff\xfe -->"))),
                       (REGISTER, REGISTER_PART)),
    "sheet_data_damaged": (_crc_damaged, (REGISTER, REGISTER_PART)),
    "sheet_entry_encrypted": (_entry_patched(flag=1), (REGISTER, REGISTER_PART)),
    "sheet_entry_deflate64": (_entry_patched(method=9), (REGISTER, REGISTER_PART)),
    "shared_strings_missing": (lambda g, o: _rezipped(g, o, _part("xl/sharedStrings.xml", lambda d: None)),
                               ("xl/sharedStrings.xml",)),
    "shared_strings_not_xml": (lambda g, o: _rezipped(g, o, _part("xl/sharedStrings.xml", lambda d: b"garbage")),
                               ("xl/sharedStrings.xml",)),
    "styles_not_xml": (lambda g, o: _rezipped(g, o, _part("xl/styles.xml", lambda d: b"<x")), ("xl/styles.xml",)),
    "workbook_not_xml": (lambda g, o: _rezipped(g, o, _part("xl/workbook.xml", lambda d: b"<workbook")),
                         ("xl/workbook.xml",)),
    "workbook_wrong_shape": (lambda g, o: _rezipped(g, o, _part("xl/workbook.xml", lambda d: b"<?xml version='1.0'?><foo/>")),
                             ("xl/workbook.xml",)),
    "shared_strings_wrong_shape": (lambda g, o: _rezipped(g, o, _part("xl/sharedStrings.xml",
                                                                      lambda d: b"<?xml version='1.0'?><foo/>")),
                                   ("xl/sharedStrings.xml",)),
    "sheet_without_its_relationship": (lambda g, o: _rezipped(g, o, _part("xl/workbook.xml", _sub(b'r:id="rId1"',
                                                                                                  b'r:id="rId99"'))),
                                       ("xl/_rels/workbook.xml.rels",)),
    "cell_past_the_shared_strings": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, _sub(rb'(<c [^>]*t="s"[^>]*><v>)\d+',
                                                                                           rb"\g<1>999999"))),
                                     (REGISTER, REGISTER_PART, "xl/sharedStrings.xml")),
    "workbook_rels_missing": (lambda g, o: _rezipped(g, o, _part("xl/_rels/workbook.xml.rels", lambda d: None)),
                              ("xl/_rels/workbook.xml.rels",)),
    "sheet_part_missing": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, lambda d: None)),
                           (REGISTER, REGISTER_PART)),
    "row_number_zero": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, _sub(rb'<row r="2"', b'<row r="0"'))),
                        (REGISTER, REGISTER_PART)),
    "row_number_negative": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, _sub(rb'<row r="2"', b'<row r="-2"'))),
                            (REGISTER, REGISTER_PART)),
    "cell_reference_not_one": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, _sub(rb'<c r="A2"', b'<c r="2A"'))),
                               (REGISTER, REGISTER_PART, "2A")),
    "dimension_not_a_range": (lambda g, o: _rezipped(g, o, _part(REGISTER_PART, _sub(rb'<dimension ref="[^"]*"',
                                                                                    b'<dimension ref="A"'))),
                              (REGISTER, REGISTER_PART)),
}
#: What may stand in a Chinese sentence in Latin letters: names of formats and programs, and the file's and
#: parts' own names (taken out before the look).
LATIN_NAMES = {"Excel", "XML", "UTF", "xlsx", "xlsm", "xls"}
#: Sheets' own names (what the clerk sees), the only Chinese an English sentence may hold.
SHEET_NAMES = ("投诉登记", "处理跟踪", "回访记录", "逾期清单", "汇总", "设置", "日历", "词表")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def assert_in_one_language(message: str, lang: str, file: str, names: tuple[str, ...]) -> None:
    """The sentence is the user's language alone and names where the damage is."""
    assert all(n in message for n in names), (names, message)
    if lang == "zh":
        rest = message.replace(file, " ")
        for name in names:
            rest = rest.replace(name, " ")
        rest = re.sub(r"[\w./\[\]-]+\.(?:xml|rels)\b", " ", rest)  # a part's own name
        latin = set(re.findall(r"[A-Za-z]{2,}", rest)) - LATIN_NAMES
        assert not latin, (latin, message)
    else:
        rest = message
        for sheet in SHEET_NAMES:
            rest = rest.replace(sheet, " ")
        assert not CJK.search(rest), message
    assert "Error:" not in message.removeprefix("Error: ") and "Traceback" not in message


@pytest.fixture(scope="module")
def damaged_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("damaged")
    good = make_branch(folder / "good.xlsx", "BJ01", "北京一店")
    made = {name: maker(good, folder / f"{name}.xlsx") for name, (maker, _) in KINDS.items()}
    assert all(p.exists() for p in made.values())
    return made


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_validate_says_what_is_damaged_and_where_in_the_users_language(damaged_files: dict[str, Path], kind: str,
                                                                      lang: str) -> None:
    path = damaged_files[kind]
    result = run("validate", path, "--lang", lang)
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert message.startswith("错误：" if lang == "zh" else "Error:") and "\n" not in message, message
    assert_in_one_language(message, lang, path.name, KINDS[kind][1])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_consolidate_issues_say_what_is_damaged_and_where_in_the_users_language(
        damaged_files: dict[str, Path], lang: str, tmp_path: Path) -> None:
    good = make_branch(tmp_path / "sh02.xlsx", "SH02", "上海二店")
    report = tmp_path / "group.xlsx"
    consolidate([good, *damaged_files.values()], "2026-10", report, lang=lang, now=datetime(2026, 11, 2, 9),
                workers=1)
    grid = CalamineWorkbook.from_path(str(report)).get_sheet_by_name("问题清单" if lang == "zh" else "Issues")
    said = {str(row[0]): str(row[6]) for row in grid.to_python()[1:] if row[0]}
    for kind, path in damaged_files.items():
        assert path.name in said, (kind, sorted(said))
        assert_in_one_language(said[path.name], lang, path.name, KINDS[kind][1])


def test_damage_no_kind_fits_is_a_generic_sentence_naming_the_part_with_the_raw_words_marked() -> None:
    """The fallback: the sentence is the user's; the library's words follow, marked as such, for a maintainer."""
    e = damaged("bj01.xlsx", Damage.UNKNOWN, part="xl/worksheets/sheet1.xml", sheet=REGISTER,
                raw="FooError: something odd")
    zh, en = e.message("zh"), e.message("en")
    assert "“投诉登记”工作表（xl/worksheets/sheet1.xml）无法读取" in zh and "【原始信息，供维护人员：FooError: something odd】" in zh
    assert "the sheet '投诉登记' (xl/worksheets/sheet1.xml) cannot be read" in en
    assert "[raw detail, for maintainers: FooError: something odd]" in en
    known = damaged("bj01.xlsx", Damage.NOT_XML, part="xl/styles.xml", raw="XmlError: x")
    assert "XmlError" not in known.message("zh") + known.message("en") and known.params["detail"] == "XmlError: x"


def test_validate_json_gives_the_kind_of_damage_and_the_librarys_words_for_a_maintainer(
        damaged_files: dict[str, Path]) -> None:
    said = json.loads(run("validate", damaged_files["shared_strings_missing"], "--json", "--lang", "en").stdout)
    assert said["error"] == "file.corrupt" and said["damage"] == Damage.PART_MISSING
    assert "xl/sharedStrings.xml" in said["message"] and "shared strings" in said["detail"]  # calamine's words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_file_the_system_refuses_to_read_is_told_why_in_the_users_words(tmp_path: Path, lang: str) -> None:
    """A path through a file, or a name longer than the system allows: the system's English ('Not a directory')
    was the sentence's reason, and a name too long ended validate as an internal error."""
    (tmp_path / "plain.xlsx").write_bytes(b"")
    through_a_file, too_long = tmp_path / "plain.xlsx" / "bj01.xlsx", tmp_path / ("长" * 100 + ".xlsx")
    for path, names in ((through_a_file, ("路径中有一段不是文件夹", "a part of its path is not a folder")),
                        (too_long, ("文件名或路径过长", "its name or path is too long"))):
        result = run("validate", path, "--lang", lang)
        assert result.returncode == 2, (result.stdout, result.stderr)
        message = result.stderr.strip()
        assert names[0 if lang == "zh" else 1] in message, message
        assert_in_one_language(message.replace(path.name, "").replace(str(path.parent), ""), lang, "", ())
    run_ = consolidate([make_branch(tmp_path / "sh02.xlsx", "SH02", "上海二店"), through_a_file], "2026-10",
                       tmp_path / "group.xlsx", lang=lang, now=datetime(2026, 11, 2, 9), workers=1)
    said = [p.message(lang) for p in run_.report.issues if p.file == "bj01.xlsx"]
    assert said and ("路径中有一段不是文件夹" if lang == "zh" else "a part of its path is not a folder") in said[0], said
    assert "Not a directory" not in said[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_consolidation_given_a_name_too_long_counts_the_others_and_says_why(tmp_path: Path, lang: str) -> None:
    """A name longer than the system allows among the files given (a path typed or pasted wrong): the others are
    counted and the report written, the one file said in the user's words — it stopped the whole run as an internal
    error when the folder check met it (``os.path.isdir`` never raises; ``Path.is_dir`` did on Python 3.11)."""
    good = make_branch(tmp_path / "sh02.xlsx", "SH02", "上海二店")
    too_long = tmp_path / ("长" * 100 + ".xlsx")
    result = run("consolidate", good, too_long, "--period", "2026-10", "-o", tmp_path / "group.xlsx", "--lang", lang)
    assert result.returncode == 0, (result.stdout, result.stderr)  # the report is written; the file is on its Issues
    assert (tmp_path / "group.xlsx").is_file()
    grid = CalamineWorkbook.from_path(str(tmp_path / "group.xlsx")).get_sheet_by_name(
        "问题清单" if lang == "zh" else "Issues")
    said = [str(row[6]) for row in grid.to_python()[1:] if too_long.name in str(row[0])]
    assert said and ("文件名或路径过长" if lang == "zh" else "its name or path is too long") in said[0], said


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_write_the_system_refuses_is_told_why_in_the_users_words(tmp_path: Path, lang: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk full under the report, a read-only store folder under a worker's partition: the system's English
    ('No space left on device') was the sentence's reason. Now the user's words say it, the system's are kept for a
    maintainer (``detail``)."""
    import errno
    from concurrent.futures import ThreadPoolExecutor

    from xlcomplaints.core.metrics import Month
    from xlcomplaints.report import consolidate as C
    from xlcomplaints.report import run as R
    from xlcomplaints.workbook.errors import WorkbookError

    good = make_branch(tmp_path / "sh02.xlsx", "SH02", "上海二店")
    other = make_branch(tmp_path / "bj01.xlsx", "BJ01", "北京一店")

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(R, "atomic_write", full)
        with pytest.raises(WorkbookError) as refused:
            R.report_flow(R.ReportRequest([good], Month(2026, 10), tmp_path / "group.xlsx", lang=lang,
                                          now=datetime(2026, 11, 2, 9)), R.ReportHooks(workers=1))
    message = refused.value.message(lang)
    assert ("磁盘空间不足" if lang == "zh" else "the disk is full") in message and "No space" not in message
    assert "No space left on device" in refused.value.params["detail"]
    assert_in_one_language(message.replace(str(tmp_path), ""), lang, "", ())

    real = C.write_partition

    def read_only(folder: str, *args: object) -> object:
        if C.Path(folder).name and args and any(getattr(c, "branch", None) == "BJ01" for c in args[0]):  # type: ignore[attr-defined]
            raise OSError(errno.EROFS, "Read-only file system")
        return real(folder, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(C, "write_partition", read_only)
    with ThreadPoolExecutor(max_workers=1) as pool:  # in this process, where the stand-in is
        result = R.report_flow(R.ReportRequest([good, other], Month(2026, 10), tmp_path / "group.xlsx", lang=lang,
                                               now=datetime(2026, 11, 2, 9)), R.ReportHooks(executor=pool))
    said = [p.message(lang) for p in result.report.issues if p.file == "bj01.xlsx"]
    assert said and ("磁盘或文件夹是只读的" if lang == "zh" else "the disk or folder is read-only") in said[0], said
    assert "Read-only file system" not in said[0]
