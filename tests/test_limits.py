"""Hostile sizes are refused before any reader sees them, in bounded time and memory.

Every hostile file is built here, on disk, by streaming repeated XML through zipfile (none is
stored in the repository). Refusals run in a subprocess under a 1.5 GB address-space limit,
so a regression fails the test (MemoryError, or calamine aborting) instead of eating the
machine; the refusal's own peak memory is measured there with getrusage.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcomplaints.api import new_workbook
from xlcomplaints.core.metrics import Period
from xlcomplaints.report.run import ReportRequest, report_flow
from xlcomplaints.workbook import limits
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.limits import Refusal
from xlcomplaints.workbook.package import XlsxPackage
from xlcomplaints.workbook.reader import read_branch

REGISTER = "投诉登记"
#: What a refusal may cost at most: the CLI itself starts at about 100 MB.
REFUSAL_PEAK_MB = 300
REFUSAL_SECONDS = 30
ADDRESS_SPACE = 1536 << 20

#: Runs a command under the address-space limit; prints its exit code, output, time and peak memory.
_MEASURE = """
import json, resource, subprocess, sys, time
def limit():
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True, preexec_fn=limit, timeout=120)
print(json.dumps({{"code": p.returncode, "out": p.stdout, "err": p.stderr, "seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""


def measured(*args: str | Path) -> dict[str, object]:
    """The CLI run once in a fresh process (so the peak is its own), under ADDRESS_SPACE."""
    done = subprocess.run([sys.executable, "-c", _MEASURE.format(limit=ADDRESS_SPACE), sys.executable, "-m",
                           "xlcomplaints.cli", *map(str, args)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def assert_refused(result: dict[str, object]) -> None:
    """Exit 2, one sentence, no traceback, within the time and memory bounds."""
    err = str(result["err"])
    assert result["code"] == 2, result
    assert "Traceback" not in err + str(result["out"]) and "panicked" not in err
    assert float(result["peak_mb"]) < REFUSAL_PEAK_MB, result["peak_mb"]  # type: ignore[arg-type]
    assert float(result["seconds"]) < REFUSAL_SECONDS, result["seconds"]  # type: ignore[arg-type]


def template(folder: Path, name: str = "bj01.xlsx") -> Path:
    path = folder / name
    new_workbook(path, branch_code="BJ01", branch_name="北京一店", lang="zh")
    return path


def register_part(path: Path) -> str:
    return XlsxPackage.open(path).sheet(REGISTER).part


def with_rows(path: Path, rows: Iterable[bytes], *, out: Path | None = None) -> Path:
    """The workbook with ``rows`` (raw XML) added at the end of its Register, streamed into the zip."""
    part = register_part(path)
    out = out or path.with_name("hostile-" + path.name)
    with zipfile.ZipFile(path) as src:
        original = src.read(part)
    head, tail = original.split(b"</sheetData>") if b"</sheetData>" in original else (
        original.replace(b"<sheetData/>", b"<sheetData>"), b"")
    return with_part(path, part, _chain([head], rows, [b"</sheetData>", tail]), out=out)


def _chain(*parts: Iterable[bytes]) -> Iterator[bytes]:
    for p in parts:
        yield from p


def with_part(path: Path, part: str, chunks: Iterable[bytes], *, out: Path) -> Path:
    """A copy of the workbook with one part's content streamed in (deflated at level 1: quick to build)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info, src.read(info))
                continue
            with dst.open(part, "w", force_zip64=True) as sink:
                for chunk in chunks:
                    sink.write(chunk)
    return out


def repeated(piece: bytes, total: int) -> Iterator[bytes]:
    """``piece`` over and over, a megabyte at a time, until ``total`` bytes."""
    block = piece * max(1, (1 << 20) // len(piece))
    for _ in range(total // len(block)):
        yield block


def misstate(path: Path, part: str, declared: int) -> None:
    """Make the archive record ``declared`` as the part's inflated size (local header and central directory)."""
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo(part)
    struct.pack_into("<L", data, info.header_offset + 22, declared)
    name = part.encode()
    central = data.find(b"PK\x01\x02", data.rfind(name) - 46)
    assert data[central + 46:central + 46 + len(name)] == name
    struct.pack_into("<L", data, central + 24, declared)
    path.write_bytes(data)


_READ = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch
try:
    read_branch(FileWorkbook(sys.argv[1]))
except WorkbookError as e:
    print(e.code)
"""


def refusal(path: Path) -> str:
    """The code reading the workbook is refused with, read in a subprocess under ADDRESS_SPACE
    (a regression must not abort or swamp the test run: calamine aborts the process it runs in)."""
    done = subprocess.run([sys.executable, "-c", _READ.format(limit=ADDRESS_SPACE), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip(), done.stderr[-2000:]
    return done.stdout.strip()


# ---- parts that inflate too far

def test_a_register_inflating_to_gigabytes_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    row = b'<row><c t="inlineStr"><is><t>0000000000000000000000000000000000000000</t></is></c></row>'
    bomb = with_rows(template(tmp_path), repeated(row, limits.MAX_PART_BYTES + (64 << 20)))
    assert bomb.stat().st_size < 4 << 20  # a small file...
    assert zipfile.ZipFile(bomb).getinfo(register_part(bomb)).file_size > limits.MAX_PART_BYTES  # ...that unpacks far
    result = measured("validate", bomb)
    assert_refused(result)
    assert "MB" in str(result["err"])
    assert refusal(bomb) == Refusal.PART


def test_a_misstated_size_is_caught_while_inflating_and_never_trusted(tmp_path: Path) -> None:
    """The archive says 1,000 bytes; the Register unpacks to 8 MB: refused as soon as it passes 1,000."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    liar = with_rows(template(tmp_path), repeated(row, 8 << 20))
    part = register_part(liar)
    # rewrite without zip64 extras, so the size fields are the plain ones
    plain = tmp_path / "plain.xlsx"
    with zipfile.ZipFile(liar) as src, zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    misstate(plain, part, 1000)
    assert refusal(plain) == "file.corrupt"
    assert_refused(measured("validate", plain))


def test_a_shared_string_of_hundreds_of_megabytes_is_refused(tmp_path: Path) -> None:
    path = template(tmp_path)
    names = zipfile.ZipFile(path).namelist()
    part = next(n for n in names if n.lower().endswith("sharedstrings.xml"))
    head = b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    bomb = with_part(path, part, _chain([head + b' count="1" uniqueCount="1"><si><t>'],
                                        repeated(b"x", limits.MAX_PART_BYTES + (16 << 20)), [b"</t></si></sst>"]),
                     out=tmp_path / "sst.xlsx")
    assert bomb.stat().st_size < 2 << 20
    assert_refused(measured("validate", bomb))
    assert refusal(bomb) == Refusal.PART


def test_a_text_longer_than_any_cell_excel_holds_is_refused(tmp_path: Path) -> None:
    """Under the part limit, but one 'string' of 4 MB: Excel holds 32,767 characters in a cell."""
    path = template(tmp_path)
    text = b'<row r="2"><c r="C2" t="inlineStr"><is><t>' + b"x" * (4 << 20) + b"</t></is></c></row>"
    assert refusal(with_rows(path, [text])) == Refusal.TEXT


# ---- used ranges calamine would lay out

@pytest.mark.parametrize("ref", ["AX1048576", "XFD1048576", "XFD1000"])
def test_one_value_far_out_is_refused_before_calamine_lays_out_the_grid(tmp_path: Path, ref: str) -> None:
    """One cell at AX1048576 cost 11 s and 1.7 GB; at XFD1048576 calamine aborted the process."""
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    hostile = with_rows(template(tmp_path), [f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'.encode()])
    assert refusal(hostile) == Refusal.CELLS
    result = measured("validate", hostile, "--lang", "en")
    assert_refused(result)
    assert ref in str(result["err"])


def test_cells_without_references_are_placed_as_calamine_places_them(tmp_path: Path) -> None:
    """A row of 20,000 cells with no reference reaches column 20,000: the exact walk finds it."""
    cells = b"<c><v>1</v></c>" * 20_000
    hostile = with_rows(template(tmp_path), [b'<row r="600">' + cells + b"</row>"])
    assert refusal(hostile) == Refusal.CELLS


def test_a_genuine_million_row_register_is_refused_and_refresh_leaves_it_untouched(tmp_path: Path) -> None:
    """1,048,575 real rows took 11.3 GB in validate; refresh saved it, then exited 3."""
    def rows() -> Iterator[bytes]:
        for start in range(2, 1_048_577, 4096):
            yield b"".join(
                b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>BJ01-2611-%07d</t></is></c>'
                b'<c r="B%d"><v>46300.5</v></c><c r="C%d" t="inlineStr"><is><t>%s</t></is></c>'
                b'<c r="E%d" t="inlineStr"><is><t>%s</t></is></c></row>'
                % (r, r, r, r, r, "电话".encode(), r, "王先生".encode())
                for r in range(start, min(start + 4096, 1_048_577)))
    big = with_rows(template(tmp_path), rows())
    before = big.read_bytes()
    for command in ("validate", "refresh", "assign-ids"):
        assert_refused(measured(command, big))
    assert big.read_bytes() == before and not list(tmp_path.glob("*.bak.*"))


# ---- the batch goes on

def test_consolidate_lists_a_hostile_file_and_reports_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    template(folder, "good.xlsx")
    far = template(tmp_path, "far.xlsx")
    with_rows(far, [b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'], out=folder / "far.xlsx")
    result = report_flow(ReportRequest([folder], Period.month(2026, 10), tmp_path / "report.xlsx",
                                       now=datetime(2026, 11, 2)))
    issues = {p.file: p.code for p in result.consolidation.issues if p.file}
    assert issues.get("far.xlsx") == Refusal.CELLS
    assert result.output.exists()


def test_report_of_one_hostile_branch_exits_2(tmp_path: Path) -> None:
    hostile = with_rows(template(tmp_path), [b'<row r="1048576"><c r="AX1048576"><v>1</v></c></row>'])
    assert_refused(measured("report", hostile, "--month", "2026-10", "-o", tmp_path / "r.xlsx"))
    assert not (tmp_path / "r.xlsx").exists()


def test_excel_standalone_refuses_a_zip_bomb_before_inflating_it(tmp_path: Path) -> None:
    """`excel standalone` opens a package the user gives, so it is held to the limits of every other
    command: a small .xlsm whose sheet inflates past the limit is refused by its declared size."""
    from xlcomplaints.templates.macro import build_branch_xlsm

    source = tmp_path / "bj01.xlsm"
    build_branch_xlsm(source, lang="zh", created=None)
    row = b'<row><c t="inlineStr"><is><t>0000000000000000000000000000000000000000</t></is></c></row>'
    bomb = with_rows(source, repeated(row, limits.MAX_PART_BYTES + (64 << 20)))
    assert bomb.stat().st_size < 4 << 20
    out = tmp_path / "standalone.xlsm"
    for lang, said in (("zh", "解压后超过 256 MB 的上限，未读取"), ("en", "unpacks to more than the 256 MB limit")):
        result = measured("excel", "standalone", bomb, out, "--lang", lang)
        assert_refused(result)
        assert said in str(result["err"]) and str(result["err"]).count("\n") == 1
        assert not out.exists()


def test_excel_standalone_refuses_a_part_larger_than_its_record_says(tmp_path: Path) -> None:
    from xlcomplaints.templates.macro import build_branch_xlsm

    source = tmp_path / "bj01.xlsm"
    build_branch_xlsm(source, lang="zh", created=None)
    misstate(source, "xl/vbaProject.bin", 100)
    result = measured("excel", "standalone", source, tmp_path / "standalone.xlsm", "--lang", "en")
    assert result["code"] == 2 and "Traceback" not in str(result["err"]), result
    assert str(result["err"]).startswith("Error: bj01.xlsm is damaged")


# ---- normal files pass

def test_a_sheet_past_the_quick_scan_but_within_the_limits_is_read(tmp_path: Path) -> None:
    """150,000 rows (past the quick scan's 99,999, within MAX_ROWS): the references are read, nothing refused."""
    rows = (b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(2, 150_002))
    path = with_rows(template(tmp_path), rows)
    data = path.read_bytes()
    info = zipfile.ZipFile(path).getinfo(register_part(path))
    limits.check_sheet(path, data, info, REGISTER)  # no refusal
    # one row past the limit, in a sheet of one column (the Register's 50 reach the cell limit first)
    last = limits.MAX_ROWS + 1
    more = with_part(path, info.filename, [b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                                           b'2006/main"><sheetData><row r="%d"><c r="A%d"><v>1</v></c></row>'
                                           b"</sheetData></worksheet>" % (last, last)], out=tmp_path / "more.xlsx")
    with pytest.raises(WorkbookError) as e:
        limits.check_sheet(more, more.read_bytes(), zipfile.ZipFile(more).getinfo(info.filename), REGISTER)
    assert e.value.code == Refusal.ROWS


def test_a_large_ordinary_register_takes_the_quick_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = (b'<row r="%d"><c r="A%d"><v>1</v></c><c r="BZ%d"><v>2</v></c></row>' % (r, r, r)
            for r in range(2, 5000))
    path = with_rows(template(tmp_path), rows)

    def no_second_look(*args: object) -> bool:
        raise AssertionError("an ordinary sheet was read twice")

    monkeypatch.setattr(limits, "_explicit", no_second_look)
    monkeypatch.setattr(limits, "_walk", no_second_look)
    read_branch(FileWorkbook(path))


def test_a_workbook_part_under_another_name_is_held_to_the_limit_of_parts_parsed_whole(tmp_path: Path) -> None:
    """The workbook part is parsed whole (by lxml and calamine): whatever _rels/.rels calls it, 16 MB at most."""
    path = template(tmp_path)
    renamed = {"xl/_rels/workbook.xml.rels": "xl/_rels/book.dat.rels"}
    out = tmp_path / "renamed.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "_rels/.rels":
                data = data.replace(b"xl/workbook.xml", b"xl/book.dat")
            if info.filename == "xl/workbook.xml":
                dst.writestr(info, data)  # left as a decoy: the package reads what _rels/.rels names
                head, tail = data.rsplit(b"</workbook>", 1)
                with dst.open("xl/book.dat", "w", force_zip64=True) as sink:
                    sink.write(head)
                    for block in repeated(b"<!---->", limits.MAX_TREE_PART_BYTES + (1 << 20)):
                        sink.write(block)
                    sink.write(b"</workbook>" + tail)
                continue
            dst.writestr(renamed.get(info.filename, info.filename), data)
    assert refusal(out) == Refusal.PART


@pytest.mark.parametrize(("row", "code"), [
    (b'<row r="2"><c r="xfd1048576"><v>1</v></c></row>', Refusal.CELLS),          # lower case
    (b'<row r="2"><c s="0" r="XFD5000"><v>1</v></c></row>', Refusal.CELLS),       # reference not first
    (b'<row r="2"><c r="A12345678"><v>1</v></c></row>', Refusal.CELLS),           # past Excel's last row
    (b'<row r="123456789012"><c><v>1</v></c></row>', Refusal.CELLS),              # a row number, its cell implied
    (b'<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="3"><x:c r="XFD3000">'
     b"<x:v>1</x:v></x:c></x:row>", Refusal.CELLS),                                # a namespace prefix
    (b'<row r="2"><c r="ZZZZZZZZZZ1"><v>1</v></c></row>', "file.corrupt"),        # no reference at all
    (b'<row r="2"><c r="A2" r="XFD1048576"><v>1</v></c></row>', "file.corrupt"),  # twice: calamine takes the last
    (b'<row r="2"><c r="A2" s="0" r="A1048576"><v>1</v></c></row>', "file.corrupt"),
    (b'<row r="2"><c r="A2" x=">" r="XFD1048576"><v>1</v></c></row>', "file.corrupt"),  # a '>' in a value
    (b'<row r="2" r="1048576"><c><v>1</v></c></row>', "file.corrupt"),
    (b'<row r="100000"><c r="A2" r="XFD1048576"><v>1</v></c></row>', "file.corrupt"),  # and the references read
])
def test_odd_references_are_placed_or_refused_never_trusted(tmp_path: Path, row: bytes, code: str) -> None:
    assert refusal(with_rows(template(tmp_path), [row])) == code


def test_shared_strings_claiming_billions_of_items_are_refused(tmp_path: Path) -> None:
    """calamine reserves room for the declared uniqueCount first: 4,000,000,000 aborted the process."""
    path = template(tmp_path)
    part = next(n for n in zipfile.ZipFile(path).namelist() if n.lower().endswith("sharedstrings.xml"))
    data = zipfile.ZipFile(path).read(part)
    claimed = re.sub(rb'uniqueCount="\d+"', b'uniqueCount="4000000000"', data)
    assert claimed != data
    hostile = with_part(path, part, [claimed], out=tmp_path / "claims.xlsx")
    assert refusal(hostile) == Refusal.STRINGS
    assert_refused(measured("validate", hostile))


# ---- the quick scan's two expressions against the one they replace

#: The quick scan as one expression (until 2026-12-07): the reference for ``limits._unusual``.
_ONE_EXPRESSION = re.compile(
    rb'<(?:c(?:>|/>|\s(?!r=")|\sr="(?![AB]?[A-Z]\d{1,5}"))'
    rb'|row(?:>|/>|\s(?!r=")|\sr="(?!\d{1,5}"))'
    rb'|[\w.-]+:(?:c|row)[\s>/])')
_REFS = st.one_of(st.from_regex(r"[A-Ca-c]?[A-Z]\d{1,6}", fullmatch=True), st.from_regex(r"[A-Z]{1,3}\d{1,8}", fullmatch=True),
                  st.from_regex(r"\d{1,7}", fullmatch=True), st.sampled_from(["", "A", "1", "BZ99999", "CA1", "A100000"]))
_PREFIXES = ["", "", "x:", "ns1:", "a.b-c:", "_:", "x14ac:"]


def _tags(closing_prefixes: list[str]) -> st.SearchStrategy[str]:
    """Opening tags, prefixed or not; closing tags with the prefixes given."""
    return st.one_of(_tag(st.just(""), st.sampled_from(_PREFIXES)), _tag(st.just("</"), st.sampled_from(closing_prefixes)))


def _tag(opening: st.SearchStrategy[str], prefixes: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(
    opening, prefixes,
        st.sampled_from(["c", "row", "v", "col", "cols", "cfRule", "rows", "r", "f", "is", "t"]),
        st.sampled_from([" ", "\t", "\n", "\r\n ", ">", "/>", "  "]),
        st.lists(st.one_of(_REFS.map(lambda r: f'r="{r}"'), st.sampled_from(['s="1"', 't="s"', "r='A1'", 'spans="1:5"',
                                                                             'x14ac:dyDescent="0.25"'])), max_size=3),
    ).map(lambda t: (f"{t[0]}{t[1]}{t[2]}{t[3]}" if t[0] else f"<{t[1]}{t[2]}{t[3]}{' '.join(t[4])}"
                     + ("" if t[3] in (">", "/>") else ">")))


_TAG = _tags([""])  # a prefixed closing tag follows its opening one, which both forms flag
_ANY_TAG = _tags(_PREFIXES)
_TEXT = st.text(st.sampled_from("abcrow 0123456789中文\"=/-."), max_size=8)  # no ':' and no '<': texts as cells hold


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(_TAG, _TAG, _TEXT), max_size=12))
def test_the_quick_scan_in_two_expressions_flags_what_one_did(pieces: list[str]) -> None:
    """On sheets of generated tags (prefixes, odd and far references, references not first or written twice, cells
    and rows without one) and texts, ``limits._unusual`` flags exactly the blocks the one expression flagged."""
    block = "".join(pieces).encode()
    assert limits._unusual(memoryview(block)) == (_ONE_EXPRESSION.search(block) is not None or _twice(block))


def _twice(block: bytes) -> bool:
    """A cell or row tag whose reference is written twice (calamine places it by the last)."""
    return any(len(re.findall(rb"\sr\s*=", tag)) > 1 for tag in re.findall(rb"<(?:c|row)\s[^>]*>", block))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_ANY_TAG, st.text(max_size=8)), max_size=8))
def test_the_quick_scan_never_flags_less_than_the_one_expression(pieces: list[str]) -> None:
    """With any text (a ':' in it too: ``x:c `` in a clerk's words is flagged, and the sheet's references are
    then read: slower, never looser), whatever the one expression flagged is flagged."""
    block = "".join(pieces).encode()
    assert limits._unusual(memoryview(block)) or (_ONE_EXPRESSION.search(block) is None and not _twice(block))


def test_a_text_looking_like_a_prefix_sends_the_sheet_to_the_reference_scan_and_is_read(tmp_path: Path) -> None:
    path = with_rows(template(tmp_path), [b'<row r="2"><c r="A2" t="inlineStr"><is><t>note:c here</t></is></c></row>'])
    data = path.read_bytes()
    info = zipfile.ZipFile(path).getinfo(register_part(path))
    assert any(limits._unusual(b) for b in limits._blocks(limits._checked(path, data, info)))
    limits.check_sheet(path, data, info, REGISTER)  # read by its references, nothing refused
