"""Checks for the vbaProject.bin writer against independent readers and real Excel files.

Independent judges: olefile (MS-CFB), oletools' olevba (MS-OVBA dir parsing and its own
decompressor), the byte vectors printed in MS-OVBA §3.2 and §2.3.1.15, real
Excel-authored projects in ../shared/fixtures/real-excel, and LibreOffice's VBA
importer. Nothing here runs Excel.
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import olefile
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools import olevba

from tests.conftest import REAL_EXCEL
from xlcomplaints.templates.vbaproject import (
    OFFICE,
    STDOLE,
    VbaModule,
    VbaReference,
    build_vba_project,
    compress,
    decompress,
    read_vba_modules,
    xlwings_addin_reference,
)
from xlcomplaints.templates.vbaproject.streams import _encrypt

REAL_PROJECTS = ["SimpleMacro.xlsm", "57181.xlsm", "62629_target.xlsm"]

BUTTON_CODE = (
    "Sub RefreshOverdue()\n"
    '    RunPython "import xlcomplaints.excel.buttons as b; b.refresh_overdue()"\n'
    "End Sub\n"
)
WORKBOOK_CODE = "Private Sub Workbook_Open()\n    Sheet1.Range(\"A1\").Value = Now\nEnd Sub\n"
CLASS_CODE = "Option Explicit\nPublic Count As Long\n\nPublic Sub Bump()\n    Count = Count + 1\nEnd Sub\n"
# Compresses to more than 4096 bytes, so its stream leaves the mini stream.
BIG_CODE = "".join(f'Sub P{i}()\n    Debug.Print "{i * 7919 % 10007}"\nEnd Sub\n' for i in range(700))

MODULES = [
    VbaModule("ThisWorkbook", WORKBOOK_CODE, "document"),
    VbaModule("Sheet1", "", "document"),
    VbaModule("Sheet2", "", "document"),
    VbaModule("Buttons", BUTTON_CODE),
    VbaModule("Counter", CLASS_CODE, "class"),
    VbaModule("Generated", BIG_CODE),
]


def dir_records(data: bytes) -> list[tuple[int, bytes]]:
    """Independent MS-OVBA §2.3.4.2 record walk: id, size, payload (PROJECTVERSION is 4+6)."""
    out, pos = [], 0
    while pos < len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        size = 6 if rid == 0x09 else size
        out.append((rid, data[pos + 6 : pos + 6 + size]))
        pos += 6 + size
    return out


def decrypt(hex_text: str) -> tuple[int, int, bytes]:
    """MS-OVBA §2.4.3.3 decryption: (version, project key, data)."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[:3]
    plain1, enc1, enc2 = seed ^ key_enc, key_enc, version_enc
    plain = []
    for enc in raw[3:]:
        byte = enc ^ ((enc2 + plain1) & 0xFF)
        plain.append(byte)
        plain1, enc1, enc2 = byte, enc, enc1
    ignored = (seed & 6) // 2
    length = int.from_bytes(bytes(plain[ignored : ignored + 4]), "little")
    return seed ^ version_enc, seed ^ key_enc, bytes(plain[ignored + 4 : ignored + 4 + length])


def project_properties(project: bytes) -> dict[str, str]:
    head = project.decode("cp1252").split("\r\n\r\n")[0]
    return dict(line.split("=", 1) for line in head.split("\r\n"))


def real_bin(name: str) -> bytes:
    return zipfile.ZipFile(REAL_EXCEL / name).read("xl/vbaProject.bin")


def olevba_modules(path: Path) -> dict[str, str]:
    parser = olevba.VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def lf(code: str) -> str:
    return code.replace("\r\n", "\n")


@pytest.fixture(scope="module")
def project_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vba") / "vbaProject.bin"
    path.write_bytes(build_vba_project(MODULES, references=(STDOLE, OFFICE, xlwings_addin_reference())))
    return path


# --- compression -------------------------------------------------------------------------

# MS-OVBA §3.2.1-3.2.3 as published on learn.microsoft.com (an older revision printed
# 30/10/3C instead of 20/00/2C in 3.2.2; the current bytes follow the §2.4.1.3 pseudocode).
SPEC_VECTORS = [
    (b"abcdefghijklmnopqrstuv.",
     "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E"),
    (b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
     "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 20 6D"
     " 6E 6F 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C"),
    (b"a" * 73, "01 03 B0 02 61 45 00"),
]


@pytest.mark.parametrize(("plain", "packed"), SPEC_VECTORS)
def test_compression_reproduces_spec_examples(plain: bytes, packed: str) -> None:
    expected = bytes.fromhex(packed)
    assert compress(plain) == expected
    assert decompress(expected) == plain
    assert bytes(olevba.decompress_stream(bytearray(expected))) == plain


def _chunks(container: bytes) -> list[tuple[bool, int]]:
    """(compressed?, total size) for each chunk, walking headers only."""
    out, pos = [], 1
    while pos < len(container):
        header = struct.unpack_from("<H", container, pos)[0]
        assert (header >> 12) & 0b111 == 0b011
        size = (header & 0x0FFF) + 3
        out.append((bool(header & 0x8000), size))
        pos += size
    assert pos == len(container)
    return out


def _check_round_trip(data: bytes) -> None:
    packed = compress(data)
    chunks = _chunks(packed)
    assert len(chunks) == -(-len(data) // 4096)
    assert all(size <= 4098 and (flag or size == 4098) for flag, size in chunks)
    out = decompress(packed)
    assert bytes(olevba.decompress_stream(bytearray(packed))) == out
    if chunks and not chunks[-1][0]:  # §2.4.1.3.10: a raw final chunk is zero-padded to 4096
        assert out[: len(data)] == data and not out[len(data) :].strip(b"\0")
    else:
        assert out == data


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=9000))
def test_round_trip_binary(data: bytes) -> None:
    _check_round_trip(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["Sub ", "End Sub", "\r\n", "    ", "x", "逾期", "RunPython ", '"', "1"]),
                max_size=3000))
def test_round_trip_source_like(parts: list[str]) -> None:
    data = "".join(parts).encode("gbk")
    _check_round_trip(data)
    assert decompress(compress(data)) == data  # text always shrinks enough: never a raw chunk


def test_incompressible_chunk_is_raw_and_big_input_is_fast() -> None:
    noise = random.Random(0).randbytes(4096 + 3700)
    assert _chunks(compress(noise)) == [(False, 4098), (False, 4098)]
    assert decompress(compress(noise)) == noise + bytes(396)  # raw chunks carry 4096 bytes
    source = (BIG_CODE * 5).encode()
    assert decompress(compress(source)) == source


def test_decompress_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        decompress(b"\x02\x00\x00")
    with pytest.raises(ValueError):
        decompress(b"\x01\x00\x00")  # chunk signature must be 0b011
    with pytest.raises(ValueError):
        decompress(bytes.fromhex("01 01 B0 01 00 00"))  # copy token before any byte


@pytest.mark.parametrize("name", REAL_PROJECTS)
def test_real_excel_modules_decompress_like_oletools(name: str, tmp_path: Path) -> None:
    path = tmp_path / "vbaProject.bin"
    path.write_bytes(real_bin(name))
    ours = read_vba_modules(path.read_bytes(), attributes=True)
    theirs = olevba_modules(path)
    assert ours.keys() == theirs.keys() and ours
    for module, code in theirs.items():
        assert ours[module].rstrip("\n") == lf(code).rstrip("\n"), module


# --- the compound file -------------------------------------------------------------------


def test_olefile_lists_exactly_our_streams(project_bin: Path) -> None:
    ole = olefile.OleFileIO(str(project_bin), raise_defects=olefile.DEFECT_INCORRECT)
    names = ["/".join(p) for p in ole.listdir(streams=True, storages=False)]
    expected = ["PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir", *(f"VBA/{m.name}" for m in MODULES)]
    assert sorted(names) == sorted(expected)
    assert ole.get_type("VBA") == olefile.STGTY_STORAGE
    assert ole.sectorsize == 512 and ole.minisectorsize == 64 and ole.dll_version == 3
    assert ole.get_size("VBA/Generated") >= 4096  # regular sectors
    assert ole.get_size("VBA/Buttons") < 4096  # mini stream
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000000")


def _in_order(entries: list, sid: int) -> list[str]:
    if sid == olefile.NOSTREAM:
        return []
    e = entries[sid]
    return [*_in_order(entries, e.sid_left), e.name, *_in_order(entries, e.sid_right)]


def test_directory_trees_are_ordered_as_ms_cfb_requires() -> None:
    many = [VbaModule("ThisWorkbook", "", "document")] + [VbaModule(f"M{i:02d}x" * (i % 3 + 1), "") for i in range(40)]
    ole = olefile.OleFileIO(build_vba_project(many), raise_defects=olefile.DEFECT_INCORRECT)
    entries = ole.direntries
    for storage in (ole.root, ole.direntries[ole.root.kids_dict["vba"].sid]):
        names = _in_order(entries, storage.sid_child)
        assert names == sorted(names, key=lambda n: (len(n), n.upper()))
        assert len(names) == len(storage.kids)
    assert all(e.color == 1 for e in entries if e is not None)  # all black: allowed by MS-CFB
    assert read_vba_modules(build_vba_project(many)).keys() == {m.name for m in many}


def test_build_is_deterministic() -> None:
    assert build_vba_project(MODULES) == build_vba_project(MODULES)


# --- MS-OVBA streams ---------------------------------------------------------------------


def test_oletools_gives_back_our_source(project_bin: Path) -> None:
    theirs = olevba_modules(project_bin)
    assert list(theirs) == [m.name for m in MODULES]
    for m in MODULES:
        assert olevba.filter_vba(theirs[m.name]) == m.code.rstrip("\n"), m.name
    assert read_vba_modules(project_bin.read_bytes()) == {m.name: m.code for m in MODULES}


def test_oletools_strict_dir_parse(project_bin: Path) -> None:
    ole = olefile.OleFileIO(str(project_bin))
    project = olevba.VBA_Project(ole, "", "PROJECT", "VBA/dir", relaxed=False)  # raises on oddities
    project.parse_project_stream()
    assert [path for path, _, _ in project.parse_modules()] == [f"VBA/{m.name}" for m in MODULES]
    assert (project.codepage, project.lcid, project.projectname) == (1252, 0x409, "VBAProject")


def test_attribute_headers_match_what_the_vbe_writes(project_bin: Path) -> None:
    full = read_vba_modules(project_bin.read_bytes(), attributes=True)
    assert full["Buttons"].startswith('Attribute VB_Name = "Buttons"\nSub RefreshOverdue()')
    for name, base, predeclared in [("ThisWorkbook", "00020819", True), ("Sheet1", "00020820", True),
                                    ("Counter", "FCFB3D2A", False)]:
        header = [line for line in full[name].splitlines() if line.startswith("Attribute")]
        assert header[0] == f'Attribute VB_Name = "{name}"'
        assert header[1].startswith(f'Attribute VB_Base = "0{{{base}-')
        assert f"Attribute VB_PredeclaredId = {predeclared}" in header
        assert len(header) == 8


def test_project_stream_and_protection_fields(project_bin: Path) -> None:
    ole = olefile.OleFileIO(str(project_bin))
    project = ole.openstream("PROJECT").read()
    lines = project.decode("cp1252").split("\r\n")
    assert lines[1:7] == ["Document=ThisWorkbook/&H00000000", "Document=Sheet1/&H00000000",
                          "Document=Sheet2/&H00000000", "Module=Buttons", "Class=Counter", "Module=Generated"]
    props = project_properties(project)
    assert props["Name"] == '"VBAProject"' and props["VersionCompatible32"] == '"393222000"'
    assert "[Host Extender Info]" in lines and "[Workspace]" in lines and "Generated=0, 0, 0, 0, C" in lines
    key = sum(props["ID"].strip('"').encode()) & 0xFF
    assert decrypt(props["CMG"].strip('"')) == (2, key, bytes(4))  # nothing protected
    assert decrypt(props["DPB"].strip('"')) == (2, key, b"\0")  # no password
    assert decrypt(props["GC"].strip('"')) == (2, key, b"\xff")  # visible
    wm = ole.openstream("PROJECTwm").read()
    assert wm.startswith(b"ThisWorkbook\0" + "ThisWorkbook".encode("utf-16-le") + b"\0\0") and wm.endswith(b"\0\0\0\0")


def test_encryption_matches_spec_example_and_real_files() -> None:
    # MS-OVBA §2.3.1.15 example: no protection for project {917DED54-...}, seed 0x07.
    assert _encrypt("{917DED54-440B-4FD1-A5C1-74ACF261E600}", bytes(4), 7) == "0705D8E3D8EDDBF1DBF1DBF1DBF1"
    for name in REAL_PROJECTS:
        props = project_properties(olefile.OleFileIO(real_bin(name)).openstream("PROJECT").read())
        key = sum(props["ID"].strip('"').encode()) & 0xFF
        assert decrypt(props["CMG"].strip('"')) == (2, key, bytes(4)), name


def test_dir_records_follow_real_excel(tmp_path: Path) -> None:
    """Same module list and references as SimpleMacro.xlsm: the record id sequence must match."""
    real = dir_records(decompress(olefile.OleFileIO(real_bin("SimpleMacro.xlsm")).openstream("VBA/dir").read()))
    names = [p.decode() for rid, p in real if rid == 0x19]
    modules = [VbaModule(n, "", "standard" if n.startswith("Module") else "document") for n in names]
    assert names == ["Module1", "ThisWorkbook", "Sheet1", "Sheet2", "Sheet3"]
    ours_bin = build_vba_project(modules, references=(STDOLE, OFFICE))
    ours = dir_records(decompress(olefile.OleFileIO(ours_bin).openstream("VBA/dir").read()))
    assert [rid for rid, _ in ours] == [rid for rid, _ in real]
    fixed_size = {0x01, 0x02, 0x14, 0x03, 0x07, 0x08, 0x09, 0x0F, 0x13, 0x31, 0x1E, 0x2C, 0x21, 0x22, 0x2B, 0x10}
    for (rid, mine), (_, theirs) in zip(ours, real, strict=True):
        if rid in fixed_size:
            assert len(mine) == len(theirs), hex(rid)
        if rid in {0x02, 0x14, 0x03, 0x04, 0x16, 0x3E, 0x19, 0x47, 0x1A, 0x32, 0x0F}:
            assert mine == theirs, hex(rid)  # LCIDs, codepage, names, module count
    stdole = [p for rid, p in ours if rid == 0x0D][0]
    assert stdole[4:-6].decode() == STDOLE.libid and struct.unpack("<I", stdole[:4])[0] == len(STDOLE.libid)
    assert all(p == bytes(4) for rid, p in ours if rid == 0x31)  # MODULEOFFSET 0: source only


def test_project_reference_record_layout() -> None:
    """REFERENCEPROJECT (§2.3.4.2.2.6) as xlwings' quickstart.xlsm carries it for the add-in.

    quickstart.xlsm: name "xlwings", absolute
    *\\CC:\\Users\\felix\\dev\\xlwings\\xlwings\\addin\\xlwings.xlam, relative *\\Caddin\\xlwings.xlam.
    """
    ref = xlwings_addin_reference(r"C:\Users\clerk\AppData\Roaming\Microsoft\Excel\XLSTART\xlwings.xlam")
    assert ref == VbaReference("xlwings", r"*\CC:\Users\clerk\AppData\Roaming\Microsoft\Excel\XLSTART\xlwings.xlam",
                               "project", r"*\Cxlwings.xlam")
    data = build_vba_project([VbaModule("ThisWorkbook", "", "document")], references=(STDOLE, ref))
    records = dir_records(decompress(olefile.OleFileIO(data).openstream("VBA/dir").read()))
    ids = [rid for rid, _ in records]
    at = ids.index(0x0E)
    assert ids[at - 2 : at] == [0x16, 0x3E] and records[at - 2][1] == b"xlwings"
    payload = records[at][1]
    n_abs = struct.unpack_from("<I", payload)[0]
    absolute = payload[4 : 4 + n_abs].decode()
    n_rel = struct.unpack_from("<I", payload, 4 + n_abs)[0]
    relative = payload[8 + n_abs : 8 + n_abs + n_rel].decode()
    assert (absolute, relative) == (ref.libid, ref.libid_relative)
    assert payload[8 + n_abs + n_rel :] == bytes(6)  # MajorVersion, MinorVersion
    ole = olefile.OleFileIO(data)
    olevba.VBA_Project(ole, "", "PROJECT", "VBA/dir", relaxed=False).parse_project_stream()


def test_chinese_source_needs_codepage_936() -> None:
    modules = [VbaModule("ThisWorkbook", "", "document"),
               VbaModule("Notice", 'Sub Warn()\n    MsgBox "投诉已逾期，请处理"\nEnd Sub\n')]
    with pytest.raises(ValueError, match="936"):
        build_vba_project(modules)
    data = build_vba_project(modules, codepage=936)
    assert read_vba_modules(data)["Notice"] == modules[1].code
    raw = decompress(olefile.OleFileIO(data).openstream("VBA/Notice").read())
    assert "投诉已逾期".encode("gbk") in raw


@pytest.mark.parametrize(("modules", "message"), [
    ([VbaModule("Module1", "")], "workbook codeName"),
    ([VbaModule("ThisWorkbook", "", "document"), VbaModule("thisworkbook", "")], "duplicate"),
    ([VbaModule("ThisWorkbook", "", "document"), VbaModule("1st", "")], "identifier"),
    ([VbaModule("ThisWorkbook", "", "document"), VbaModule("Dir", "")], "reserved"),
    ([VbaModule("ThisWorkbook", 'Attribute VB_Name = "X"\n', "document")], "Attribute"),
])
def test_rejects_projects_excel_would_not_load(modules: list[VbaModule], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_vba_project(modules)


# --- inside an .xlsm ---------------------------------------------------------------------


def make_xlsm(directory: Path, vba_bin: Path) -> Path:
    path = directory / "buttons.xlsm"
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_vba_name("ThisWorkbook")
    for codename in ("Sheet1", "Sheet2"):
        workbook.add_worksheet().set_vba_name(codename)
    workbook.worksheets()[0].insert_button("B2", {"macro": "RefreshOverdue", "caption": "刷新逾期"})
    workbook.add_vba_project(str(vba_bin))
    workbook.close()
    return path


def test_xlsm_embeds_project(project_bin: Path, tmp_path: Path) -> None:
    xlsm = make_xlsm(tmp_path, project_bin)
    with zipfile.ZipFile(xlsm) as z:
        assert z.read("xl/vbaProject.bin") == project_bin.read_bytes()
        types = z.read("[Content_Types].xml").decode()
        assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
        assert "application/vnd.ms-office.vbaProject" in types
        assert 'codeName="ThisWorkbook"' in z.read("xl/workbook.xml").decode()
        assert "[0]!RefreshOverdue" in z.read("xl/drawings/vmlDrawing1.vml").decode()
    theirs = olevba_modules(xlsm)
    assert {name: olevba.filter_vba(code) for name, code in theirs.items()} == {
        m.name: m.code.rstrip("\n") for m in MODULES
    }


def _soffice(profile: Path, fmt: str, source: Path, outdir: Path) -> Path:
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", fmt,
         "--outdir", str(outdir), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    target = outdir / f"{source.stem}.{fmt}"
    # soffice exits 0 even when it cannot load the source; the output file is the proof.
    assert proc.returncode == 0 and "Error" not in proc.stdout + proc.stderr and target.exists(), proc
    return target


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_loads_the_xlsm_and_its_vba(project_bin: Path, tmp_path: Path) -> None:
    xlsm = make_xlsm(tmp_path, project_bin)
    profile = tmp_path / "lo-profile"
    _soffice(profile, "xlsx", xlsm, tmp_path / "xlsx")
    # LibreOffice imports VBA source into a Basic library; an .ods shows what it read.
    with zipfile.ZipFile(_soffice(profile, "ods", xlsm, tmp_path / "ods")) as ods:
        library = ods.read("Basic/VBAProject/script-lb.xml").decode()
        for m in MODULES:
            assert f'library:name="{m.name}"' in library
        module = ods.read("Basic/VBAProject/Buttons.xml").decode()
        assert 'script:moduleType="normal"' in module and "Sub RefreshOverdue()" in module
        assert 'script:moduleType="document"' in ods.read("Basic/VBAProject/ThisWorkbook.xml").decode()
        assert 'script:moduleType="class"' in ods.read("Basic/VBAProject/Counter.xml").decode()
        assert "VBAProject.Buttons.RefreshOverdue" in ods.read("content.xml").decode()

