"""The Summary's native workload chart (issue 20): refresh draws a bar chart of each handler's open and
overdue-now complaints over the table per handler, on real files, read back from the chart part and
the cells; the office's own charts stay; LibreOffice shows it.

The chart is found as Excel finds it: the Summary's relationships → its drawing → the anchor named
``B.SUMMARY_CHART_KEY`` → the chart part (``c:f`` references, ``c:strCache`` / ``c:numCache``).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openpyxl.chart import BarChart as OpenpyxlBar
from openpyxl.chart import Reference

import xlcomplaints.api as xc
from tests.conftest import HAS_SOFFICE, soffice_convert
from tests.samples import sheet_rows, write_branch
from tests.test_by_handler import bj01
from tests.test_excel_opens_clean import VALIDATOR
from xlcomplaints.core.models import BranchData, Settings
from xlcomplaints.spec import branch as B
from xlcomplaints.templates import macro
from xlcomplaints.workbook.package import XlsxPackage

NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
OCT = datetime(2026, 10, 31, 18, 0)
REF = re.compile(r"^'(?P<sheet>(?:[^']|'')+)'!\$(?P<c1>[A-Z]+)\$(?P<r1>\d+)(?::\$(?P<c2>[A-Z]+)\$(?P<r2>\d+))?$")


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    folder, base = posixpath.split(part)
    name = posixpath.join(folder, "_rels", base + ".rels")
    if name not in z.namelist():
        return {}
    def target(t: str) -> str:  # relative to the part, or absolute in the package
        return t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join(folder, t))
    return {r.get("Id"): (r.get("Type").rsplit("/", 1)[-1], target(r.get("Target"))) for r in etree.fromstring(z.read(name))}


def _sheet_part(z: zipfile.ZipFile, title: str) -> str:
    wb = etree.fromstring(z.read("xl/workbook.xml"))
    rid = next(s.get(f"{{{NS['r']}}}id") for s in wb.iter("{*}sheet") if s.get("name") == title)
    return _rels(z, "xl/workbook.xml")[rid][1]


def _drawing(z: zipfile.ZipFile, title: str) -> str | None:
    return next((t for kind, t in _rels(z, _sheet_part(z, title)).values() if kind == "drawing"), None)


def our_chart(path: Path, title: str = "汇总") -> tuple[etree._Element, etree._Element] | None:
    """Our anchor in the sheet's drawing and the chart part it shows, or None."""
    with zipfile.ZipFile(path) as z:
        drawing = _drawing(z, title)
        if drawing is None:
            return None
        for anchor in etree.fromstring(z.read(drawing)):
            named = anchor.find(".//xdr:cNvPr", NS)
            if named is not None and named.get("name") == B.SUMMARY_CHART_KEY:
                rid = anchor.find(".//c:chart", NS).get(f"{{{NS['r']}}}id")
                return anchor, etree.fromstring(z.read(_rels(z, drawing)[rid][1]))
    return None


def _cells(path: Path, ref: str) -> list[object]:
    m = REF.match(ref)
    assert m, ref
    ws = openpyxl.load_workbook(path, data_only=True)[m["sheet"].replace("''", "'")]
    cells = ws[f"{m['c1']}{m['r1']}:{m['c2'] or m['c1']}{m['r2'] or m['r1']}"]
    return [row[0].value for row in (cells if isinstance(cells, tuple) else ((cells,),))]


def series(chart: etree._Element) -> list[dict[str, object]]:
    """Each series: its name, categories and values as referenced and as cached."""
    out = []
    for ser in chart.iterfind(".//c:ser", NS):
        def cached(el: etree._Element) -> list[str]:
            return [v.text for v in el.iterfind(".//c:pt/c:v", NS)]
        tx, cat, val = (ser.find(f"c:{k}", NS) for k in ("tx", "cat", "val"))
        out.append({"name_ref": tx.findtext(".//c:f", namespaces=NS), "name": cached(tx),
                    "cat_ref": cat.findtext(".//c:f", namespaces=NS), "cat": cached(cat),
                    "val_ref": val.findtext(".//c:f", namespaces=NS), "val": [float(v) for v in cached(val)]})
    return out


def validator_ok(path: Path) -> None:
    check = subprocess.run([sys.executable, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout[-2000:]


def digest(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}


def test_refresh_draws_the_workload_chart_from_the_table_per_handler(tmp_path: Path) -> None:
    """October as of the 31st: 李四 1 open, 1 overdue now; 王五 and 张三 none. The chart's categories and
    series refer to the table's cells (E4:E6, F and G, names in row 3) and cache what they hold, in the
    table's order; it sits in column A below the Summary's lines; the file passes the OOXML checker;
    refreshing again at the same time changes no byte."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    xc.refresh(path, now=OCT)
    found = our_chart(path)
    assert found is not None
    anchor, chart = found
    assert chart.findtext(".//c:title//{*}t", namespaces=NS) == B.SUMMARY_CHART_TITLE[0]
    assert chart.find(".//c:barDir", NS).get("val") == "bar"
    drawn = series(chart)
    assert [s["name_ref"] for s in drawn] == ["'汇总'!$F$3", "'汇总'!$G$3"]
    assert [s["name"] for s in drawn] == [["未结案件数"], ["当前逾期件数"]]
    assert {s["cat_ref"] for s in drawn} == {"'汇总'!$E$4:$E$6"}
    assert [s["val_ref"] for s in drawn] == ["'汇总'!$F$4:$F$6", "'汇总'!$G$4:$G$6"]
    assert drawn[0]["cat"] == ["李四", "王五", "张三"]
    assert (drawn[0]["val"], drawn[1]["val"]) == ([1, 0, 0], [1, 0, 0])  # by hand: 002 is 李四's, open and overdue
    for s in drawn:  # what the chart caches is what the cells hold
        assert _cells(path, str(s["cat_ref"])) == s["cat"]
        assert _cells(path, str(s["val_ref"])) == s["val"]
        assert _cells(path, str(s["name_ref"])) == s["name"]
    lines = len(B.SUMMARY_LINES) + 1  # and the checksum
    assert anchor.findtext("xdr:from/xdr:col", namespaces=NS) == "0"
    assert anchor.findtext("xdr:from/xdr:row", namespaces=NS) == str(1 + lines + 1)  # 0-based: one blank row
    summary = [list(r) for r in openpyxl.load_workbook(path, data_only=True)["汇总"].iter_rows(values_only=True)]
    assert all(not any(v is not None for v in row[:4]) for row in summary[1 + lines:])  # nothing under the lines
    validator_ok(path)
    before = digest(path)
    assert xc.refresh(path, now=OCT).changed is False
    assert digest(path) == before


def test_the_chart_follows_the_handlers_and_goes_when_there_are_none(tmp_path: Path) -> None:
    """November: only 李四 and 王五 (王五's 004 falls due on 2 Nov) → two categories, the chart shorter;
    December: no handler has anything in the month → our chart, its drawing and their relationships
    are gone, and the sheet says nothing of a drawing; the package stays valid throughout."""
    data = bj01()
    path = write_branch(tmp_path / "BJ01.xlsx", data)
    xc.refresh(path, now=OCT)
    tall = int(our_chart(path)[0].find("xdr:ext", NS).get("cy"))  # type: ignore[index]
    xc.refresh(path, now=datetime(2026, 11, 20, 9, 0))
    anchor, chart = our_chart(path)  # type: ignore[misc]
    drawn = series(chart)
    assert drawn[0]["cat_ref"] == "'汇总'!$E$4:$E$5" and drawn[0]["cat"] == _cells(path, "'汇总'!$E$4:$E$5")
    assert set(drawn[0]["cat"]) == {"李四", "王五"}  # type: ignore[arg-type]
    assert int(anchor.find("xdr:ext", NS).get("cy")) < tall
    validator_ok(path)
    closed = replace(data, complaints=tuple(c for c in data.complaints if c.no != "BJ01-002"))
    path2 = write_branch(tmp_path / "closed.xlsx", closed)
    xc.refresh(path2, now=OCT)
    assert our_chart(path2) is not None
    xc.refresh(path2, now=datetime(2026, 12, 15, 9, 0))
    assert our_chart(path2) is None
    with zipfile.ZipFile(path2) as z:
        assert not [n for n in z.namelist() if n.startswith(("xl/charts/", "xl/drawings/drawing"))]
        assert b"<drawing" not in z.read(_sheet_part(z, "汇总"))
        assert b"chart" not in z.read("[Content_Types].xml")
    validator_ok(path2)


def test_a_workbook_without_complaints_gets_no_chart(tmp_path: Path) -> None:
    path = write_branch(tmp_path / "empty.xlsx", BranchData(settings=Settings(branch_code="SH02")))
    xc.refresh(path, now=OCT)
    assert our_chart(path) is None
    with zipfile.ZipFile(path) as z:
        assert not [n for n in z.namelist() if n.startswith("xl/charts/")]


def test_forty_handlers_are_all_on_the_chart(tmp_path: Path) -> None:
    """No handler is left out however many there are: the chart grows with them."""
    base = bj01().complaints[1]
    complaints = tuple(replace(base, no=f"BJ01-{i:03}", handler=f"处理人{i:02}", row=None,
                               received_at=datetime(2026, 10, 1, 9, 0) + timedelta(hours=i)) for i in range(40))
    path = write_branch(tmp_path / "many.xlsx", BranchData(settings=bj01().settings, complaints=complaints))
    xc.refresh(path, now=OCT)
    anchor, chart = our_chart(path)  # type: ignore[misc]
    drawn = series(chart)
    assert drawn[0]["cat_ref"] == "'汇总'!$E$4:$E$43" and len(drawn[0]["cat"]) == 40  # type: ignore[arg-type]
    assert sorted(drawn[0]["cat"]) == [f"处理人{i:02}" for i in range(40)]  # type: ignore[type-var]
    assert drawn[0]["val"] == [1.0] * 40 and _cells(path, str(drawn[1]["val_ref"])) == drawn[1]["val"]
    assert int(anchor.find("xdr:ext", NS).get("cy")) >= 40 * 20 * 9525  # at least 20 pixels a handler
    validator_ok(path)


def _office_charts(path: Path) -> None:
    """The office's own charts, as a clerk adds them: one on the Summary (far right, below the
    table), one on the Register."""
    wb = openpyxl.load_workbook(path)
    for title, at in (("汇总", "X30"), ("投诉登记", "BA2")):
        ws = wb[title]
        chart = OpenpyxlBar()
        chart.title = f"办公室自己的图{title}"
        chart.add_data(Reference(ws, min_col=2, min_row=2, max_row=4))
        ws.add_chart(chart, at)
    wb.save(path)


def _anchors(path: Path, title: str) -> list[bytes]:
    with zipfile.ZipFile(path) as z:
        drawing = _drawing(z, title)
        assert drawing is not None
        return [etree.tostring(a, method="c14n") for a in etree.fromstring(z.read(drawing))]


def test_the_offices_own_charts_stay_as_they_are(tmp_path: Path) -> None:
    """A chart the office put on the Summary shares its drawing with ours: refresh adds ours beside it,
    redraws ours, removes ours, and the office's anchor and chart part come through unchanged each time;
    the Register's chart is never touched."""
    data = bj01()
    path = write_branch(tmp_path / "BJ01.xlsx", data)
    _office_charts(path)
    own_summary, own_register = _anchors(path, "汇总"), _anchors(path, "投诉登记")
    with zipfile.ZipFile(path) as z:
        charts_before = {n: z.read(n) for n in z.namelist() if n.startswith("xl/charts/")}
    xc.refresh(path, now=OCT)
    assert our_chart(path) is not None
    anchors = _anchors(path, "汇总")
    assert len(anchors) == 2 and anchors[0] == own_summary[0]
    assert _anchors(path, "投诉登记") == own_register
    with zipfile.ZipFile(path) as z:
        assert all(z.read(n) == data for n, data in charts_before.items())
    validator_ok(path)
    xc.refresh(path, now=datetime(2026, 11, 20, 9, 0))  # ours redrawn
    assert len(series(our_chart(path)[1])[0]["cat"]) == 2  # type: ignore[index, arg-type]
    assert _anchors(path, "汇总")[0] == own_summary[0] and _anchors(path, "投诉登记") == own_register
    closed = replace(data, complaints=tuple(c for c in data.complaints if c.no != "BJ01-002"))
    path2 = write_branch(tmp_path / "closed.xlsx", closed)
    _office_charts(path2)
    xc.refresh(path2, now=OCT)
    xc.refresh(path2, now=datetime(2026, 12, 15, 9, 0))  # ours removed, the office's drawing stays
    assert our_chart(path2) is None
    assert _anchors(path2, "汇总") == _anchors(path, "汇总")[:1]
    with zipfile.ZipFile(path2) as z:
        assert all(z.read(n) == data for n, data in charts_before.items())
    validator_ok(path2)


def test_the_macro_workbook_gets_the_chart_and_keeps_its_vba(tmp_path: Path) -> None:
    path = tmp_path / "BJ01.xlsm"
    data = bj01()
    macro.build_branch_xlsm(path, settings=data.settings, rows={
        "register": sheet_rows(B.REGISTER, data.complaints, "zh"),
        "tracking": sheet_rows(B.TRACKING, data.tracking, "zh")})
    with zipfile.ZipFile(path) as z:
        vba = z.read("xl/vbaProject.bin")
    xc.refresh(path, now=OCT)
    found = our_chart(path)
    assert found is not None and series(found[1])[0]["cat"] == ["李四", "王五", "张三"]
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/vbaProject.bin") == vba
        assert b"macroEnabled" in z.read("[Content_Types].xml")
    validator_ok(path)


def test_an_english_workbook_has_an_english_chart(tmp_path: Path) -> None:
    path = write_branch(tmp_path / "BJ01-en.xlsx", replace(bj01(), settings=replace_settings(bj01().settings)),
                        lang="en")
    xc.refresh(path, now=OCT)
    anchor, chart = our_chart(path, "Summary")  # type: ignore[misc]
    assert chart.findtext(".//c:title//{*}t", namespaces=NS) == B.SUMMARY_CHART_TITLE[1]
    drawn = series(chart)
    assert drawn[0]["name_ref"] == "'Summary'!$F$3" and _cells(path, str(drawn[0]["name_ref"])) == drawn[0]["name"]
    validator_ok(path)


def replace_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"language": "en"})


def test_the_package_writer_adds_a_chart_to_a_recreated_summary(tmp_path: Path) -> None:
    """A Summary the clerk deleted is made again by refresh, chart and all."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    wb = openpyxl.load_workbook(path)
    del wb["汇总"]
    wb.save(path)
    xc.refresh(path, now=OCT)
    found = our_chart(path)
    assert found is not None and series(found[1])[0]["cat"] == ["李四", "王五", "张三"]
    assert XlsxPackage.open(path).sheet("汇总") is not None
    validator_ok(path)


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_chart_with_the_handlers(tmp_path: Path) -> None:
    """LibreOffice, an engine that is not ours, opens the refreshed workbook and keeps a bar chart over
    the Summary's handlers (converted to .xlsx by it and read back), and prints its title."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    xc.refresh(path, now=OCT)
    out = soffice_convert(path, tmp_path / "lo")
    with zipfile.ZipFile(out) as z:
        names = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert names
        text = z.read(names[0]).decode()
    assert "barDir" in text and "$E$4:$E$6" in text and "$F$4:$F$6" in text
    pdf = soffice_convert(path, tmp_path / "pdf", fmt="pdf")
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert B.SUMMARY_CHART_TITLE[0] in words.replace(" ", "")



@pytest.mark.parametrize("name", ["demo-BJ01-refreshed.xlsx", "demo-SH02-buttons.xlsm"])
def test_a_workbook_of_the_first_template_gets_the_chart_without_an_upgrade(name: str, tmp_path: Path) -> None:
    """Refresh draws the chart on a 1.0.0 workbook as it is (the chart is refresh's, not the template's):
    over its Summary's handlers, the cells and the caches agreeing; the VBA of the .xlsm as it was."""
    path = tmp_path / name
    path.write_bytes((Path(__file__).parent / "fixtures" / "templates-1.0.0" / name).read_bytes())
    with zipfile.ZipFile(path) as z:
        vba = [z.read(n) for n in z.namelist() if n.endswith("vbaProject.bin")]
    xc.refresh(path, now=datetime(2026, 11, 20, 9, 0))
    found = our_chart(path)
    assert found is not None
    drawn = series(found[1])
    assert drawn[0]["cat"] and _cells(path, str(drawn[0]["cat_ref"])) == drawn[0]["cat"]
    assert all(_cells(path, str(s["val_ref"])) == s["val"] for s in drawn)
    with zipfile.ZipFile(path) as z:
        assert [z.read(n) for n in z.namelist() if n.endswith("vbaProject.bin")] == vba
    validator_ok(path)


def test_a_drawing_whose_part_is_missing_gives_its_place_to_ours(tmp_path: Path) -> None:
    """A damaged workbook whose Summary names a drawing part that is not in the package: ours takes
    the sheet's one <drawing>, never a second."""
    path = write_branch(tmp_path / "BJ01.xlsx", bj01())
    xc.refresh(path, now=OCT)
    with zipfile.ZipFile(path) as z:
        drawing = _drawing(z, "汇总")
        kept = {i: z.read(i) for i in z.infolist() if i.filename not in (drawing, "xl/charts/chart1.xml")}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in kept.items():
            z.writestr(info, data)
    xc.refresh(path, now=datetime(2026, 11, 20, 9, 0))
    with zipfile.ZipFile(path) as z:
        assert z.read(_sheet_part(z, "汇总")).count(b"<drawing") == 1
        assert [k for k, _ in _rels(z, _sheet_part(z, "汇总")).values()].count("drawing") == 1
    validator_ok(path)
    found = our_chart(path)
    assert found is not None and set(series(found[1])[0]["cat"]) == {"李四", "王五"}  # type: ignore[arg-type]
