"""Every kind of file xlcomplaints writes passes the strict OOXML checker: 0 errors, no warnings
but the ones named (and justified) below.

There is no Excel on these machines; ``shared/tools/ooxml-validator`` (beside the clone, read-only)
checks a package against the ECMA-376 transitional schemas after Markup-Compatibility processing,
plus what Excel enforces that schemas cannot say (style/string indices, row and cell order, table
headers, defined names, VBA codeNames and button macros). It is run in-process: it needs only
lxml and olefile.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from tests.conftest import HAS_SOFFICE, REAL_EXCEL, SHARED
from tests.test_package import plan_writes
from xlcomplaints.api import consolidate, monthly_report, new_workbook
from xlcomplaints.cli import app
from xlcomplaints.demo import make_branch
from xlcomplaints.flows import assign_ids_flow, refresh_flow
from xlcomplaints.templates import macro
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import XlsxPackage
from xlcomplaints.workbook.reader import read_branch

VALIDATOR = SHARED / "tools" / "ooxml-validator" / "validate_ooxml.py"
TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates"
NOW = datetime(2026, 11, 2, 9, 0)

#: Warnings we accept in files we make, by the validator's kind text, each with why Excel is fine with it.
ACCEPTED: dict[str, str] = {}
#: Warnings Excel's own fixtures carry (in parts our writer copies byte for byte), by file and kind.
EXCELS_OWN: dict[tuple[str, str], str] = {
    ("62629_target.xlsm", "button macro does not resolve to a Sub in the workbook's VBA project"):
        "Excel saved it so: the button calls '[0]!Picture_AO', which only a referenced project could hold; "
        "the VML drawing that says so is never touched by our writer",
}


@pytest.fixture(scope="module")
def validator() -> ModuleType:
    if not VALIDATOR.is_file():
        pytest.skip(f"the OOXML checker is not at {VALIDATOR} (shared/ beside the clone, or XLCOMPLAINTS_SHARED)")
    spec = importlib.util.spec_from_file_location("validate_ooxml", VALIDATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def problems(validator: ModuleType, path: Path, accepted: Collection[str] = ACCEPTED) -> list[str]:
    """The checker's errors and warnings for one file, the accepted kinds of warning left out."""
    found = validator.check_file(path)
    return [f"{f.severity}: {f.layer}: {f.kind} — {f.part}: {f.message}" for f in found
            if f.severity == "error" or (f.severity == "warning" and f.kind not in accepted)]


def _sample_rows(n: int) -> dict[str, list[list[object]]]:
    from tests.test_xlsm import sample_rows

    return {"register": sample_rows(n)}


def _branch_xlsx(d: Path, lang: str) -> Path:
    return make_branch(d / f"BJ01-{lang}.xlsx", "BJ01", "北京一店", n=30, seed=3, lang=lang)


def _refreshed(d: Path, suffix: str) -> Path:
    if suffix == ".xlsx":
        path = _branch_xlsx(d, "zh")
    else:
        path = d / "branch.xlsm"
        macro.build_branch_xlsm(path, lang="zh", rows=_sample_rows(12), created=None)
    assert refresh_flow(FileWorkbook(path), now=NOW).changed
    return path


def _numbered(d: Path, suffix: str) -> Path:
    path = d / f"numbered{suffix}"
    if suffix == ".xlsx":
        from xlcomplaints.templates.build import build_branch_workbook

        build_branch_workbook(path, rows=_sample_rows(12), created=None)
    else:
        macro.build_branch_xlsm(path, lang="zh", rows=_sample_rows(12), created=None)
    result = assign_ids_flow(FileWorkbook(path), now=NOW)
    assert result.assigned and result.changed
    return path


def _recreated(d: Path, suffix: str) -> Path:
    """Overdue and Summary deleted by the clerk, added again by refresh through the package writer."""
    from tests.test_owned_sheets import without
    from xlcomplaints.spec import branch as B

    path = d / f"recreated{suffix}"
    if suffix == ".xlsx":
        path = _branch_xlsx(d, "en")
    else:
        macro.build_branch_xlsm(path, lang="en", rows=_sample_rows(12), created=None)
    without(path, B.OVERDUE.title("en"), B.SUMMARY.title("en"))
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert [p.code for p in result.problems].count("file.sheet_recreated") == 2
    return path


def _new(d: Path, lang: str) -> Path:
    return new_workbook(d / f"new-{lang}.xlsx", branch_code="BJ01", branch_name="北京一店", lang=lang)


def _excel_new(d: Path, lang: str) -> Path:
    out = d / f"excel-new-{lang}.xlsm"
    result = CliRunner().invoke(app, ["excel", "new", str(out), "--branch-code", "BJ01", "--lang", lang])
    assert result.exit_code == 0, result.output
    return out


def _standalone(d: Path) -> Path:
    source, out = _excel_new(d, "zh"), d / "standalone.xlsm"
    result = CliRunner().invoke(app, ["excel", "standalone", str(source), str(out)])
    assert result.exit_code == 0, result.output
    return out


def _report(d: Path, lang: str) -> Path:
    out = d / f"report-{lang}.xlsx"
    monthly_report(_branch_xlsx(d, lang), "2026-10", out, lang=lang, now=NOW)
    return out


def _consolidated(d: Path, lang: str) -> Path:
    branches = [make_branch(d / f"{code}.xlsx", code, code, n=25, seed=i, lang=lang)
                for i, code in enumerate(("BJ01", "SH02"))]
    out = d / f"group-{lang}.xlsx"
    consolidate(branches, "2026-10", out, lang=lang, now=NOW, workers=1)
    return out


def _form(d: Path, lang: str) -> Path:
    from xlcomplaints.form.run import form_flow

    path = _branch_xlsx(d, "zh")
    numbers = [c.no or "" for c in read_branch(FileWorkbook(path)).data.complaints if c.no][:3]
    return form_flow(FileWorkbook(path), numbers, d / f"form-{lang}.xlsx", now=NOW, lang=lang, mask=True).output


WRITERS: dict[str, Callable[[Path], Path]] = {
    "new-zh": lambda d: _new(d, "zh"),
    "new-en": lambda d: _new(d, "en"),
    "excel-new-zh": lambda d: _excel_new(d, "zh"),
    "excel-new-en": lambda d: _excel_new(d, "en"),
    "excel-standalone": _standalone,
    "refreshed.xlsx": lambda d: _refreshed(d, ".xlsx"),
    "refreshed.xlsm": lambda d: _refreshed(d, ".xlsm"),
    "recreated.xlsx": lambda d: _recreated(d, ".xlsx"),
    "recreated.xlsm": lambda d: _recreated(d, ".xlsm"),
    "assign-ids.xlsx": lambda d: _numbered(d, ".xlsx"),
    "assign-ids.xlsm": lambda d: _numbered(d, ".xlsm"),
    "report-zh": lambda d: _report(d, "zh"),
    "report-en": lambda d: _report(d, "en"),
    "consolidated-zh": lambda d: _consolidated(d, "zh"),
    "consolidated-en": lambda d: _consolidated(d, "en"),
    "form-zh": lambda d: _form(d, "zh"),
    "form-en": lambda d: _form(d, "en"),
}


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.xls*")))
def test_each_template_opens_clean(validator: ModuleType, name: str) -> None:
    assert problems(validator, TEMPLATES / name) == []


#: Warnings accepted for one kind of file, each with why.
ACCEPTED_FOR: dict[str, dict[str, str]] = {
    "recreated.xlsm": {
        "document module without a sheet/workbook of that codeName":
            "the test deletes the two sheets at the zip level and leaves their document modules in "
            "vbaProject.bin (Excel removes them with the sheet); the recreated sheets carry no codeName",
    },
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_each_file_we_write_opens_clean(validator: ModuleType, kind: str, tmp_path: Path) -> None:
    path = WRITERS[kind](tmp_path)
    assert problems(validator, path, {**ACCEPTED, **ACCEPTED_FOR.get(kind, {})}) == []


@pytest.mark.parametrize("name", sorted(p.name for p in REAL_EXCEL.glob("*.xls*")) if REAL_EXCEL.is_dir() else [])
def test_excel_files_our_writer_patched_open_clean(validator: ModuleType, name: str, tmp_path: Path) -> None:
    """Excel's own files (they pass as they are) still pass after our writer has written into every worksheet."""
    path = tmp_path / name
    shutil.copyfile(REAL_EXCEL / name, path)
    accepted = {kind for (file, kind) in EXCELS_OWN if file == name}
    assert problems(validator, path, accepted) == []
    pkg = XlsxPackage.open(path)
    worksheets = [s for s in pkg.sheets if s.kind == "worksheet"]
    assert worksheets
    written = 0
    for sheet in worksheets:
        writes, _ = plan_writes(pkg.read_part(sheet.part))
        for cell, value in writes.items():
            try:
                pkg.write_cells(sheet.name, {cell: value})
            except WorkbookError as e:  # a table's header or totals row: refused, see test_tables
                assert e.code == "file.table_header"
            else:
                written += 1
    assert written
    pkg.save()
    assert pkg.changed_parts() == set()  # reopened from what was saved
    assert problems(validator, path, accepted) == []


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="needs LibreOffice (soffice) on PATH")
def test_sheets_recreated_in_a_workbook_another_program_saved_add_nothing_to_fix(
        validator: ModuleType, tmp_path: Path) -> None:
    """The styles the recreated sheets bring are appended to a styles.xml LibreOffice wrote (its own
    numbering, formats and dxfs): the checker finds nothing it did not find before the refresh."""
    from tests.conftest import soffice_convert
    from tests.test_owned_sheets import without
    from xlcomplaints.spec import branch as B

    (tmp_path / "src").mkdir()
    saved = soffice_convert(_branch_xlsx(tmp_path / "src", "zh"), tmp_path / "lo")
    without(saved, B.OVERDUE.zh, B.SUMMARY.zh)
    before = set(problems(validator, saved))
    result = refresh_flow(FileWorkbook(saved), now=NOW)
    assert [p.code for p in result.problems].count("file.sheet_recreated") == 2
    assert set(problems(validator, saved)) <= before
