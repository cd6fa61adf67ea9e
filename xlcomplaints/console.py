"""What the command line and the demo print: the consoles and the problem list.

No console markup: what is printed holds clerks' cells, file names and messages, where "[...]"
is text (a "[/]" typed in a cell would otherwise stop the command). Styles go in as Text.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from xlcomplaints import i18n
from xlcomplaints.core.problems import Level, Problem, in_sheet_order
from xlcomplaints.errors import XlcError
from xlcomplaints.i18n import Lang, pick, say
from xlcomplaints.spec.problems import PROBLEMS

console = Console(markup=False, soft_wrap=True)  # a log gets whole lines; a terminal wraps them itself
err = Console(stderr=True, markup=False, soft_wrap=True)

#: What every refusal starts with — a command that stops without doing its work (exit 2), a button
#: that could not run. One style for all: a log or a scheduled job's output is searched for them by
#: this word, and they stand apart from the notes a command also prints on stderr (what an
#: interrupted run left and was cleared away).
REFUSAL_PREFIX = {Lang.ZH: "错误：", Lang.EN: "Error: "}


def refusal(message: str, lang: str) -> str:
    """A refusal's sentence as every command and button shows it."""
    return REFUSAL_PREFIX[Lang.of(lang)] + message


def print_refusal(message: str, lang: str) -> None:
    """Print a refusal on stderr, as typed (no highlighting), on one line."""
    err.print(Text.assemble((REFUSAL_PREFIX[Lang.of(lang)], "bold red"), message),
              highlight=False, soft_wrap=True)


def error_text(e: XlcError, lang: str) -> str:
    """Any of our errors (errors.XlcError) as a refusal's sentence: its message, rendered once, in ``lang``
    (the buttons show it in both languages)."""
    return refusal(e.message(lang), lang)


def print_error(e: XlcError, lang: str) -> None:
    """Print any of our errors (errors.XlcError) as a refusal on stderr, in ``lang``."""
    print_refusal(e.message(lang), lang)


#: What the command line says besides problems and refusals carried as codes, by key (cli.py).
SAID: dict[str, i18n.Text] = {
    "created": ("已创建 {path}", "Created {path}"),
    "preset.unknown": ("没有预设 {preset}；可用：{presets}", "No preset {preset}; presets: {presets}"),
    "exists": ("{path} 已存在（用 --force 覆盖）", "{path} exists (use --force to overwrite)"),
    "new.suffix": ("文件名须以 {suffix} 结尾", "The file name must end in {suffix}"),
    "new.suffix_xlsm": ("文件名须以 {suffix} 结尾；带按钮的 .xlsm 请用 xlcomplaints excel new",
                        "The file name must end in {suffix}; for the workbook with buttons (.xlsm) use "
                        "xlcomplaints excel new"),
    "new.no_folder": ("文件夹 {folder} 不存在", "The folder {folder} does not exist"),
    "new.blank_code": ("--branch-code 不能为空（投诉编号以它开头）",
                       "--branch-code cannot be blank (complaint numbers start with it)"),
    "now.unreadable": ("无法识别 --now 的时间，请写成 2026-11-22 09:00", 'Cannot read --now; write it like "2026-11-22 09:00"'),
    "counts": ("{errors} 个错误，{warnings} 个警告", "{errors} error(s), {warnings} warning(s)"),
    "no_problems": ("没有发现问题", "No problems found"),
    "refresh.saved": ("{file}：{outcome} 已保存。", "{file}: {outcome} Saved."),
    "refresh.unchanged": ("{file}：{outcome} 无变化。", "{file}: {outcome} Nothing changed."),
    "assign.row": ("  第{row}行: {number}", "  row {row}: {number}"),
    "assign.done": ("已编号 {n} 宗。", "Numbered {n} complaint(s)."),
    "assign.done_skipped": ("已编号 {n} 宗，{skipped} 宗未编号（见上）。",
                            "Numbered {n} complaint(s); {skipped} left without a number (see above)."),
    "adopt.already": ("{file} 已是 xlcomplaints 工作簿，无需认领。", "{file} is already an xlcomplaints workbook; nothing to do."),
    "adopt.by.stamp": ("原有标记", "its stamp"),
    "adopt.by.title": ("按表名", "by its title"),
    "adopt.by.headers": ("按表头", "by its headers"),
    "adopt.sheet": ("  {title}: “{sheet}”（{how}）", "  {title}: '{sheet}' ({how})"),
    "adopt.missing": ("  未找到：{missing}", "  Not found: {missing}"),
    "adopt.backup": ("（备份：{name}）", " (backup: {name})"),
    "adopt.done": ("已认领 {file}{backup}。现在可以运行 xlcomplaints refresh {file}。",
                   "Adopted {file}{backup}. You can now run xlcomplaints refresh {file}."),
    "standalone.written": ("已写入 {target}，内嵌 xlwings {version} 的 VBA。使用它的电脑须安装同一版本：pip install xlwings=={version}",
                           "Wrote {target} with xlwings {version}'s VBA embedded. PCs using it need the same version: "
                           "pip install xlwings=={version}"),
    "standalone.same_file": ("请写到另一个文件", "Write to a different file"),
    "standalone.needs_xlwings": ("需要先安装 xlwings：pip install xlcomplaints[excel]（{detail}）",
                                 "xlwings is needed: pip install xlcomplaints[excel] ({detail})"),
    "report.is_folder": ("{file} 是文件夹；report 只读一个网点工作簿，多个网点请用：xlcomplaints consolidate {file} "
                         "--period {month} -o …",
                         "{file} is a folder; report reads one branch workbook. For many branches: xlcomplaints "
                         "consolidate {file} --period {month} -o …"),
    "report.reading": ("读取工作簿", "Reading workbooks"),
    "report.writing": ("生成报表", "Writing the report"),
    "report.nothing_read": ("无法读取", "Nothing could be read"),
    "report.no_input": ("没有可用的输入，未生成报表。", "No input could be used; no report written."),
    "report.cannot_update": ("无法 --update: {detail}", "Cannot --update: {detail}"),
    "report.wrote": ("已写入 {output}：{month}，{branches} 个网点，{this}受理 {received} 宗（读入 {read} 宗）",
                     "Wrote {output}: {month}, {branches} branch(es), {received} received in the {this} "
                     "({read} complaints read)"),
    "report.left_out": ("，{n} 个文件未能计入", ", {n} file(s) left out"),
    "report.carried": ("，{n} 个网点沿用上次数据", ", {n} kept from the last run"),
    "report.issues": ("；问题 {n} 条（错误 {errors}），见“问题清单”。", "; {n} issue(s) ({errors} errors) on the Issues sheet."),
    "end": ("。", "."),
    "scan.listed": ("{line}：", "{line}:"),
    "scan.hint": ("{line}（加 --verbose 逐个列出）。", "{line} (--verbose lists them)."),
    "demo.branch": (": {outcome}{errors} 个录入错误待修正（已按 {now} 刷新）",
                    ": {outcome} {errors} typing errors to fix (refreshed as of {now})"),
    "demo.report_file": ("月报-2026-10.xlsx", "report-2026-10.xlsx"),
    "demo.report": (": 十月合并月报：{branches} 个网点，{issues} 条输入问题列在“问题清单”表",
                    ": October report for {branches} branches; {issues} input problems on the Issues sheet"),
    "demo.open_first": ("先看这里：用 Excel 打开 {report}（“封面”是本月要点），再打开 {branch} 的“逾期清单”表，"
                        "看哪些环节已逾期、由谁处理。",
                        "Open first: {report} in Excel (the Cover has the month's headline figures), then the "
                        "Overdue sheet of {branch} to see which stages are late and who handles them."),
    "level.error": ("错误", "error"),
    "level.warning": ("警告", "warning"),
}


def _level(p: Problem, lang: str) -> str:
    return say(SAID["level.error" if p.level is Level.ERROR else "level.warning"], lang)


def show_problems(problems: list[Problem], lang: str, title: str) -> None:
    if not problems:
        return
    problems = in_sheet_order(problems)
    if not console.is_terminal:  # a log file or a scheduled job: one problem per line, never wrapped
        for p in problems:
            where = "!".join(x for x in (p.sheet, p.cell) if x)
            column = f" {p.column}" if p.column else ""
            value = pick(lang, f" “{p.value}”", f' "{p.value}"') if p.value else ""
            console.print(f"{title}: {_level(p, lang)} {where}{column}{value}: {p.message(lang)}",
                          highlight=False, soft_wrap=True)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for heading in PROBLEMS.columns:
        table.add_column(heading.label(lang), overflow="fold")
    for p in problems:
        style = "red" if p.level is Level.ERROR else "yellow"
        table.add_row(Text(_level(p, lang), style=style), p.sheet or "", p.cell or "", p.column or "",
                      p.value or "", p.message(lang))
    console.print(table)
