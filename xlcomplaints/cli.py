"""The ``xlcomplaints`` command: thin over the flows; shows problems in the user's language.

Exit codes: 0 clean, 1 problems found (validate), 2 the file could not be used.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from xlcomplaints.cli_help import chosen_lang, metavar, plain_help, usage_error
from xlcomplaints.cli_help import text as help_text
from xlcomplaints.console import console, err, print_refusal, show_problems
from xlcomplaints.core import cells
from xlcomplaints.core.problems import Level, in_sheet_order, register_messages
from xlcomplaints.flows import FlowResult, assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

#: The language of --help, chosen before the commands are built (cli_help says how).
HELP_LANG = chosen_lang(sys.argv[1:], os.environ)


def H(key: str) -> str:
    return help_text(key, HELP_LANG)


def MV(key: str) -> str:
    return metavar(key, HELP_LANG)


class _UsageError(click.exceptions.UsageError):
    """Typer's usage error (a missing option, an unknown command…) said as every refusal is."""

    def show(self, file: Any = None) -> None:
        command = self.ctx.command_path if self.ctx is not None else "xlcomplaints"
        # a usage error comes before any command has chosen its language: the run's (as for --help)
        print_refusal(usage_error(self.message, command, HELP_LANG), HELP_LANG)


def _local(e: click.exceptions.UsageError) -> _UsageError:
    return _UsageError(e.format_message(), e.ctx)


class _Plain:
    """Help that reads plainly in the run's language (cli_help.plain_help), and usage errors said as
    refusals in that language, for a command and for a group alike."""

    def get_help(self, ctx: click.Context) -> str:
        return plain_help(super().get_help(ctx), HELP_LANG)  # type: ignore[misc]

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)  # type: ignore[misc]
        except click.exceptions.UsageError as e:
            raise _local(e) from None


class _Command(_Plain, TyperCommand):
    pass


class _Group(_Plain, TyperGroup):
    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as e:
            raise _local(e) from None


app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, cls=_Group,
                  pretty_exceptions_enable=False, help=H("app"))

Lang = Annotated[str | None, typer.Option("--lang", help=H("lang"), metavar=MV("lang"), show_default=False)]
Now = Annotated[str | None, typer.Option("--now", help=H("now"), metavar=MV("time"))]
BranchCode = Annotated[str, typer.Option("--branch-code", help=H("branch_code"), metavar=MV("code"))]
BranchName = Annotated[str, typer.Option("--branch-name", help=H("branch_name"), metavar=MV("name"))]
Force = Annotated[bool, typer.Option("--force", help=H("force"))]
WorkbookArg = Annotated[Path, typer.Argument(help=H("workbook"), metavar=MV("file"), show_default=False)]


def _show_version(value: bool) -> None:
    """``--version``: the package and the template versions it writes and reads, then stop."""
    if not value:
        return
    from xlcomplaints import __version__
    from xlcomplaints.spec import BRANCH_TEMPLATE_VERSION, REPORT_TEMPLATE_VERSION
    console.print(f"xlcomplaints {__version__} (branch workbook template {BRANCH_TEMPLATE_VERSION}, "
                  f"monthly report template {REPORT_TEMPLATE_VERSION})", highlight=False, soft_wrap=True)
    raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help=H("version"))] = False,
          lang: Lang = None) -> None:
    global _session_lang
    _session_lang = _lang(lang) if lang is not None else None


#: --lang given before the subcommand (``xlcomplaints --lang en validate …``).
_session_lang: str | None = None


def _lang(lang: str | None) -> str:
    """The run's language: the command's --lang, else one given before the subcommand, else
    XLCOMPLAINTS_LANG or the system locale (cli_help.chosen_lang); zh and en only."""
    if lang is None:
        lang = _session_lang or chosen_lang((), os.environ)
    if lang not in ("zh", "en"):
        _refuse("--lang 只能是 zh 或 en / --lang must be zh or en", "zh")  # which language is unknown: both
    return lang


def _new_file(out: Path, suffix: str, branch_code: str, force: bool, zh: bool) -> None:
    """Refuse, with a sentence, what ``new`` cannot make well: another suffix (.xlsm without the
    buttons, .xls holding xlsx), a folder that does not exist, a blank branch code, a file there."""
    problem = None
    if out.suffix.lower() != suffix:
        problem = (f"文件名须以 {suffix} 结尾" + ("；带按钮的 .xlsm 请用 xlcomplaints excel new" if suffix == ".xlsx" else "")
                   if zh else f"The file name must end in {suffix}"
                   + ("; for the workbook with buttons (.xlsm) use xlcomplaints excel new" if suffix == ".xlsx" else ""))
    elif not out.parent.is_dir():
        problem = f"文件夹 {out.parent} 不存在" if zh else f"The folder {out.parent} does not exist"
    elif not branch_code.strip():
        problem = "--branch-code 不能为空（投诉编号以它开头）" if zh else "--branch-code cannot be blank (complaint numbers start with it)"
    elif out.exists() and not force:
        problem = f"{out} 已存在（用 --force 覆盖）" if zh else f"{out} exists (use --force to overwrite)"
    if problem:
        _refuse(problem, "zh" if zh else "en")


def _now(text: str | None, lang: str) -> datetime:
    if not text:
        return datetime.now().replace(microsecond=0)
    try:
        value = cells.parse_datetime(text)
    except cells.CellError:
        value = None
    if value is None:
        _refuse("无法识别 --now 的时间，请写成 2026-11-22 09:00" if lang == "zh"
                else 'Cannot read --now; write it like "2026-11-22 09:00"', lang)
    return value


def _refuse(message: str, lang: str) -> NoReturn:
    """Stop the command with one sentence, in the style of every refusal (console.REFUSAL_PREFIX)."""
    print_refusal(message, lang)
    raise typer.Exit(2)


def _fail(e: WorkbookError, lang: str) -> NoReturn:
    _refuse(e.message(lang), lang)


register_messages({
    "file.no_memory": ("内存不足，无法读取 {path}；请关闭其他程序后再试，或把早年的记录另存到别的工作簿。",
                       "Not enough memory to read {path}; close other programs and try again, or move earlier "
                       "years' records to another workbook."),
    "report.no_memory": ("内存不足，无法生成报表 {path}；请关闭其他程序后再试，或减少 --workers。",
                         "Not enough memory to make the report {path}; close other programs and try again, or "
                         "give fewer --workers."),
    "run.no_memory": ("内存不足，xlcomplaints 无法完成这次运行；请关闭其他程序后再试。",
                      "Not enough memory for xlcomplaints to finish this run; close other programs and try again."),
    "file.saved_unreported": ("{path} 已保存，但结果无法显示（{detail}）；运行 xlcomplaints validate {path} 可再次列出问题。",
                              "{path} is saved, but the result could not be shown ({detail}); xlcomplaints validate "
                              "{path} lists the problems again."),
})


@contextmanager
def _memory(file: Path, lang: str, code: str = "file.no_memory") -> Iterator[None]:
    """Running out of memory on a file is a refusal naming it (exit 2), not a bug to report."""
    try:
        yield
    except MemoryError:
        _fail(WorkbookError(code, path=file.name), lang)


@contextmanager
def _after_save(file: Path, lang: str, saved: bool) -> Iterator[None]:
    """What a command prints once it has saved: should that fail (out of memory listing a huge
    register's problems, a closed pipe), the file is saved all the same, and the command says so
    and ends with success, never as an internal error."""
    try:
        yield
    except (Exception, MemoryError) as e:
        if not saved or isinstance(e, typer.Exit):
            raise
        detail = type(e).__name__
        del e  # the exception (and the frames holding large lists) goes before anything is printed
        with suppress(Exception):  # stderr is gone too: the exit code still says it saved
            err.print(WorkbookError("file.saved_unreported", path=file.name, detail=detail).message(lang),
                      highlight=False, soft_wrap=True)


def _open(file: Path, lang: str) -> FileWorkbook:
    """Open a workbook, saying what an interrupted run had left beside it and was cleared away."""
    wb = FileWorkbook(file, tidy=True)
    for done in wb.tidied:
        err.print(done.message(lang), highlight=False)
    return wb


def _counts(result: FlowResult, lang: str) -> str:
    if lang == "zh":
        return f"{result.errors} 个错误，{result.warnings} 个警告"
    return f"{result.errors} error(s), {result.warnings} warning(s)"


@app.command(cls=_Command, help=H("new"))
def new(
    out: Annotated[Path, typer.Argument(help=H("new.out"), metavar=MV("xlsx"), show_default=False)],
    branch_code: BranchCode,
    branch_name: BranchName = "",
    lang: Lang = None,
    force: Force = False,
) -> None:
    from xlcomplaints.api import new_workbook

    lang = _lang(lang)
    _new_file(out, ".xlsx", branch_code, force, lang == "zh")
    try:
        new_workbook(out, branch_code=branch_code, branch_name=branch_name, lang=lang, overwrite=force)
    except FileExistsError:  # made meanwhile
        _refuse(f"{out} 已存在（用 --force 覆盖）" if lang == "zh" else f"{out} exists (use --force to overwrite)",
                lang)
    console.print(f"已创建 {out}" if lang == "zh" else f"Created {out}")


@app.command(cls=_Command, help=H("validate"))
def validate(
    file: WorkbookArg,
    lang: Lang = None,
    as_json: Annotated[bool, typer.Option("--json", help=H("json"))] = False,
    now: Now = None,
) -> None:
    lang = _lang(lang)
    try:
        with _memory(file, lang):
            result = validate_flow(_open(file, lang), now=_now(now, lang), lang=lang)
    except WorkbookError as e:
        if as_json:
            print(json.dumps({"file": str(file), "error": e.code, "message": e.message(lang)}, ensure_ascii=False))
            raise typer.Exit(2) from None
        _fail(e, lang)
    if as_json:
        print(json.dumps([p.to_json(lang) for p in in_sheet_order(result.problems)], ensure_ascii=False, indent=1))
    else:
        show_problems(result.problems, lang, file.name)
        ok = "没有发现问题" if lang == "zh" else "No problems found"
        console.print(f"{file.name}: {_counts(result, lang) if result.problems else ok}")
    raise typer.Exit(1 if result.problems else 0)


@app.command(cls=_Command, help=H("refresh"))
def refresh(
    file: WorkbookArg,
    now: Now = None,
    lang: Lang = None,
    policy: Annotated[Path | None, typer.Option("--policy", help=H("policy"), metavar=MV("toml"))] = None,
) -> None:
    from xlcomplaints.core.policy import PolicyFileError, load_policy_file

    lang = _lang(lang)
    try:
        rules = load_policy_file(policy, lang) if policy else None
        with _memory(file, lang):
            result = refresh_flow(_open(file, lang), now=_now(now, lang), lang=lang, policy=rules)
    except (WorkbookError, PolicyFileError) as e:
        _fail(e, lang)  # type: ignore[arg-type]
    with _after_save(file, lang, result.changed):
        show_problems(result.problems, lang, file.name)
        assert result.plan is not None
        zh = lang == "zh"
        console.print(
            f"{file.name}{'：' if zh else ': '}{result.plan.outcome(lang)}"
            + ((" 已保存。" if zh else " Saved.") if result.changed else (" 无变化。" if zh else " Nothing changed."))
        )


@app.command("assign-ids", cls=_Command, help=H("assign_ids"))
def assign_ids(
    file: WorkbookArg,
    now: Now = None,
    lang: Lang = None,
) -> None:
    lang = _lang(lang)
    try:
        with _memory(file, lang):
            result = assign_ids_flow(_open(file, lang), now=_now(now, lang), lang=lang)
    except WorkbookError as e:
        _fail(e, lang)
    with _after_save(file, lang, result.changed):
        for row, no in sorted(result.assigned.items()):
            console.print(f"  {'第' if lang == 'zh' else 'row '}{row}{'行' if lang == 'zh' else ''}: {no}")
        for p in result.skipped:  # never a silent gap: each row left without a number, and why
            console.print(f"  {p.message(lang)}", highlight=False, soft_wrap=True)
        n, s = len(result.assigned), len(result.skipped)
        console.print((f"已编号 {n} 宗" + (f"，{s} 宗未编号（见上）" if s else "") + "。") if lang == "zh" else
                      f"Numbered {n} complaint(s)" + (f"; {s} left without a number (see above)" if s else "") + ".")


@app.command(cls=_Command, help=H("form"))
def form(
    file: WorkbookArg,
    numbers: Annotated[list[str], typer.Argument(help=H("form.numbers"), metavar=MV("numbers"), show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help=H("form.output"), metavar=MV("out"))] = None,
    mask: Annotated[bool, typer.Option("--mask", help=H("mask"))] = False,
    now: Now = None,
    lang: Lang = None,
) -> None:
    from xlcomplaints.form.run import form_flow, outcome_lines

    lang = _lang(lang)
    try:
        with _memory(file, lang):
            result = form_flow(_open(file, lang), numbers, output, now=_now(now, lang), lang=lang, mask=mask,
                               source=file)
    except WorkbookError as e:
        _fail(e, lang)
    for line in outcome_lines(result, lang):
        console.print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if result.not_found or result.pdf_unavailable else 0)


@app.command(cls=_Command, help=H("adopt"))
def adopt(
    file: Annotated[Path, typer.Argument(help=H("adopt.file"), metavar=MV("file"), show_default=False)],
    lang: Lang = None,
) -> None:
    from xlcomplaints.spec import branch as B
    from xlcomplaints.workbook.adopt import adopt as adopt_workbook
    from xlcomplaints.workbook.adopt import kinds_titles
    from xlcomplaints.workbook.reader import check_version, find_stamps

    lang = _lang(lang)
    zh = lang == "zh"
    try:
        try:
            stamp, sheets = find_stamps(FileWorkbook(file))
        except WorkbookError as e:
            if e.code != "file.not_ours":
                raise
        else:  # stamped: a newer or other template is not ours to restamp
            check_version(stamp, B.BRANCH_TEMPLATE_KIND, B.BRANCH_TEMPLATE_VERSION, file.name)
            if "register" in sheets:
                console.print(f"{file.name} 已是 xlcomplaints 工作簿，无需认领。" if zh else
                              f"{file.name} is already an xlcomplaints workbook; nothing to do.", highlight=False)
                return
        result = adopt_workbook(file)
    except WorkbookError as e:
        _fail(e, lang)
    how = {"stamp": ("原有标记", "its stamp"), "title": ("按表名", "by its title"),
           "headers": ("按表头", "by its headers")}
    specs = {spec.kind: spec for spec in B.BRANCH_SHEETS}
    for kind, sheet in result.sheets.items():
        said = how[result.how[kind]][0 if zh else 1]
        console.print(f"  {specs[kind].title(lang)}: “{sheet}”（{said}）" if zh else
                      f"  {specs[kind].title(lang)}: '{sheet}' ({said})", highlight=False)
    if result.missing:
        missing = kinds_titles(result.missing, lang)
        console.print(f"  未找到：{missing}" if zh else f"  Not found: {missing}", highlight=False)
    backup = f"（备份：{result.backup.name}）" if zh and result.backup else (
        f" (backup: {result.backup.name})" if result.backup else "")
    console.print(f"已认领 {file.name}{backup}。现在可以运行 xlcomplaints refresh {file.name}。" if zh else
                  f"Adopted {file.name}{backup}. You can now run xlcomplaints refresh {file.name}.",
                  highlight=False, soft_wrap=True)


@app.command(cls=_Command, help=H("demo"))
def demo(
    directory: Annotated[Path, typer.Argument(help=H("demo.dir"), metavar=MV("dir"))] = Path("demo-output"),
    lang: Lang = None,
) -> None:
    from xlcomplaints.demo import run_demo

    run_demo(directory, lang=_lang(lang), console=console)


excel_app = typer.Typer(no_args_is_help=True, cls=_Group, help=H("excel"))
app.add_typer(excel_app, name="excel")


@excel_app.command("new", cls=_Command, help=H("excel_new"))
def excel_new(
    out: Annotated[Path, typer.Argument(help=H("excel_new.out"), metavar=MV("xlsm"), show_default=False)],
    branch_code: BranchCode,
    branch_name: BranchName = "",
    lang: Lang = None,
    standalone: Annotated[bool, typer.Option("--standalone", help=H("standalone"))] = False,
    force: Force = False,
) -> None:
    from xlcomplaints.core.models import Settings
    from xlcomplaints.templates.macro import build_branch_xlsm, installed_xlwings_vba

    lang = _lang(lang)
    zh = lang == "zh"
    _new_file(out, ".xlsm", branch_code, force, zh)
    settings = Settings(branch_code=branch_code, branch_name=branch_name, language=lang)
    try:
        build_branch_xlsm(out, lang=lang, settings=settings, standalone=standalone, created=None)
    except LookupError as e:  # --standalone without xlwings installed
        _refuse(str(e), lang)
    if standalone:
        _standalone_written(out, installed_xlwings_vba().version, zh)
    else:
        console.print(f"已创建 {out}" if zh else f"Created {out}")


def _standalone_written(target: Path, version: str, zh: bool) -> None:
    """Which xlwings a standalone workbook embeds: the PCs using it need that very version."""
    console.print(
        f"已写入 {target}，内嵌 xlwings {version} 的 VBA。使用它的电脑须安装同一版本：pip install xlwings=={version}"
        if zh else f"Wrote {target} with xlwings {version}'s VBA embedded. PCs using it need the same version: "
        f"pip install xlwings=={version}", highlight=False, soft_wrap=True)


@excel_app.command("standalone", cls=_Command, help=H("excel_standalone"))
def excel_standalone(
    source: Annotated[Path, typer.Argument(help=H("excel_standalone.source"), metavar=MV("xlsm"), show_default=False)],
    target: Annotated[Path, typer.Argument(help=H("excel_standalone.target"), metavar=MV("xlsm"), show_default=False)],
    lang: Lang = None,
    force: Force = False,
) -> None:
    from xlcomplaints.templates.macro import StandaloneError, make_standalone

    lang = _lang(lang)
    zh = lang == "zh"
    if target.exists() and not force:
        _refuse(f"{target} 已存在（用 --force 覆盖）" if zh else f"{target} exists (use --force to overwrite)", lang)
    if target.resolve() == source.resolve():
        _refuse("请写到另一个文件" if zh else "Write to a different file", lang)
    try:
        version = make_standalone(source, target)
    except LookupError as e:  # xlwings missing: its VBA comes from the installed package
        _refuse(("需要先安装 xlwings：pip install xlcomplaints[excel]（" if zh else
                 "xlwings is needed: pip install xlcomplaints[excel] (") + f"{e})", lang)
    except (StandaloneError, OSError) as e:
        _refuse(e.message(lang) if isinstance(e, StandaloneError) else str(e), lang)
    except WorkbookError as e:  # over the size limits every command applies (workbook.limits)
        _fail(e, lang)
    _standalone_written(target, version, zh)


# --------------------------------------------------------------------------- monthly report
MonthOpt = Annotated[str, typer.Option("--month", help=H("month"), metavar=MV("month"))]
Output = Annotated[Path, typer.Option("-o", "--output", help=H("output"), metavar=MV("xlsx"))]
AsOf = Annotated[str | None, typer.Option(
    "--now", help=H("as_of"), metavar=MV("time"))]
ShowContacts = Annotated[bool, typer.Option("--show-contacts", help=H("show_contacts"))]
History = Annotated[list[Path] | None, typer.Option(
    "--history", help=H("history"), metavar=MV("file"))]


def _run_report(inputs: list[Path], month: str, output: Path, lang: str | None, now: str | None, show_contacts: bool,
                history: list[Path] | None, *, consolidate: bool, update: bool = False,
                workers: int | None = None, verbose: bool = False) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from xlcomplaints.core.metrics import Month
    from xlcomplaints.report.run import NothingRead, make_report
    from xlcomplaints.report.state import StateError

    lang = _lang(lang)
    zh = lang == "zh"
    try:
        m = Month.parse(month)
    except ValueError:
        _refuse("无法识别 --month，请写成 2026-10" if zh else "Cannot read --month; write it like 2026-10", lang)
    as_of = _now(now, lang) if now else None
    if consolidate:
        _scanned(inputs, lang, verbose)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, transient=True, disable=not consolidate)
    task = progress.add_task("读取工作簿" if zh else "Reading workbooks", total=None)

    def read_one(_: object) -> None:
        progress.advance(task)
        if progress.tasks[0].finished:  # the rest (merge, compute, write) is the main process's alone
            progress.update(task, description="生成报表" if zh else "Writing the report")

    try:
        with progress, _memory(output, lang, "report.no_memory"):
            result = make_report(
                inputs, m, output, lang=lang, as_of=as_of, show_contacts=show_contacts, consolidate=consolidate,
                workers=workers, update=update, history=history or [],
                on_start=lambda n: progress.update(task, total=n), on_file=read_one)
    except NothingRead as e:
        show_problems(e.issues, lang, "无法读取" if zh else "Nothing could be read")
        _refuse("没有可用的输入，未生成报表。" if zh else "No input could be used; no report written.", lang)
    except StateError as e:
        _refuse(f"{'无法 --update' if zh else 'Cannot --update'}: {e}", lang)
    except WorkbookError as e:  # the report itself cannot be written
        _fail(e, lang)
    rep, merged = result.report, result.consolidation
    errors = sum(p.level is Level.ERROR for p in rep.issues)
    received = int(rep.value("received") or 0)
    line = (f"已写入 {output}：{m.label('zh')}，{len(merged.branches)} 个网点，本月受理 {received} 宗"
            f"（读入 {len(merged.cases)} 宗）" if zh else
            f"Wrote {output}: {m.label('en')}, {len(merged.branches)} branch(es), {received} received in the month "
            f"({len(merged.cases)} complaints read)")
    if merged.unreadable:
        line += f"，{merged.unreadable} 个文件未能计入" if zh else f", {merged.unreadable} file(s) left out"
    if merged.carried:
        line += f"，{len(merged.carried)} 个网点沿用上次数据" if zh else f", {len(merged.carried)} kept from the last run"
    line += (f"；问题 {len(rep.issues)} 条（错误 {errors}），见“问题清单”。" if zh else
             f"; {len(rep.issues)} issue(s) ({errors} errors) on the Issues sheet.") if rep.issues else "。" if zh else "."
    console.print(line, highlight=False, soft_wrap=True)


def _scanned(inputs: list[Path], lang: str, verbose: bool) -> None:
    """Refuse folders holding no workbook, saying what was looked for; count the files passed
    over in one line (each listed with ``verbose``)."""
    from xlcomplaints.report.consolidate import (
        none_found,
        passed_over_line,
        passed_over_lines,
        scan_inputs,
    )

    scan = scan_inputs(inputs)
    if not scan.files:
        _refuse(none_found(scan, lang), lang)
    line = passed_over_line(scan, lang)
    if not line:
        return
    line = line[0].upper() + line[1:]
    if verbose:
        console.print(line + ("：" if lang == "zh" else ":"), highlight=False, soft_wrap=True)
        for each in passed_over_lines(scan, lang):
            console.print(each, highlight=False, soft_wrap=True)
    else:
        console.print(line + ("（加 --verbose 逐个列出）。" if lang == "zh" else " (--verbose lists them)."),
                      highlight=False, soft_wrap=True)


@app.command(cls=_Command, help=H("report"))
def report(
    file: WorkbookArg,
    month: MonthOpt,
    output: Output,
    lang: Lang = None,
    now: AsOf = None,
    show_contacts: ShowContacts = False,
    history: History = None,
) -> None:
    if file.is_dir():  # a folder of branches is a consolidation
        lang = _lang(lang)
        _refuse(f"{file} 是文件夹；report 只读一个网点工作簿，多个网点请用：xlcomplaints consolidate {file} "
                f"--month {month} -o …" if lang == "zh" else f"{file} is a folder; report reads one branch workbook. "
                f"For many branches: xlcomplaints consolidate {file} --month {month} -o …", lang)
    _run_report([file], month, output, lang, now, show_contacts, history, consolidate=False)


@app.command(cls=_Command, help=H("consolidate"))
def consolidate(
    inputs: Annotated[list[Path], typer.Argument(help=H("consolidate.inputs"), metavar=MV("inputs"), show_default=False)],
    month: MonthOpt,
    output: Output,
    lang: Lang = None,
    now: AsOf = None,
    show_contacts: ShowContacts = False,
    history: History = None,
    update: Annotated[bool, typer.Option(
        "--update", help=H("update"))] = False,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help=H("workers"), metavar=MV("n"))] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help=H("verbose"))] = False,
) -> None:
    _run_report(inputs, month, output, lang, now, show_contacts, history, consolidate=True, update=update,
                workers=workers, verbose=verbose)


def main() -> None:
    """Console entry point: a bug in xlcomplaints is reported in one line, never as a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except MemoryError:  # a command that knows its file says so itself (_memory); this is the rest
        print_refusal(WorkbookError("run.no_memory").message(HELP_LANG), HELP_LANG)
        sys.exit(2)
    except Exception as e:  # last resort; every expected failure is a WorkbookError or a Problem
        err.print(f"xlcomplaints 内部错误 / internal error: {type(e).__name__}: {e}", highlight=False)
        err.print("请把此信息和文件发给维护人员 / please report this with the file.", highlight=False)
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
