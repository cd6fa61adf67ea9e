"""What no program writes inside a sheet's rows costs a refresh no more than the rows themselves.

Excel never writes comments, processing instructions or CDATA among a sheet's rows; a hand-made
or hostile file may hold millions of them in a few hundred KB. Refresh takes them out before it
slices the rows: once as a tree (20 MB of comments took 565 MB; 200 MB, 5 GB) whose whitespace
was joined one node at a time (1 MB of processing instructions took 43 s, 4 MB 300 s: quadratic).
Each is taken out in one pass over the text now, and the refresh saves as for any register; more than
MAX_ODD_NODES of them are refused at once.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.test_limits import REGISTER, measured, register_part, repeated, with_rows
from xlcomplaints.api import consolidate
from xlcomplaints.demo import make_branch
from xlcomplaints.workbook import limits
from xlcomplaints.workbook.sheet_xml import MAX_ODD_NODES

#: What the refresh of a template's register costs at most (the CLI itself starts at about 100 MB).
REFRESH_PEAK_MB = 300
REFRESH_SECONDS = 20


def register(folder: Path) -> Path:
    """A branch whose register holds complaints, so that refresh writes into its rows."""
    return make_branch(folder / "bj01.xlsx", "BJ01", "北京一店", n=8, seed=1)


def refreshed_fine(path: Path) -> None:
    before = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(REGISTER).to_python()[:3]
    with zipfile.ZipFile(path) as z:
        assert b"<!--" in z.read(register_part(path)) or b"<?a" in z.read(register_part(path))
    result = measured("refresh", path, "--now", "2026-11-02 09:00", "--lang", "en")
    assert result["code"] in (0, 1), result  # 1: the branch's own typing mistakes
    assert "Traceback" not in str(result["err"])
    assert float(result["peak_mb"]) < REFRESH_PEAK_MB, result["peak_mb"]  # type: ignore[arg-type]
    assert float(result["seconds"]) < REFRESH_SECONDS, result["seconds"]  # type: ignore[arg-type]
    with zipfile.ZipFile(path) as z:
        sheet = z.read(register_part(path))
    assert b"<!--" not in sheet and b"<?a" not in sheet  # the rows were written: the sheet taken apart
    after = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(REGISTER).to_python()[:3]
    assert [row[:19] for row in after] == [row[:19] for row in before]  # what the clerk typed, as typed


def test_millions_of_comments_among_the_rows_are_refused_in_the_memory_of_the_rows(tmp_path: Path) -> None:
    """Over MAX_ODD_NODES of them is no sheet any program wrote: refused at once (it took 548 MB to refresh)."""
    path = with_rows(register(tmp_path), repeated(b"<!-- x -->", 20 << 20))  # 2 M comments, 20 MB
    original = path.read_bytes()
    for lang, word in (("zh", "十万个以上的注释"), ("en", "over 100,000 comments")):
        result = measured("refresh", path, "--now", "2026-11-02 09:00", "--lang", lang)
        assert result["code"] == 2 and word in str(result["err"]), result
        assert float(result["peak_mb"]) < REFRESH_PEAK_MB, result["peak_mb"]  # type: ignore[arg-type]
        assert float(result["seconds"]) < REFRESH_SECONDS, result["seconds"]  # type: ignore[arg-type]
        assert path.read_bytes() == original


def test_processing_instructions_among_the_rows_refresh_in_seconds_not_minutes(tmp_path: Path) -> None:
    assert MAX_ODD_NODES > 90_000
    path = with_rows(register(tmp_path), [b"<?a b?>   " * 90_000])  # 90,000 of them, 900 KB: 35 s before
    refreshed_fine(path)


def test_thousands_of_comments_among_the_rows_are_taken_out_and_the_rows_kept(tmp_path: Path) -> None:
    path = with_rows(register(tmp_path), [b"<!-- x -->" * 90_000])
    refreshed_fine(path)


def test_cdata_among_the_rows_is_kept_as_the_text_it_is(tmp_path: Path) -> None:
    row = b'<row r="900"><c r="A900" t="inlineStr"><is><t><![CDATA[BJ01-<&>]]></t></is></c></row>'
    path = with_rows(register(tmp_path), [b"<!-- a note -->", row])
    result = measured("refresh", path, "--now", "2026-11-02 09:00")
    assert result["code"] in (0, 1), result
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(REGISTER).to_python()
    assert grid[899][0] == "BJ01-<&>"


def test_a_damaged_drawing_read_only_when_refresh_saves_is_damage_not_an_internal_error(tmp_path: Path) -> None:
    """The Summary's chart sits in a drawing part nothing reads until refresh saves: one that is not XML is
    the file's damage (exit 2, naming the part, in either language), and the file stays as it was."""
    path = register(tmp_path)
    assert measured("refresh", path, "--now", "2026-11-01 09:00")["code"] in (0, 1)  # the chart drawn once
    with zipfile.ZipFile(path) as z:
        drawing = next(n for n in z.namelist() if n.startswith("xl/drawings/drawing") and n.endswith(".xml"))
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "damaged.xlsx", "w") as dst:
        for info in src.infolist():
            dst.writestr(info, b"<xdr:wsDr broken" if info.filename == drawing else src.read(info))
    original = (tmp_path / "damaged.xlsx").read_bytes()
    for lang, word in (("zh", "已损坏"), ("en", "damaged")):
        result = measured("refresh", tmp_path / "damaged.xlsx", "--now", "2026-11-02 09:00", "--lang", lang)
        assert result["code"] == 2, result
        assert word in str(result["err"]) and drawing in str(result["err"]), result
        assert (tmp_path / "damaged.xlsx").read_bytes() == original


def test_a_drawing_too_large_to_parse_whole_is_refused_before_refresh_reads_it(tmp_path: Path) -> None:
    """Refresh parses the Summary's drawing whole (10 MB of comments in one took 239 MB): a drawing is held to the
    limit of the parts parsed whole, as the workbook and styles are, and refused in one sentence, file untouched."""
    path = register(tmp_path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z, z.open("xl/drawings/drawing9.xml", "w") as part:
        part.write(b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">')
        for block in repeated(b"<!---->", limits.MAX_TREE_PART_BYTES + (1 << 20)):
            part.write(block)
        part.write(b"</xdr:wsDr>")
    original = path.read_bytes()
    for command in ("validate", "refresh"):
        result = measured(command, path, "--lang", "en")
        assert result["code"] == 2 and "xl/drawings/drawing9.xml" in str(result["err"]), result
        assert path.read_bytes() == original


@pytest.mark.parametrize(("target", "part"), [("worksheets/gone.xml", "xl/worksheets/gone.xml"),
                                              ("/etc/passwd", "etc/passwd"),
                                              ("../../../etc/passwd", "../../etc/passwd")])
def test_a_register_whose_content_is_not_in_the_file_is_damage_naming_the_sheet_and_part(
        tmp_path: Path, target: str, part: str) -> None:
    """The workbook lists the Register but its relationship leads to no part of the file (gone, or outside the
    package): damage, saying which sheet and which part (it said "damaged (投诉登记: 投诉登记)"); in a
    consolidation it is listed and the other branch reported."""
    good = make_branch(tmp_path / "SH02.xlsx", "SH02", "上海二店", n=5, seed=2)
    path = register(tmp_path)
    reg = register_part(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "odd.xlsx", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(f'Target="{reg.removeprefix("xl/")}"'.encode(), f'Target="{target}"'.encode())
            dst.writestr(info, data)
    for lang, words in (("zh", ("已损坏", "“投诉登记”")), ("en", ("is damaged", "'投诉登记'"))):
        result = measured("validate", tmp_path / "odd.xlsx", "--lang", lang)
        assert result["code"] == 2 and part in str(result["err"]), result
        assert all(w in str(result["err"]) for w in words), result
    run = consolidate([good, tmp_path / "odd.xlsx"], "2026-10", tmp_path / "group.xlsx", now=datetime(2026, 11, 2, 9),
                      workers=1)
    assert [p.code for p in run.consolidation.issues if p.file == "odd.xlsx"] == ["file.sheet_part_missing"]
    assert sorted(run.consolidation.branches) == ["SH02"]


@pytest.mark.parametrize("oddity", ["text", "twice"])
def test_rows_refresh_cannot_write_safely_are_refused_not_an_internal_error(tmp_path: Path, oddity: str) -> None:
    """Text between rows, or one row number twice: calamine reads the sheet, but its rows cannot be rewritten
    without guessing. refresh refuses in one sentence naming the part (it ended in 'internal error:
    ValueError'), and writes nothing."""
    path = register(tmp_path)
    reg = register_part(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "odd.xlsx", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == reg:
                data = (data.replace(b"<sheetData>", b"<sheetData>stray text", 1) if oddity == "text"
                        else data.replace(b'<row r="3"', b'<row r="2"', 1))
            dst.writestr(info, data)
    original = (tmp_path / "odd.xlsx").read_bytes()
    for lang, word in (("zh", "无法安全写入"), ("en", "cannot be written safely")):
        result = measured("refresh", tmp_path / "odd.xlsx", "--now", "2026-11-02 09:00", "--lang", lang)
        assert result["code"] == 2 and word in str(result["err"]) and reg in str(result["err"]), result
        assert (tmp_path / "odd.xlsx").read_bytes() == original
