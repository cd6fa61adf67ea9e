"""``xlcomplaints upgrade``: a branch workbook of an older template version brought to the current one.

A flow over the workbook port (``workbook.port.Upgrades``): the steps of ``spec/migrations.py`` from
the workbook's version to ours, each operation planned from what the workbook holds and what the
current template has, then applied and saved once through the lossless writer (backup, atomic
swap, refused while open in Excel or changed since read). Only our cells, validations and stamps
are written; an operation that would write over the office's cells refuses the whole upgrade,
nothing written. ``dry_run`` plans and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlcomplaints.core.problems import register_messages, render
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import migrations as M
from xlcomplaints.upgrade_plan import SPECS, Change, Planned, Planner
from xlcomplaints.workbook.adopt import stamp_lost
from xlcomplaints.workbook.errors import WorkbookError, wrong_kind
from xlcomplaints.workbook.port import Upgrades, WorkbookPort
from xlcomplaints.workbook.reader import (
    VERSION_HINTS,
    find_stamps,
    readable,
    supported_range,
    upgrade_available,
)
from xlcomplaints.workbook.safety import backup_path

__all__ = ["SPECS", "Change", "Planned", "UpgradeResult", "done_message", "upgrade_flow", "upgrade_note"]

MESSAGES = {
    "upgrade.done": ("已将 {path} 从模板版本 {start} 升级到 {end}（原文件备份为 {backup}）。",
                     "Upgraded {path} from template version {start} to {end} (the previous file is kept as {backup})."),
    "upgrade.dry_run": ("试运行：{path} 将从模板版本 {start} 升级到 {end}，共 {count} 项更改（见上）；未写入任何内容。",
                        "Dry run: {path} would go from template version {start} to {end}, {count} change(s) (above); "
                        "nothing written."),
    "upgrade.available": ("{path} 使用模板版本 {version}，照常读取；运行 xlcomplaints upgrade {path} 可升级到 {current}"
                          "（会保留备份）。",
                          "{path} uses template version {version} and is read as it is; xlcomplaints upgrade {path} "
                          "brings it to {current} (a backup is kept)."),
    "upgrade.current": ("{path} 已是当前模板版本 {version}，无需升级，未写入任何内容。",
                        "{path} is on the current template version {version} already; nothing to do, nothing written."),
    "upgrade.not_here": ("这里不能升级工作簿；请关闭 Excel 后在命令行运行 xlcomplaints upgrade {path}。",
                         "A workbook cannot be upgraded from here; close Excel and run xlcomplaints upgrade {path} "
                         "from the command line."),
}
register_messages(MESSAGES)


@dataclass
class UpgradeResult:
    start: str
    end: str
    changes: list[Planned] = field(default_factory=list)
    #: The workbook was on the current version already (nothing planned, nothing written).
    current: bool = False
    changed: bool = False


def done_message(result: UpgradeResult, path: Path, lang: str) -> str:
    """What the command says at the end: current already, would change (dry run), or upgraded."""
    if result.current:
        return render("upgrade.current", lang, {"path": path.name, "version": result.start})
    if not result.changed:
        return render("upgrade.dry_run", lang, {"path": path.name, "start": result.start, "end": result.end,
                                                "count": len(result.changes)})
    return render("upgrade.done", lang, {"path": path.name, "start": result.start, "end": result.end,
                                         "backup": backup_path(path).name})


def upgrade_note(port: WorkbookPort, lang: str) -> str | None:
    """The one line saying ``upgrade`` is available, for a readable workbook of an older minor version
    (None otherwise, and for whatever the reading itself will report)."""
    try:
        stamp, _ = find_stamps(port)
    except WorkbookError:
        return None
    if stamp.kind != B.BRANCH_TEMPLATE_KIND or not upgrade_available(stamp):
        return None
    return render("upgrade.available", lang, {"path": port.label, "version": stamp.version,
                                              "current": B.BRANCH_TEMPLATE_VERSION})


def book_language(sheets: dict[str, str]) -> str:
    """The workbook's language, by which language's titles its sheets of ours carry."""
    titled = {lg: sum(sheets.get(s.kind) == s.title(lg) for s in B.BRANCH_SHEETS) for lg in ("zh", "en")}
    return "en" if titled["en"] > titled["zh"] else "zh"


def upgrade_flow(port: WorkbookPort, *, dry_run: bool = False) -> UpgradeResult:
    """Bring the branch workbook to the current template version; see the module's words.

    Raises WorkbookError (nothing written) for a workbook not ours, of another kind, of a version
    this program cannot upgrade (newer, or no chain of steps from it), or when an operation would
    write over the office's cells.
    """
    if not isinstance(port, Upgrades):
        raise WorkbookError("upgrade.not_here", path=port.label)
    try:
        stamp, sheets = find_stamps(port)
    except WorkbookError as e:  # no stamp: ours all the same? Say to adopt it.
        raise (stamp_lost(port) or e) if e.code == "file.not_ours" else e from None
    current = B.BRANCH_TEMPLATE_VERSION
    if stamp.kind != B.BRANCH_TEMPLATE_KIND:
        raise wrong_kind(port.label, stamp.kind, B.BRANCH_TEMPLATE_KIND)
    have, want = M.version_tuple(stamp.version), M.version_tuple(current)
    if readable(stamp.version, current) and have[:2] == want[:2]:
        return UpgradeResult(stamp.version, stamp.version, current=True)
    steps = None if have > want else M.path(stamp.version, current)
    if steps is None:
        zh, en = VERSION_HINTS["newer" if have > want else "new"]
        raise WorkbookError("file.version_unsupported", path=port.label, version=stamp.version,
                            supported=supported_range(current), hint_zh=zh, hint_en=en)
    lang = book_language(sheets)
    template = port.template(lang)
    _, template_sheets = find_stamps(template)
    plan = Planner(port, template, sheets, template_sheets, lang)
    for step in steps:
        for op in step.operations:
            plan.operation(op)
    plan.stamps(stamp.version)
    result = UpgradeResult(stamp.version, current, changes=plan.changes)
    if not dry_run:
        for change in plan.changes:
            change.apply()
        result.changed = port.save()
    return result
