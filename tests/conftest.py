"""Shared fixtures: real workbooks on disk, built from our templates and filled as a clerk would."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlcomplaints.api import new_workbook
from xlcomplaints.spec import branch as B

ROOT = Path(__file__).resolve().parent.parent
#: The read-only shared/ folder beside the clone (CI); from a clone under ``clones/``, one folder
#: further up; XLCOMPLAINTS_SHARED points elsewhere.
SHARED = Path(os.environ.get("XLCOMPLAINTS_SHARED") or next(
    (d for d in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if d.is_dir()), ROOT.parent / "shared"))
REAL_EXCEL = SHARED / "fixtures" / "real-excel"
HAS_SOFFICE = shutil.which("soffice") is not None


def type_rows(path: Path, sheet_kind: str, rows: Sequence[dict[str, Any]], lang: str = "zh") -> None:
    """Type rows into a sheet with openpyxl, by column key, the way a clerk fills cells."""
    spec = {s.kind: s for s in B.BRANCH_SHEETS}[sheet_kind]
    wb = openpyxl.load_workbook(path)
    ws = wb[spec.title(lang)]
    for r, row in enumerate(rows, start=2):
        for key, value in row.items():
            ws.cell(r, spec.index(key) + 1, value)
    wb.save(path)


@pytest.fixture
def branch(tmp_path: Path) -> Callable[..., Path]:
    """Make a new branch workbook; optionally type rows into its sheets."""

    def make(name: str = "bj01.xlsx", lang: str = "zh", **sheets: Sequence[dict[str, Any]]) -> Path:
        path = tmp_path / name
        new_workbook(path, branch_code="BJ01", branch_name="北京一店", lang=lang)
        for kind, rows in sheets.items():
            type_rows(path, kind, rows, lang)
        return path

    return make


def head_office(home: Path, demo: str = "demo") -> Path:
    """``home`` as a head office's folder: the demo's three branch workbooks copied under ``branches/`` (the demo
    written in ``home/demo``)."""
    from xlcomplaints.demo import run_demo

    made = run_demo(home / demo)
    (home / "branches").mkdir()
    for path in made[:-1]:
        shutil.copy(path, home / "branches" / path.name)
    return home


def soffice_convert_all(sources: Sequence[Path], outdir: Path, fmt: str = "xlsx", recalc: bool = False) -> list[Path]:
    """Convert with one LibreOffice headless run in a private profile; optionally recalculating on load."""
    profile = outdir / "lo-profile"
    if recalc:
        user = profile / "user"
        user.mkdir(parents=True, exist_ok=True)
        (user / "registrymodifications.xcu").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
            '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
            "</oor:items>\n", encoding="utf-8")
    outdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", fmt,
         "--outdir", str(outdir), *map(str, sources)],
        capture_output=True, text=True, timeout=300,
    )
    outs = [outdir / f"{src.stem}.{fmt.split(':')[0]}" for src in sources]
    assert proc.returncode == 0 and all(out.exists() for out in outs), proc.stderr + proc.stdout
    return outs


def soffice_convert(src: Path, outdir: Path, fmt: str = "xlsx", recalc: bool = False) -> Path:
    """Convert one file (see ``soffice_convert_all``)."""
    return soffice_convert_all([src], outdir, fmt, recalc)[0]


@pytest.fixture(autouse=True)
def small_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packs of three branches (a store's are of ``store.pack.PACK_BRANCHES``): a test's few branches then fill
    several packs, so every run meets packs kept, packs written again and branches across packs."""
    from xlcomplaints.store import pack
    monkeypatch.setattr(pack, "PACK_BRANCHES", 3)
