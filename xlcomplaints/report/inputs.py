"""Which files a consolidation reads: the files given, every spreadsheet under the folders given,
and the files found there that are passed over (backups, Excel's temporaries, hidden files, other
kinds), with the words that say so; and how the report names each file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from xlcomplaints.core.problems import register_messages, render
from xlcomplaints.i18n import pick, printable
from xlcomplaints.store.layout import STORE_SUFFIX, is_store

register_messages({
    "scan.none_found": ("在 {folders} 中没有找到网点工作簿（查找的是 .xlsx 和 .xlsm 文件，含子文件夹）",
                        "No branch workbook found in {folders} (looked for .xlsx and .xlsm files, subfolders "
                        "included)"),
    "scan.passed_over": ("略过 {n} 个文件：{kinds}", "passed over {n} file(s): {kinds}"),
    "scan.passed_one": ("  略过 {path}：{why}", "  passed over {path}: {why}"),
    "scan.backup": ("保存时留下的备份", "a backup kept by a save"),
    "scan.backup.count": ("{n} 个备份（*.bak.xlsx）", "{n} backup(s) (*.bak.xlsx)"),
    "scan.temporary": ("Excel 打开工作簿时的临时文件", "Excel's temporary file while a workbook is open"),
    "scan.temporary.count": ("{n} 个 Excel 临时文件（~$ 开头）", "{n} Excel temporary file(s) (~$ names)"),
    "scan.hidden": ("隐藏文件", "a hidden file"),
    "scan.hidden.count": ("{n} 个隐藏文件（. 开头）", "{n} hidden file(s) (names starting with .)"),
    "scan.other": ("不是电子表格", "not a spreadsheet"),
    "scan.other.count": ("{n} 个其他格式的文件（{suffixes}）", "{n} file(s) of other kinds ({suffixes})"),
})

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
#: Spreadsheets of other formats found in a folder: picked up too, to be reported (save as .xlsx).
OTHER_SPREADSHEETS = (".xls", ".xlsb", ".ods", ".et")


class PassedOver(StrEnum):
    """Why a file found in a folder is not read; each value is the code of its words."""

    BACKUP = "scan.backup"  # NAME.bak.xlsx: the backup a save keeps
    TEMPORARY = "scan.temporary"  # ~$NAME.xlsx: Excel's owner file while a workbook is open
    HIDDEN = "scan.hidden"  # .NAME: hidden files (LibreOffice's locks, a killed run's temporaries)
    OTHER = "scan.other"  # not a spreadsheet: .csv, .pdf, .docx …


@dataclass
class Scan:
    """What the inputs name: the files to read (in order, each once), and the files found in the
    folders given that are passed over, with why."""

    files: list[Path] = field(default_factory=list)
    passed_over: list[tuple[Path, PassedOver]] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)


def passed_over(f: Path) -> PassedOver | None:
    """Why a file found in a folder is not read, None if it is (a workbook, or a spreadsheet of
    another format: it is reported, to be saved as .xlsx)."""
    n = f.name
    if n.startswith("~$"):
        return PassedOver.TEMPORARY
    if n.startswith("."):
        return PassedOver.HIDDEN
    if f.suffix.lower() not in WORKBOOK_SUFFIXES + OTHER_SPREADSHEETS:
        return PassedOver.OTHER
    if f.stem.lower().endswith(".bak"):
        return PassedOver.BACKUP
    return None


def scan_inputs(inputs: Iterable[str | Path]) -> Scan:
    """Files as given, and every spreadsheet under the directories given (Excel's ``~$`` files,
    hidden files and our own ``.bak`` backups passed over, as is every file of another kind;
    other spreadsheet formats than .xlsx/.xlsm kept, to be reported); sorted, each file once
    however its path was written. A spreadsheet's name on what is not a file (a link that
    dangles or loops, a FIFO, a device) is kept too: reading it says what it is."""
    out: dict[Path, Path] = {}
    scan = Scan()
    for item in inputs:
        p = Path(item)
        if os.path.isdir(p):  # never raises (a name too long is no folder: read, and said, as a file)
            if is_store(p):  # a region's facts store given by name (``report.regions``)
                continue
            scan.folders.append(p)
            stores = [d for d in p.rglob(f"*{STORE_SUFFIX}") if is_store(d)]
            for f in sorted(p.rglob("*")):
                if os.path.isdir(f) or any(f.is_relative_to(d) for d in stores):  # reports' stores: neither read nor said
                    continue
                why = passed_over(f)
                if why is None:
                    out.setdefault(resolved(f), f)
                else:
                    scan.passed_over.append((f, why))
        else:
            out.setdefault(resolved(p), p)
    scan.files = sorted(out.values())
    return scan


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """The files to read of ``scan_inputs``."""
    return scan_inputs(inputs).files


def passed_over_line(scan: Scan, lang: str) -> str:
    """The files passed over, counted by why in one line ("" if none)."""
    counts: dict[PassedOver, list[Path]] = {}
    for f, why in scan.passed_over:
        counts.setdefault(why, []).append(f)
    if not counts:
        return ""
    parts = []
    for why in PassedOver:
        if why in counts:
            suffixes = pick(lang, "、", ", ").join(sorted({f.suffix.lower() or "—" for f in counts[why]})[:5])
            parts.append(render(f"{why.value}.count", lang, {"n": len(counts[why]), "suffixes": suffixes}))
    return render("scan.passed_over", lang, {"n": len(scan.passed_over),
                                             "kinds": pick(lang, "，", ", ").join(parts)})


def passed_over_lines(scan: Scan, lang: str, labels: Mapping[Path, str] | None = None) -> list[str]:
    """Each file passed over, with why (for ``--verbose``)."""
    return [render("scan.passed_one", lang, {"path": (labels or {}).get(f, str(f)), "why": render(why.value, lang, {})})
            for f, why in scan.passed_over]


def none_found(scan: Scan, lang: str) -> str:
    """Why there is nothing to read: no workbook in the folders given, what was looked for, and
    what was found and passed over."""
    said = render("scan.none_found", lang, {"folders": ", ".join(str(f) for f in scan.folders)})
    line = passed_over_line(scan, lang)
    return (said + pick(lang, "；", "; ") + line if line else said) + pick(lang, "。", ".")


def resolved(p: Path) -> Path:
    """The path with its links followed; as written (made absolute) if they loop."""
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop (Python 3.11)
        return p.absolute()


def as_stored(p: Path) -> str:
    """The file's path as a facts store keeps it (``facts``): its links followed, bytes that are not valid
    Unicode as ``\\xNN`` (``i18n.printable``), so that a file read again is known for the one stored."""
    return printable(str(resolved(p)))


def file_labels(paths: Sequence[Path]) -> dict[Path, str]:
    """How the report names each file: its name, or, where several files share it (each branch's
    folder holding a ``2026-10.xlsx``), as many of its folders as tell it apart (``north/2026-10.xlsx``);
    a name's bytes that are not valid Unicode shown as ``\\xNN`` (``i18n.printable``)."""
    labels: dict[Path, str] = {}
    pending, depth = list(dict.fromkeys(paths)), 1
    while pending:
        groups: dict[str, list[Path]] = {}
        for p in pending:
            groups.setdefault(Path(*p.parts[-depth:]).as_posix(), []).append(p)
        pending = []
        for label, group in groups.items():
            if len(group) == 1 or all(len(p.parts) <= depth for p in group):
                labels.update(dict.fromkeys(group, printable(label)))
            else:
                pending += group
        depth += 1
    return labels
