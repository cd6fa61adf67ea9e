"""The form flow: complaint handling forms for the numbers asked, from a workbook over the port.

Written once for the ``form`` command (a ``FileWorkbook``) and the 打印处理单 button (the workbook
open in Excel): read → check the deadline columns are there → build each page → write the
``.xlsx`` (or the ``.pdf`` through LibreOffice). Nothing in the branch workbook is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xlcomplaints.core.corrections import find_corrections
from xlcomplaints.core.form import CaseForm, build_forms
from xlcomplaints.core.problems import register_messages
from xlcomplaints.flows import refuse_without
from xlcomplaints.form import pdf
from xlcomplaints.form.workbook import write_forms
from xlcomplaints.i18n import pick
from xlcomplaints.spec.model import Need
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.filekind import write_reason
from xlcomplaints.workbook.port import WorkbookPort
from xlcomplaints.workbook.reader import read_branch
from xlcomplaints.workbook.safety import WorkbookChangedError, WorkbookLockedError, atomic_write

SUFFIXES = (".xlsx", ".pdf")
#: The default file name's word for the form, next to the workbook: ``bj01-处理单-BJ01-2610003.xlsx``.
FILE_WORD = {"zh": "处理单", "en": "form"}
_UNSAFE = re.compile(r"[^\w.\-]+")

register_messages({
    "form.not_found": ("{path} 中没有投诉编号为 {numbers} 的投诉，未生成处理单。",
                       "{path} has no complaint numbered {numbers_en}; no form was written."),
    "form.bad_output": ("处理单只能写成 .xlsx 或 .pdf 文件：{path}", "A form is written as .xlsx or .pdf: {path}"),
    "form.over_workbook": ("不能把处理单写到工作簿 {path} 本身，请另选文件名。",
                           "The form cannot be written over the workbook {path} itself; choose another name."),
})


@dataclass(frozen=True)
class FormResult:
    """What the flow wrote: the file, the complaints on it, the numbers not found, and whether a
    ``.pdf`` asked for became an ``.xlsx`` because LibreOffice is not installed."""

    output: Path
    forms: tuple[CaseForm, ...]
    not_found: tuple[str, ...]
    pdf_unavailable: bool = False

    @property
    def numbers(self) -> list[str]:
        return [f.complaint.no or "" for f in self.forms]


def default_output(workbook: Path, numbers: Sequence[str], lang: str) -> Path:
    """Next to the workbook: ``<stem>-处理单-<number>.xlsx`` (``-form-`` in English); for several
    numbers, the first and the last."""
    shown = [_UNSAFE.sub("_", n.strip()) for n in numbers] or ["?"]
    which = shown[0] if len(shown) == 1 else f"{shown[0]}_{shown[-1]}"
    return workbook.with_name(f"{workbook.stem}-{FILE_WORD.get(lang, 'form')}-{which}.xlsx")


def form_flow(port: WorkbookPort, numbers: Sequence[str], output: Path | None = None, *, now: datetime,
              lang: str = "zh", mask: bool = False, source: Path | None = None) -> FormResult:
    """Write the handling form of each complaint numbered in ``numbers`` to ``output`` (by default
    next to the workbook's file ``source``, named after the numbers found: ``default_output``).

    The deadlines are computed as refresh computes them at ``now`` (to the minute). Raises
    WorkbookError, writing nothing, when the file cannot be used, a column the deadlines need is
    missing, no number is found (``form.not_found``, naming them), or ``output`` is neither
    ``.xlsx`` nor ``.pdf`` or is the workbook itself (``source``). A ``.pdf`` without LibreOffice
    installed is written as the ``.xlsx`` of the same name (``FormResult.pdf_unavailable``).
    """
    if output is not None:
        _check_output(output, source)
    read = read_branch(port, lang=lang)
    refuse_without(read, Need.DEADLINES, port.label)
    fixes = find_corrections(read.data.complaints, read.layouts.get("register"), read.problems)
    minute = now.replace(second=0, microsecond=0)  # as refresh computes (flows._minute)
    built = build_forms(read.data, numbers, minute, lang, fixes)
    if not built.forms:
        raise WorkbookError("form.not_found", path=port.label, numbers="、".join(built.not_found),
                            numbers_en=", ".join(built.not_found))
    if output is None:
        if source is None:
            raise ValueError("form_flow needs an output file or the workbook's own (source)")
        output = default_output(source, [f.complaint.no or "" for f in built.forms], lang)
        _check_output(output, source)
    suffix = output.suffix.lower()
    xlsx = write_forms(built.forms, read.data.settings, lang=lang, printed=minute, mask=mask)
    unavailable = False
    data = xlsx
    if suffix == ".pdf":
        soffice = pdf.find_soffice()
        if soffice is None:
            output, unavailable = output.with_suffix(".xlsx"), True
        else:
            data = pdf.convert(soffice, xlsx, output)
    _save(output, data)
    return FormResult(output=output, forms=built.forms, not_found=built.not_found, pdf_unavailable=unavailable)


def _check_output(output: Path, source: Path | None) -> None:
    if output.suffix.lower() not in SUFFIXES:
        raise WorkbookError("form.bad_output", path=str(output))
    if source is not None and output.resolve() == source.resolve():
        raise WorkbookError("form.over_workbook", path=source.name)


def outcome_lines(result: FormResult, lang: str) -> list[str]:
    """What was written, which numbers were not found, and why a PDF asked for is an .xlsx —
    said the same by the command and the button."""
    shown = pick(lang, "、", ", ").join(result.numbers)
    out = [pick(lang, f"已写出 {result.output}：{len(result.forms)} 宗投诉的处理单（{shown}），每宗一页 A4。",
                f"Wrote {result.output}: the handling form of {len(result.forms)} complaint(s) ({shown}), "
                f"one A4 page each.")]
    if result.not_found:
        out.append(pick(lang, f"未找到投诉编号：{'、'.join(result.not_found)}。",
                        f"No complaint numbered: {', '.join(result.not_found)}."))
    if result.pdf_unavailable:
        out.append(pick(lang, "本机未安装 LibreOffice，无法生成 PDF；已写出同名的 .xlsx，在 Excel 中打印效果相同。"
                        "安装 LibreOffice 后再运行即可得到 PDF。",
                        "LibreOffice is not installed here, so no PDF could be made; the .xlsx of the same name "
                        "was written instead and prints the same from Excel. Install LibreOffice for the PDF."))
    return out


def _save(output: Path, data: bytes) -> None:
    """The file whole or not at all, never under a copy open in Excel (as the report is saved)."""
    try:
        atomic_write(output, data, backup=False)
    except WorkbookLockedError as e:
        raise WorkbookError("file.locked", path=output.name, lock=e.lock_path.name if e.lock_path else "") from e
    except WorkbookChangedError as e:
        raise WorkbookError("file.changed", path=output.name) from e
    except OSError as e:
        raise WorkbookError("file.write_failed", path=str(output), **write_reason(e)) from e
