"""Why a workbook could not be read or written, each with its own clear message."""

from __future__ import annotations

from xlcomplaints.errors import XlcError
from xlcomplaints.i18n import register_messages


class WorkbookError(XlcError):
    """A whole-file problem (exit code 2): the message is rendered from a code."""


def wrong_kind(path: str, kind: str, expected: str) -> WorkbookError:
    """A workbook of ours, but of another kind than the one needed (a report given as a branch)."""
    from xlcomplaints.spec import TEMPLATE_NAMES

    (kind_zh, kind_en), (expected_zh, expected_en) = (TEMPLATE_NAMES.get(k, (k, k)) for k in (kind, expected))
    return WorkbookError("file.wrong_kind", path=path, kind=kind, expected=expected, kind_zh=kind_zh,
                         kind_en=kind_en, expected_zh=expected_zh, expected_en=expected_en)


MESSAGES: dict[str, tuple[str, str]] = {
    "file.missing": ("找不到文件：{path}", "File not found: {path}"),
    "file.is_folder": ("{path} 是文件夹，不是工作簿；请给出其中的一个工作簿文件。",
                       "{path} is a folder, not a workbook; give one workbook file in it."),
    "file.not_workbook": ("{path} 不是 Excel 工作簿（.xlsx/.xlsm）。", "{path} is not an Excel workbook (.xlsx/.xlsm)."),
    "file.other_format": ("{path} 是 {format_zh} 格式，不是 .xlsx/.xlsm 工作簿；请用原程序另存为 Excel 工作簿（.xlsx）后再试。",
                          "{path} is in the {format_en} format, not an .xlsx/.xlsm workbook; save it as an Excel workbook "
                          "(.xlsx) in the program that made it and try again."),
    "file.old_xls": ("{path} 是旧版 .xls 格式，请在 Excel 中另存为 .xlsx 后再试。",
                     "{path} is an old .xls file; save it as .xlsx in Excel and try again."),
    "file.encrypted": ("{path} 设置了打开密码，请在 Excel 中取消密码后再试。",
                       "{path} is password-protected; remove the password in Excel and try again."),
    # what is wrong and where, rendered in both languages by ``damage.damaged`` (never the library's words)
    "file.corrupt": ("{path} 已损坏，无法读取：{damage_zh}。请用 Excel 打开修复或使用备份。",
                     "{path} is damaged and cannot be read: {damage_en}. Repair it in Excel or use a backup."),
    "file.not_ours": ("{path} 不是由 xlcomplaints 模板创建的工作簿（未找到模板标记）。可用 xlcomplaints new 新建"
                      "（带按钮的：xlcomplaints excel new）。",
                      "{path} was not made from an xlcomplaints template (no template stamp). Create one with "
                      "xlcomplaints new (with buttons: xlcomplaints excel new)."),
    "file.wrong_kind": ("{path} 是{kind_zh}，不是此处需要的{expected_zh}。",
                        "{path} is a {kind_en}, not the {expected_en} needed here."),
    "file.version_unsupported": (
        "{path} 的模板版本 {version} 不受支持；本程序支持 {supported}。{hint_zh}",
        "{path} uses template version {version}, which is not supported; this program reads {supported}. {hint_en}"),
    "file.locked": ("{path} 正在 Excel 中打开（发现锁定文件 {lock}），请先关闭再试。",
                    "{path} is open in Excel (lock file {lock}); close it and try again."),
    "file.changed": ("{path} 在读取期间或读取后被修改过：本次没有使用它，也没有写入它，以免覆盖他人的修改。请在它保存完后重新运行。",
                     "{path} changed while or after it was read: it was not used and nothing was written to it, so no "
                     "one's edits are lost. Run again once it is saved."),
    "file.sheet_missing": ("{path} 缺少工作表“{sheet}”。", "{path} has no '{sheet}' sheet."),
    "file.rows_unwritable": ("{path} 的 {part} 在行与行之间有 Excel 不会写的内容（行外的文字、重复的行号、十万个以上的注释），无法安全写入，未写入任何内容；"
                             "请在 Excel 中打开后另存为 .xlsx 再试。",
                             "{path}: {part} holds what Excel never writes among its rows (text outside any row, a "
                             "row number twice, over 100,000 comments), so it cannot be written safely; nothing was "
                             "written. Open it in "
                             "Excel, save it as .xlsx and try again."),
    "file.sheet_part_missing": ("{path} 已损坏：工作簿列出了工作表“{sheet}”，但其内容 {part} 不在文件中。请用 Excel 打开修复或使用备份。",
                                "{path} is damaged: it lists the sheet '{sheet}', but its content {part} is not in the "
                                "file. Repair it in Excel or use a backup."),
    "file.write_failed": ("无法写入 {path}：{reason_zh}。", "Could not write {path}: {reason_en}."),
    # what a run did with what an interrupted run left beside a workbook (owners.LeftoverAction)
    "file.leftover_removed": ("已删除上次中断的运行留在 {target} 旁的临时文件 {name}（含工作簿数据）。",
                              "Removed {name}, a temporary copy of {target}'s data left by a run that was interrupted."),
    "file.leftover_restored": ("上次运行中断时 {target} 被暂存为 {name}，现已放回原处。",
                               "{target} had been set aside as {name} by a run that was interrupted; it is back in "
                               "place."),
    "file.leftover_kept": ("上次中断的运行留下的 {target} 旧版本 {name} 已保存为备份。",
                           "The earlier version of {target} an interrupted run left as {name} is kept as the backup."),
    "file.backslash_names": (
        "{path} 的部件名用了反斜杠（{part}），各程序会读出不同内容，未读取也未写入；请在 Excel 或 WPS 中打开后另存为 .xlsx 再试。",
        "{path} names a part with backslashes ({part}), which programs read differently, so nothing was read or "
        "written; open it in Excel or WPS, save it as .xlsx and try again."),
    "file.sheet_recreated": ("工作表“{sheet}”已被删除，已按模板重新建立（放在最后）。",
                             "Sheet '{sheet}' had been deleted; it was made again as the template has it (placed last)."),
    "file.table_header": (
        "{path}：“{sheet}”表的 {cell} 位于 Excel 表格“{table}”的标题行或汇总行，写入会使 Excel 修复时删除该表格，"
        "因此未写入任何内容；请把该表格移到别处（或转换为普通区域）后再试。",
        "{path}: cell {cell} of sheet '{sheet}' is in the header or totals row of the Excel table '{table}', and "
        "writing there would make Excel drop the table on repair, so nothing was written; move the table (or "
        "convert it to a range) and try again."),
    "file.duplicate_parts": (
        "{path} 中部件 {part} 出现了两次，各程序会读出不同的一份，未读取也未写入；请在 Excel 中打开后另存为 .xlsx 再试。",
        "{path} holds the part {part} twice, and programs read different copies, so nothing was read or written; "
        "open it in Excel, save it as .xlsx and try again."),
}
register_messages(MESSAGES)

