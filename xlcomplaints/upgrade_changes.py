"""What an upgrade changes: the codes of its messages (``Change``), their words, and one planned change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from xlcomplaints.core.problems import register_messages, render


class Change(StrEnum):
    """What an upgrade changes (the codes of its messages)."""

    SHEET_ADDED = "upgrade.sheet_added"
    COLUMN_ADDED = "upgrade.column_added"
    LABEL_RENAMED = "upgrade.label_renamed"
    LIST_EXTENDED = "upgrade.list_extended"
    SETTING_ADDED = "upgrade.setting_added"
    SETTINGS_BLOCK_ADDED = "upgrade.settings_block_added"
    VALIDATIONS = "upgrade.validations"
    PROTECTION = "upgrade.protection"
    COLOURING = "upgrade.colouring"
    COLOURING_KEPT = "upgrade.colouring_kept"
    STAMP = "upgrade.stamp"


MESSAGES = {
    Change.SHEET_ADDED: ("新增工作表“{sheet}”（按当前模板）", "Sheet '{sheet}' added (as the current template has it)"),
    Change.COLUMN_ADDED: ("“{sheet}”表 {cell} 新增列“{column}”", "Column '{column}' added to '{sheet}' at {cell}"),
    Change.LABEL_RENAMED: ("“{sheet}”表 {cell} 列名“{old}”改为“{new}”", "'{sheet}'!{cell}: header '{old}' renamed '{new}'"),
    Change.LIST_EXTENDED: ("“{sheet}”表“{column}”列表新增：{values}", "'{sheet}', list '{column}': added {values}"),
    Change.SETTING_ADDED: ("“{sheet}”表第 {row} 行新增设置项“{label}”", "'{sheet}' row {row}: setting '{label}' added"),
    Change.SETTINGS_BLOCK_ADDED: ("“{sheet}”表第 {first}–{last} 行新增“{label}”", "'{sheet}' rows {first}–{last}: "
                                                                            "'{label}' added"),
    Change.VALIDATIONS: ("“{sheet}”表更新下拉列表与输入提示：{columns}", "'{sheet}': dropdowns and input messages "
                                                                 "brought up to date: {columns}"),
    Change.PROTECTION: ("“{sheet}”表的保护选项按当前模板更新（仍无密码）", "'{sheet}': protection options as the current "
                                                                   "template has them (still no password)"),
    Change.COLOURING: ("“{sheet}”表的条件格式（着色）按当前模板更新", "'{sheet}': conditional formats (colouring) as the "
                                                            "current template has them"),
    Change.COLOURING_KEPT: ("“{sheet}”表的列顺序与模板不同，条件格式（着色）保持原样；需要新着色时请从新建的工作簿复制",
                            "'{sheet}': columns are not where the template has them, so its conditional formats "
                            "(colouring) are kept as they were; copy them from a new workbook if wanted"),
    Change.STAMP: ("模板版本 {start} → {end}", "Template version {start} → {end}"),
    "upgrade.column_taken": (
        "{path}：无法在“{sheet}”表 {cell} 处新增列“{column}”：该列已有内容（本单位自己的列）。未写入任何内容。"
        "请把该列移到别处（或在它前面插入一列空列），再运行 xlcomplaints upgrade。",
        "{path}: column '{column}' cannot be added to '{sheet}' at {cell}: that column holds the office's own "
        "cells. Nothing was written. Move that column elsewhere (or insert an empty column before it), then run "
        "xlcomplaints upgrade again."),
    "upgrade.settings_full": (
        "{path}：“{sheet}”表的最后一行之下已没有空行放新设置项（{labels}）和新增的表格（需要到第 {last} 行）。"
        "未写入任何内容。请删去“{sheet}”表末尾不用的行，再运行 xlcomplaints upgrade。",
        "{path}: '{sheet}' has no rows left below its last row for the new settings ({labels}) and tables (row "
        "{last} would be needed). Nothing was written. Delete unused rows at the end of '{sheet}', then run "
        "xlcomplaints upgrade again."),
}
register_messages(MESSAGES)


@dataclass(frozen=True)
class Planned:
    """One change an upgrade makes: its message, and how it is made."""

    code: Change
    params: dict[str, Any]
    apply: Callable[[], object] = field(compare=False, repr=False)

    def message(self, lang: str) -> str:
        return render(self.code, lang, self.params)
