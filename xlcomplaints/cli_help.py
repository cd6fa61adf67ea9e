"""What ``xlcomplaints --help`` says, in Chinese and English, and which of the two a run speaks.

The language is chosen once per run, before the commands are built (their help is fixed then):
``--lang`` anywhere on the command line (before or after the subcommand), else the
``XLCOMPLAINTS_LANG`` environment variable, else the system locale (Chinese for ``zh_*``),
else Chinese — the offices' language.
"""

from __future__ import annotations

import locale
import re
import sys
from collections.abc import Mapping, Sequence

from xlcomplaints.i18n import Lang, pick, say

LANGS = ("zh", "en")


def chosen_lang(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language of this run (see the module's docstring); an unknown ``--lang`` is left to the
    command, which refuses it in both languages."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in LANGS else "zh"
        if arg.startswith("--lang="):
            value = arg.partition("=")[2]
            return value if value in LANGS else "zh"
    env = environ.get("XLCOMPLAINTS_LANG", "").strip().lower()
    if env in LANGS:
        return env
    return _locale_lang(environ)


def _locale_lang(environ: Mapping[str, str]) -> str:
    """Chinese for a zh_* locale, English for another named one, Chinese when none is named (C, POSIX)."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        if value:
            return _lang_of(value)
    if sys.platform == "win32":  # Windows names its locale in the system, not in the environment
        try:
            return _lang_of(locale.getlocale()[0] or "")
        except ValueError:
            pass
    return "zh"


def _lang_of(name: str) -> str:
    low = name.lower()
    if low.startswith(("zh", "chinese")):
        return "zh"
    if not low or low in ("c", "posix") or low.startswith("c."):
        return "zh"
    return "en"


#: Every help text of the command line: key → (zh, en).
HELP: dict[str, tuple[str, str]] = {
    "app": ("Excel 投诉登记表：模板、校验、时限与逾期、月报。",
            "Complaint registers in Excel: templates, validation, deadlines, reports."),
    "version": ("显示程序与模板版本后退出", "Show the package and template versions and exit"),
    "lang": ("界面与工作簿语言：zh 或 en", "Language of messages and workbooks: zh or en"),
    "now": ("按此时间判断逾期，如 \"2026-11-22 09:00\"（默认：现在）",
            'As-of time, e.g. "2026-11-22 09:00" (default: now)'),
    "branch_code": ("网点代码，投诉编号以它开头，如 BJ01", "Branch code that complaint numbers start with, e.g. BJ01"),
    "branch_name": ("网点名称，如 北京一店", "Branch name, e.g. 北京一店"),
    "force": ("覆盖已有文件", "Overwrite an existing file"),
    "workbook": ("网点工作簿（.xlsx 或 .xlsm）", "Branch workbook (.xlsx or .xlsm)"),
    "new": ("按当前模板新建网点工作簿。", "Create a new branch workbook from the current template."),
    "new.out": ("要新建的工作簿（.xlsx）", "The workbook to create (.xlsx)"),
    "validate": ("逐格列出所有问题。退出码：0 无问题，1 有问题，2 文件无法使用。",
                 "List every problem, located to the cell. Exit 0 clean, 1 problems, 2 unreadable."),
    "json": ("以 JSON 输出问题（供程序读取）", "Print problems as JSON (for programs)"),
    "refresh": ("计算各环节时限与状态，重建“逾期清单”和“汇总”表；只写入本工具负责的单元格。",
                "Compute due times and statuses; rebuild the Overdue and Summary sheets. Writes only what it owns."),
    "policy": ("总部的规则文件（TOML）：其时限规则和列表（[lists]）代替工作簿里的",
               "Head office's rules file (TOML): its SLA rules and lists ([lists]) replace the workbook's"),
    "preset": ("行业预设：property（物业，默认）、dealer（汽车4S）、retail（零售连锁）、telecom（电信）、insurer（保险）、"
               "courier（快递）、dairy（乳业）、lawfirm（律所）、manufacturer（制造）；其列表写入“词表”，时限写入“设置”",
               "Industry preset: property (default), dealer (car 4S), retail (chain), telecom, insurer, courier, "
               "dairy, lawfirm, manufacturer; its lists go on Lists, its limits on Settings"),
    "assign_ids": ("按“设置”中的编号规则为未编号的投诉编号；已有编号不变。",
                   "Fill missing complaint numbers from the workbook's pattern; existing numbers never change."),
    "adopt": ("重新标记模板印记丢失的网点工作簿（另存为 .xls 或经其他程序保存后），或认领按本工具列名手工制作的登记表；"
              "保留备份。",
              "Restamp a branch workbook whose hidden template stamp was lost (saved as .xls or by another program), "
              "or adopt a register made by hand from our column names. A backup is kept."),
    "adopt.file": ("模板印记丢失的网点工作簿（.xlsx 或 .xlsm）",
                   "Branch workbook (.xlsx or .xlsm) whose template stamp was lost"),
    "upgrade": ("把旧模板版本的网点工作簿就地升级到当前模板；本单位的数据、列、表和宏原样保留，并留备份。",
                "Bring a branch workbook of an older template version up to the current one: new sheets, settings, "
                "dropdowns and the like as the current template has them; the office's data, own columns, sheets, "
                "charts, buttons and macros kept as they are. Saved in place, with a backup."),
    "upgrade.dry_run": ("只列出将要做的更改，不写入", "List what would change; write nothing"),
    "demo": ("生成示例网点工作簿，校验、刷新并合并十月月报，显示各文件位置。",
             "Generate sample branch workbooks, validate and refresh them, consolidate October's report, "
             "and say where each file is."),
    "demo.dir": ("示例文件写到哪个文件夹", "Where to write the sample workbooks"),
    "excel": ("带按钮的工作簿：在 Excel 里点按钮运行同样的命令。",
              "Workbooks with buttons that run these commands inside Excel."),
    "excel_new": ("新建带按钮（刷新逾期、校验、编号、月报）的网点工作簿。",
                  "Create a branch workbook with the buttons (刷新逾期, 校验, 编号, 月报)."),
    "excel_new.out": ("要新建的启用宏的工作簿（.xlsm）", "The macro-enabled workbook to create (.xlsm)"),
    "standalone": ("内嵌 xlwings 的 VBA（无需安装加载项）", "Embed xlwings' VBA (no add-in needed)"),
    "excel_standalone": ("复制一份内嵌本机 xlwings VBA 的工作簿，供未装加载项的电脑使用。",
                         "Copy a workbook with the installed xlwings' VBA module embedded, for PCs without the add-in."),
    "excel_standalone.source": ("由 xlcomplaints 生成的宏工作簿（.xlsm）", "A macro workbook made by xlcomplaints (.xlsm)"),
    "excel_standalone.target": ("内嵌版写到哪里（.xlsm）", "Where to write the standalone copy (.xlsm)"),
    "report": ("一个网点的报表：月报，或 --period 给出的周、季、年及任意日期段。写出即退出码 0（输入问题列在“问题清单”表），无法读取为 2。",
               "One branch's report: monthly, or the week, quarter, year or run of days --period gives. Exit 0 when written (problems go to its Issues sheet), 2 if unreadable."),
    "consolidate": ("多个网点合并为一份报表（月报，或 --period 给出的期间；并行读取）；无法使用的文件列在“问题清单”表。"
                    "写出即退出码 0，没有任何可用输入为 2。",
                    "One report (monthly, or the period --period gives) from many branches, read in parallel; unusable files go to the Issues sheet. "
                    "Exit 0 when the report is written, 2 when no input could be used."),
    "consolidate.inputs": ("网点工作簿，或存放它们的文件夹；也可点名给出区域的同期汇总月报（或其 .facts 汇总数据目录）",
                           "Branch workbooks, or folders of them; also a region's consolidated report of the same "
                           "period (or its .facts store folder), given by name"),
    "month": ("报表月份，写成 YYYY-MM，如 2026-10（同 --period 2026-10）",
              "The month to report, YYYY-MM, e.g. 2026-10 (the same as --period 2026-10)"),
    "period": ("统计期间：月 2026-10、周 2026-W43（ISO 周，周一起）、季度 2026-Q4 或年 2026",
               "The period to report: a month 2026-10, an ISO week 2026-W43 (from Monday), a quarter 2026-Q4 or a "
               "year 2026"),
    "from": ("自定义期间的第一天，如 2026-10-19（与 --to 一起用）",
             "First day of a custom period, e.g. 2026-10-19 (with --to)"),
    "to": ("自定义期间的最后一天（含），如 2026-10-25", "Last day of a custom period (included), e.g. 2026-10-25"),
    "output": ("要写出的月报工作簿（.xlsx）", "The report workbook to write (.xlsx)"),
    "as_of": ("按此时间判断逾期，如 \"2026-11-01 00:00\"（默认：期末；该期未结束则为现在）",
              'As-of time for overdue statuses, e.g. "2026-11-01 00:00" (default: the end of the period, '
              "or now if the period is not over)"),
    "show_contacts": ("显示完整电话号码（默认隐去中间四位）", "Show full phone numbers (masked by default)"),
    "history": ("以前的月报（文件或文件夹，可重复）或往期的 .facts 汇总数据目录，用于趋势和输入中已没有的上期数据；"
                "报表旁有同次汇总的数据目录时从目录计算。与本报表同名、只是期间不同的往期数据目录（如 group-2026-10.xlsx 的 "
                "group-2026-09.facts），在报表旁或 --store 文件夹中的，无需此项即自动采用",
                "Earlier reports (files or folders of them, repeatable) or earlier periods' .facts store folders, for "
                "trend periods and last period's figures the inputs no longer hold; a report with its run's store "
                "beside it is computed from the store. Earlier periods' stores named as this report with their period "
                "(group-2026-09.facts for group-2026-10.xlsx), beside it or in --store, are used without it"),
    "update": ("只替换所给网点，其余沿用本报表上次运行的数据（报表旁的 .facts 汇总数据目录）",
               "Replace only the branches given; keep the others from the last run of this report "
               "(its .facts store folder beside it)"),
    "verbose": ("逐个列出略过的文件（备份、~$ 临时文件、其他格式的文件）",
                "List each file passed over (backups, ~$ temporary files, files of other kinds)"),
    "form": ("打印投诉处理单：每宗投诉一页 A4（投诉信息、处理时限与状态、处理过程、回访、原因与措施、签字栏）。"
             "退出码：0 已写出，1 已写出但有编号未找到或未能生成 PDF，2 一个都没找到或文件无法使用。",
             "The complaint handling form, one A4 page per complaint (facts, deadlines and statuses, steps, "
             "callbacks, root cause and action, signature boxes). Exit 0 written, 1 written but some numbers "
             "were not found or no PDF could be made, 2 none found or the file is unusable."),
    "form.numbers": ("投诉编号（可写多个）", "Complaint numbers (one or more)"),
    "form.output": ("写到哪个文件：.xlsx，或 .pdf（需安装 LibreOffice）；默认在工作簿旁边",
                    "The file to write: .xlsx, or .pdf (needs LibreOffice); default: next to the workbook"),
    "mask": ("隐去电话号码（处理单要送出网点时）", "Mask phone numbers (for forms that leave the branch)"),
    "workers": ("并行读取的进程数（默认：每个 CPU 核一个）", "Parallel readers (default: one per core)"),
    "scheduler": ("在 Dask 集群上读取文件：dask scheduler 的地址，如 tcp://192.0.2.10:8786"
                  "（需 pip install \"xlcomplaints[distributed]\"；各工作电脑须以同一路径访问文件）",
                  "Read the files on a Dask cluster: the address of its dask scheduler, e.g. tcp://192.0.2.10:8786 "
                  "(needs pip install \"xlcomplaints[distributed]\"; every worker PC must reach the files by the "
                  "same path)"),
    "store": ("汇总数据目录（供 --update、区域汇总和往期趋势使用）放在哪个文件夹：默认在报表旁边；使用 --scheduler 时各工作电脑直接写入，"
              "须是各电脑以同一路径可写的共享文件夹（或 file:// 网址）；--update 时给出同一文件夹",
              "The folder the facts store (for --update, a region's roll-up and later periods' trends) is kept in: default beside the report; with --scheduler "
              "the workers write to it themselves, so a shared folder every PC writes to by the same path (or a "
              "file:// URL); give the same folder again with --update"),
    "region_wait": ("区域汇总恰在重新汇总时，最多等它多少秒（默认 120；0 表示不等，立即停止；至多 3600）",
                    "How long to wait, at most, for a region that is consolidating again at that moment "
                    "(default 120; 0: do not wait, stop at once; at most 3600)"),
}

#: Placeholders shown for values in help: key → (zh, en). ASCII in both languages: the help's columns
#: are aligned by character count, which Chinese characters (two columns wide) would break.
METAVAR: dict[str, tuple[str, str]] = {
    "file": ("FILE", "FILE"),
    "xlsx": ("FILE.xlsx", "FILE.xlsx"),
    "xlsm": ("FILE.xlsm", "FILE.xlsm"),
    "toml": ("RULES.toml", "RULES.toml"),
    "dir": ("FOLDER", "FOLDER"),
    "inputs": ("FILE_OR_FOLDER", "FILE_OR_FOLDER"),
    "lang": ("zh|en", "zh|en"),
    "time": ("TIME", "TIME"),
    "code": ("CODE", "CODE"),
    "name": ("NAME", "NAME"),
    "month": ("YYYY-MM", "YYYY-MM"),
    "period": ("PERIOD", "PERIOD"),
    "date": ("YYYY-MM-DD", "YYYY-MM-DD"),
    "n": ("N", "N"),
    "address": ("tcp://HOST:PORT", "tcp://HOST:PORT"),
    "store": ("FOLDER_OR_URL", "FOLDER_OR_URL"),
    "seconds": ("SECONDS", "SECONDS"),
    "numbers": ("NUMBER", "NUMBER"),
    "out": ("FILE.xlsx|FILE.pdf", "FILE.xlsx|FILE.pdf"),
}


def text(key: str, lang: str) -> str:
    return pick(lang, *HELP[key])


def metavar(key: str, lang: str) -> str:
    return pick(lang, *METAVAR[key])


#: The help frame typer writes, in the run's language (its own words are English only).
_FRAME_ZH = (("Usage: ", "用法："), ("Arguments:", "参数："), ("Options:", "选项："), ("Commands:", "命令："),
             ("Show this message and exit.", "显示本帮助后退出。"), ("[OPTIONS]", "[选项]"),
             ("COMMAND [ARGS]...", "命令 [参数]..."), ("[required]", "［必填］"),
             ("[default: ", "［默认："))


def plain_help(rendered: str, lang: str) -> str:
    """Help as a clerk reads it: no type placeholders (``<path>``, ``<list[Path]>``, ``<int range>``),
    no braces around required arguments, and typer's frame in the run's language."""
    out = re.sub(r" <[A-Za-z_\[\], ]+>", "", rendered)          # " <list[Path]>", " <int range>"
    out = re.sub(r"\{([^{}\s]+)\}", r"\1", out)                  # usage line: {FILE} → FILE
    out = re.sub(r"\s*\[(?:[\d.]+<=)?x(?:[<>]=[\d.]+)?\]", "", out)  # a range ([x>=1], [0<=x<=3600]): said in words
    if lang == Lang.ZH:
        for en, zh in _FRAME_ZH:
            out = out.replace(en, zh)
        out = re.sub(r"［默认：([^\]]*)\]", r"［默认：\1］", out)
    return out


#: Typer's own usage errors (English only), said in the office's language: (pattern, zh, en).
_USAGE_ERRORS: tuple[tuple[str, str, str], ...] = (
    (r"Missing option '(?P<x>[^']+)'.*", "缺少选项 {x}", "Missing option {x}"),
    (r"Missing argument '(?P<x>[^']+)'.*", "缺少参数 {x}", "Missing argument {x}"),
    (r"No such option: (?P<x>\S+?)\.?(?:\s.*)?", "没有选项 {x}", "No such option {x}"),
    (r"No such command '(?P<x>[^']+)'.*", "没有命令 {x}", "No such command {x}"),
    (r"Got unexpected extra argument(?:s|\(s\))? \((?P<x>.*)\)", "多余的参数：{x}", "Unexpected extra argument(s): {x}"),
    (r"Option '(?P<x>[^']+)' requires an argument.*", "选项 {x} 后面要写值", "Option {x} needs a value"),
    (r"Invalid value for '(?P<x>[^']+)': (?P<why>.*)", "选项 {x} 的值无效（{why}）", "Invalid value for {x} ({why})"),
)


#: Why a value was refused (pydantic's words, in typer's message), in Chinese.
_WHY_ZH = (
    (r"Input should be greater than or equal to (\S+)", r"应不小于 \1"),
    (r"Input should be less than or equal to (\S+)", r"应不大于 \1"),
    (r"Input should be a valid integer.*", "应是整数"),
)


def usage_error(message: str, command: str, lang: str) -> str:
    """One sentence for a command line typer could not parse, with where to look for the usage."""
    said = message.strip().rstrip(".")
    for pattern, zh, en in _USAGE_ERRORS:
        if m := re.fullmatch(pattern, said, re.S):
            found = m.groupdict()
            if lang == Lang.ZH and "why" in found:
                for why, zh_why in _WHY_ZH:
                    found["why"] = re.sub(why, zh_why, found["why"])
            said = pick(lang, zh, en).format(**found)
            break
    else:
        said = say(("命令行有误：{said}", "The command line is wrong: {said}"), lang, said=said)
    return say(("{said}。用法见 {command} --help", "{said}. See {command} --help"), lang, said=said, command=command)
