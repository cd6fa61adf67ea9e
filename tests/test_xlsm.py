"""The macro-enabled templates, checked with readers that are not ours.

olefile and oletools read the VBA project back; the package XML is read with lxml;
the installed xlwings is the reference for its own VBA and config keys; LibreOffice
loads the workbook and imports its VBA. None of this runs Excel: whether Excel
compiles the project and a click reaches Python is what scripts/excel_smoke.py checks
on a PC that has it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import olefile
import pytest
from lxml import etree
from oletools import olevba
from typer.testing import CliRunner

from xlcomplaints.cli import app
from xlcomplaints.excel import entry
from xlcomplaints.flows import refresh_flow, validate_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.problems import PROBLEMS
from xlcomplaints.templates import macro
from xlcomplaints.templates.build import TEMPLATES
from xlcomplaints.templates.vbaproject import XLWINGS_ADDIN_PATH, decompress
from xlcomplaints.workbook.file import FileWorkbook

VBA_DIR = Path(macro.__file__).resolve().parent.parent / "excel" / "vba"
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "workbook_templates"
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "x": "urn:schemas-microsoft-com:office:excel",
}
NOW = datetime(2026, 11, 20, 10, 0)


def sample_rows(n: int) -> list[list[Any]]:
    rows = []
    for i in range(n):
        received = datetime(2026, 11, 2, 9, 0) + timedelta(hours=7 * i)
        values = {
            "received_at": received,
            "channel": "电话",
            "customer": f"客户{i}",
            "category": "服务态度",
            "severity": ["一般", "重要", "重大"][i % 3],
            "validity": "有效",
            "content": f"内容{i}",
        }
        rows.append([values.get(c.key) for c in B.REGISTER.columns])
    return rows


@pytest.fixture(scope="module", params=["zh", "en"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsm") / f"branch-{request.param}.xlsm"
    macro.build_branch_xlsm(path, lang=request.param, rows={"register": sample_rows(12)})
    return path


def modules_by_oletools(path: Path) -> dict[str, str]:
    parser = olevba.VBA_Parser(str(path))
    try:
        return {
            name.rsplit(".", 1)[0]: olevba.filter_vba(code).replace("\r\n", "\n")
            for _, _, name, code in parser.extract_macros()
        }
    finally:
        parser.close()


def project_stream(path: Path) -> dict[str, list[str]]:
    """PROJECT stream (MS-OVBA §2.3.1) read with olefile: kind → module names."""
    with zipfile.ZipFile(path) as z, olefile.OleFileIO(z.read("xl/vbaProject.bin")) as ole:
        text = ole.openstream("PROJECT").read().decode("latin-1")
    out: dict[str, list[str]] = {}
    for line in text.split("\r\n\r\n")[0].split("\r\n"):
        key, _, value = line.partition("=")
        if key in ("Document", "Module", "Class"):
            out.setdefault(key, []).append(value.split("/")[0])
    return out


def xml(path: Path, part: str) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(part))


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → worksheet part, through workbook.xml and its relationships."""
    wb = xml(path, "xl/workbook.xml")
    rels = {r.get("Id"): r.get("Target") for r in xml(path, "xl/_rels/workbook.xml.rels")}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    return {s.get("name"): "xl/" + rels[s.get(rid)] for s in wb.iterfind("m:sheets/m:sheet", NS)}


def button_macros(path: Path) -> dict[str, list[str]]:
    """Sheet name → the macros of its form buttons, from the VML each sheet points to."""
    out: dict[str, list[str]] = {}
    with zipfile.ZipFile(path) as z:
        for sheet, part in sheet_parts(path).items():
            rels_name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
            if rels_name not in z.namelist():
                continue
            for rel in etree.fromstring(z.read(rels_name)):
                if rel.get("Type", "").endswith("/vmlDrawing"):
                    vml = etree.fromstring(z.read("xl/" + rel.get("Target").replace("../", "")))
                    for data in vml.iter("{urn:schemas-microsoft-com:office:excel}ClientData"):
                        if data.get("ObjectType") == "Button":
                            out.setdefault(sheet, []).append(
                                data.findtext("x:FmlaMacro", namespaces=NS)
                            )
    return out


# --- the VBA project -----------------------------------------------------------------------


def test_oletools_lists_every_module_with_the_source_we_wrote(built: Path) -> None:
    theirs = modules_by_oletools(built)
    sheet_code = (VBA_DIR / "Worksheet.bas").read_text().rstrip("\n")
    assert theirs["xlcomplaints"] == (VBA_DIR / "xlcomplaints.bas").read_text().rstrip("\n")
    assert theirs["ThisWorkbook"] == (VBA_DIR / "ThisWorkbook.bas").read_text().rstrip("\n")
    sheets = [n for n in theirs if n not in ("xlcomplaints", "ThisWorkbook")]
    assert sheets and all(theirs[n] == sheet_code for n in sheets)
    assert not any(n == "xlwings" for n in theirs)  # the add-in route embeds nothing of xlwings


def test_vba_sources_are_ascii_and_call_real_entry_points() -> None:
    for bas in VBA_DIR.glob("*.bas"):
        bas.read_text(encoding="ascii")  # raises on anything else
    source = (VBA_DIR / "xlcomplaints.bas").read_text()
    calls = re.findall(r'RunPython "import xlcomplaints\.excel\.entry as e; e\.(\w+)\(\)"', source)
    assert len(calls) == 5 == len(re.findall(r"^\s+RunPython ", source, re.M))
    assert all(callable(getattr(entry, name)) for name in calls)


def test_every_button_runs_a_sub_that_exists(built: Path) -> None:
    code = modules_by_oletools(built)["xlcomplaints"]
    subs = set(re.findall(r"^Public Sub (\w+)\(\)", code, re.M))
    buttons = button_macros(built)
    lang = "zh" if "投诉登记" in buttons else "en"
    register, summary = B.REGISTER.title(lang), B.SUMMARY.title(lang)
    assert len(buttons[register]) == 5 and len(buttons[summary]) == 4  # Print form: the Register's alone
    assert buttons[B.OVERDUE.title(lang)] == ["[0]!RefreshOverdue"]
    assert buttons[PROBLEMS.title(lang)] == ["[0]!ValidateWorkbook"]
    for macros in buttons.values():
        for m in macros:
            assert m.startswith("[0]!") and m[4:] in subs, m
    assert subs == {m[4:] for ms in buttons.values() for m in ms}


def test_codenames_match_document_modules(built: Path) -> None:
    wb = xml(built, "xl/workbook.xml")
    workbook_code = wb.find("m:workbookPr", NS).get("codeName")
    sheet_codes = [
        xml(built, part).find("m:sheetPr", NS).get("codeName")
        for part in sheet_parts(built).values()
    ]
    project = project_stream(built)
    assert sorted(project["Document"]) == sorted([workbook_code, *sheet_codes])
    assert project["Module"] == ["xlcomplaints"] and "Class" not in project
    register = xml(built, sheet_parts(built)[next(iter(sheet_parts(built)))]).find("m:sheetPr", NS)
    assert register.get("codeName") == "xlcRegister"


def test_content_types_are_macro_enabled(built: Path) -> None:
    types = xml(built, "[Content_Types].xml")
    overrides = {o.get("PartName"): o.get("ContentType") for o in types}
    defaults = {d.get("Extension"): d.get("ContentType") for d in types}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert "application/vnd.ms-office.vbaProject" in (
        defaults.get("bin"),
        overrides.get("/xl/vbaProject.bin"),
    )
    assert defaults["vml"] == "application/vnd.openxmlformats-officedocument.vmlDrawing"


def _references(path: Path) -> list[tuple[str, int, bytes]]:
    with zipfile.ZipFile(path) as z, olefile.OleFileIO(z.read("xl/vbaProject.bin")) as ole:
        data = decompress(ole.openstream("VBA/dir").read())
    out, name, pos = [], "", 0
    while pos < len(data):
        rid, size = (
            int.from_bytes(data[pos : pos + 2], "little"),
            int.from_bytes(data[pos + 2 : pos + 6], "little"),
        )
        size = 6 if rid == 0x09 else size
        payload = data[pos + 6 : pos + 6 + size]
        if rid == 0x16:
            name = payload.decode("latin-1")
        elif rid in (0x0D, 0x0E):
            out.append((name, rid, payload))
        pos += 6 + size
    return out


def test_project_references_the_xlwings_addin(built: Path) -> None:
    refs = {name: (rid, payload) for name, rid, payload in _references(built)}
    assert set(refs) == {"stdole", "Office", "xlwings"}
    rid, payload = refs["xlwings"]
    assert rid == 0x0E  # REFERENCEPROJECT, as in xlwings' own quickstart.xlsm
    assert ("*\\C" + XLWINGS_ADDIN_PATH).encode() in payload and b"*\\Cxlwings.xlam" in payload


# --- the workbook still works headless, and keeps its macro parts ----------------------------


def test_headless_refresh_keeps_vba_and_buttons_byte_for_byte(built: Path, tmp_path: Path) -> None:
    path = tmp_path / built.name
    shutil.copy(built, path)
    result = refresh_flow(FileWorkbook(path), now=NOW, lang="zh")
    assert result.changed and result.plan is not None and result.plan.complaints == 12
    summary = sheet_parts(path)[B.SUMMARY.title("en" if "-en" in built.name else "zh")]
    # the Summary's workload chart: its relationship, and its parts' content types, added to what was there
    chart = {"[Content_Types].xml", summary.replace("worksheets/", "worksheets/_rels/") + ".rels"}
    with zipfile.ZipFile(built) as before, zipfile.ZipFile(path) as after:
        kept = [
            n
            for n in before.namelist()
            if n == "xl/vbaProject.bin"
            or n.startswith(("xl/drawings/", "xl/ctrlProps/", "xl/comments"))
            or n == "[Content_Types].xml"
            or "_rels/" in n
        ]
        assert "xl/vbaProject.bin" in kept and any(n.endswith(".vml") for n in kept)
        for name in kept:
            if name in chart:
                old, new = etree.fromstring(before.read(name)), etree.fromstring(after.read(name))
                assert [etree.tostring(e) for e in new][: len(old)] == [etree.tostring(e) for e in old], name
                assert all("chart" in str(e.get("ContentType")) or "drawing" in str(e.get("ContentType"))
                           or str(e.get("Type")).endswith("/drawing") for e in new[len(old):]), name
            else:
                assert after.read(name) == before.read(name), name
        changed = {n for n in before.namelist() if before.read(n) != after.read(n)} - chart
        # the sheets, and workbook.xml for the hidden filter names that follow the rebuilt sheets' autofilters
        assert changed and all(n.startswith("xl/worksheets/sheet") or n == "xl/workbook.xml" for n in changed)
        assert {n for n in after.namelist() if n not in before.namelist()} == {
            "xl/charts/chart1.xml", "xl/drawings/drawing1.xml", "xl/drawings/_rels/drawing1.xml.rels"}
    # The rewritten sheets still point at their buttons.
    for part in sheet_parts(path).values():
        with zipfile.ZipFile(built) as before:
            had = etree.fromstring(before.read(part)).find("m:legacyDrawing", NS) is not None
        assert (xml(path, part).find("m:legacyDrawing", NS) is not None) == had
    assert button_macros(path) == button_macros(built)
    assert not [
        p for p in validate_flow(FileWorkbook(path), now=NOW).problems if p.code.startswith("file.")
    ]


def test_xlwings_conf_sheet_uses_keys_xlwings_reads(built: Path) -> None:
    """The keys must be ones the installed xlwings add-in asks GetConfig for, from A1 down."""
    xlwings = pytest.importorskip("xlwings")
    main_bas = (Path(xlwings.__file__).parent / "addin" / "Main.bas").read_text(encoding="cp1252")
    asked = set(re.findall(r'GetConfig\("([^"]+)"', main_bas))
    parts = sheet_parts(built)
    assert macro.CONF_SHEET in parts and macro.CONF_SHEET.lstrip("_") == "xlwings.conf"
    with zipfile.ZipFile(built) as z:
        strings = [
            t.text for t in etree.fromstring(z.read("xl/sharedStrings.xml")).iter(f"{{{NS['m']}}}t")
        ]
    sheet = xml(built, parts[macro.CONF_SHEET])
    col_a = {}
    for c in sheet.iter(f"{{{NS['m']}}}c"):
        ref = c.get("r")
        if ref.startswith("A") and c.get("t") == "s":
            col_a[int(ref[1:])] = strings[int(c.findtext("m:v", namespaces=NS))]
    keys = [col_a[r] for r in range(1, 7)]
    assert 7 not in col_a  # a blank row ends what xlwings reads
    assert {k.upper() for k in keys} <= asked
    assert {"INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH"} <= {k.upper() for k in keys}


def test_build_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsm", tmp_path / "b.xlsm"
    macro.build_branch_xlsm(a)
    macro.build_branch_xlsm(b)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("name", ["branch-zh.xlsm", "branch-en.xlsm"])
def test_committed_xlsm_templates_match_their_builder(name: str, tmp_path: Path) -> None:
    assert name in TEMPLATES
    fresh = tmp_path / name
    TEMPLATES[name](fresh)
    committed = TEMPLATE_DIR / name
    assert committed.exists(), "run python scripts/build_templates.py"
    assert committed.read_bytes() == fresh.read_bytes(), "run python scripts/build_templates.py"


# --- standalone --------------------------------------------------------------------------


def test_standalone_embeds_the_installed_xlwings_vba(built: Path, tmp_path: Path) -> None:
    xlwings = pytest.importorskip("xlwings")
    out = tmp_path / "standalone.xlsm"
    result = CliRunner().invoke(app, ["excel", "standalone", str(built), str(out)])
    assert result.exit_code == 0, result.output
    assert f"xlwings=={xlwings.__version__}" in result.output
    theirs = modules_by_oletools(out)
    shipped = (
        (Path(xlwings.__file__).parent / "xlwings.bas")
        .read_text(encoding="cp1252")
        .replace("\r\n", "\n")
    )
    assert theirs["xlwings"].rstrip("\n") == shipped.split("\n", 1)[1].rstrip(
        "\n"
    )  # less Attribute VB_Name
    assert f'"xlwings64-{xlwings.__version__}.dll"' in theirs["xlwings"]
    assert "Public Function RunPython" in theirs["xlwings"]
    assert "Dictionary" in project_stream(out)["Class"]
    before = modules_by_oletools(built)
    assert {k: v for k, v in theirs.items() if k in before} == before
    assert {name for name, _, _ in _references(out)} == {"stdole", "Office"}  # no add-in reference
    with zipfile.ZipFile(built) as a, zipfile.ZipFile(out) as b:
        assert a.namelist() == b.namelist()
        assert [n for n in a.namelist() if a.read(n) != b.read(n)] == ["xl/vbaProject.bin"]
    again = CliRunner().invoke(app, ["excel", "standalone", str(built), str(out)])
    assert again.exit_code == 2 and "--force" in again.output


def test_standalone_refuses_without_xlwings(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "xlwings", None)  # import xlwings → ImportError
    out = tmp_path / "x.xlsm"
    result = CliRunner().invoke(app, ["excel", "standalone", str(built), str(out)])
    assert result.exit_code == 2 and "pip install xlcomplaints[excel]" in result.output
    assert not out.exists()


def test_standalone_refuses_a_workbook_without_vba(tmp_path: Path) -> None:
    pytest.importorskip("xlwings")
    from xlcomplaints.templates.build import build_branch_workbook

    plain = tmp_path / "plain.xlsx"
    build_branch_workbook(plain)
    result = CliRunner().invoke(app, ["excel", "standalone", str(plain), str(tmp_path / "o.xlsm")])
    assert result.exit_code == 2 and "没有 VBA 工程；请先用 xlcomplaints excel new" in result.output
    result = CliRunner().invoke(app, ["excel", "standalone", str(plain), str(tmp_path / "o.xlsm"), "--lang", "en"])
    assert result.exit_code == 2 and "has no VBA project; make the workbook with buttons with" in result.output


def test_excel_new_writes_a_branch_workbook(tmp_path: Path) -> None:
    out = tmp_path / "bj01.xlsm"
    result = CliRunner().invoke(
        app, ["excel", "new", str(out), "--branch-code", "BJ01", "--branch-name", "北京一店"]
    )
    assert result.exit_code == 0, result.output
    read = validate_flow(FileWorkbook(out), now=NOW)
    assert not [p for p in read.problems if p.level == "error"]
    assert button_macros(out)["投诉登记"] == [f"[0]!{b.macro}" for b in macro.REGISTER_BUTTONS]
    bad = CliRunner().invoke(app, ["excel", "new", str(tmp_path / "x.xlsx"), "--branch-code", "B"])
    assert bad.exit_code == 2


# --- LibreOffice, an independent engine ------------------------------------------------------


def _soffice(profile: Path, fmt: str, source: Path, outdir: Path) -> Path:
    proc = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    target = outdir / f"{source.stem}.{fmt}"
    assert proc.returncode == 0 and "Error" not in proc.stdout + proc.stderr and target.exists(), (
        proc
    )
    return target


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_opens_the_xlsm_with_its_vba_and_buttons(built: Path, tmp_path: Path) -> None:
    profile = tmp_path / "lo-profile"
    _soffice(profile, "xlsx", built, tmp_path / "xlsx")
    with zipfile.ZipFile(_soffice(profile, "ods", built, tmp_path / "ods")) as ods:
        library = ods.read("Basic/VBAProject/script-lb.xml").decode()
        for name in modules_by_oletools(built):
            assert f'library:name="{name}"' in library
        module = ods.read("Basic/VBAProject/xlcomplaints.xml").decode()
        assert 'script:moduleType="normal"' in module and "Sub RefreshOverdue()" in module
        content = ods.read("content.xml").decode()
        for b in macro.REGISTER_BUTTONS:
            assert f"VBAProject.xlcomplaints.{b.macro}" in content


def test_excel_new_standalone_says_which_xlwings_it_embeds(tmp_path: Path) -> None:
    """Like `excel standalone`: the PCs using the workbook need that very xlwings version."""
    xlwings = pytest.importorskip("xlwings")
    out = tmp_path / "bj01.xlsm"
    result = CliRunner().invoke(app, ["excel", "new", str(out), "--branch-code", "BJ01", "--standalone", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert f"xlwings {xlwings.__version__}'s VBA embedded" in result.output
    assert f"pip install xlwings=={xlwings.__version__}" in result.output
    assert f'"xlwings64-{xlwings.__version__}.dll"' in modules_by_oletools(out)["xlwings"]


# --- the add-in reference ------------------------------------------------------------------


def _dir_records_of(vba_project: bytes) -> list[tuple[int, bytes]]:
    """dir stream records (MS-OVBA §2.3.4.2), read with olefile and walked here, not by our reader."""
    with olefile.OleFileIO(vba_project) as ole:
        data = decompress(ole.openstream("VBA/dir").read())
    out, pos = [], 0
    while pos + 6 <= len(data):
        rid = int.from_bytes(data[pos : pos + 2], "little")
        size = 6 if rid == 0x09 else int.from_bytes(data[pos + 2 : pos + 6], "little")
        out.append((rid, data[pos + 6 : pos + 6 + size]))
        pos += 6 + size
    return out


def test_the_addin_reference_records_the_installed_addins_project_version(built: Path) -> None:
    """Excel records a referenced project's PROJECTVERSION (MajorVersion u32, MinorVersion u16) in
    REFERENCEPROJECT (§2.3.4.2.2.6); 0.0 is what no Excel writes."""
    xlwings = pytest.importorskip("xlwings")
    with zipfile.ZipFile(Path(xlwings.__file__).parent / "addin" / "xlwings.xlam") as z:
        addin = dict(_dir_records_of(z.read("xl/vbaProject.bin")))[0x09]
    major, minor = int.from_bytes(addin[:4], "little"), int.from_bytes(addin[4:6], "little")
    assert (major, minor) != (0, 0)
    with zipfile.ZipFile(built) as z:
        refs = [p for rid, p in _dir_records_of(z.read("xl/vbaProject.bin")) if rid == 0x0E]
    assert len(refs) == 1
    ref = refs[0]
    n = int.from_bytes(ref[:4], "little")
    m = int.from_bytes(ref[4 + n : 8 + n], "little")
    assert ref[4:4 + n].endswith(b"xlwings.xlam")
    tail = ref[8 + n + m :]
    assert (int.from_bytes(tail[:4], "little"), int.from_bytes(tail[4:6], "little")) == (major, minor)
