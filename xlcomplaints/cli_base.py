"""What every command of the ``xlcomplaints`` command line shares: the app, the help language, the
options, and how a command refuses, fails, opens a workbook and says what it saved."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from xlcomplaints.cli_help import chosen_lang, metavar, plain_help, usage_error
from xlcomplaints.cli_help import text as help_text
from xlcomplaints.console import SAID, console, err, print_error, print_refusal
from xlcomplaints.core import cells
from xlcomplaints.core.problems import register_messages
from xlcomplaints.errors import XlcError
from xlcomplaints.flows import FlowResult
from xlcomplaints.i18n import say
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

if TYPE_CHECKING:
    pass

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
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help=H("policy"), metavar=MV("toml"))]
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


def _new_file(out: Path, suffix: str, branch_code: str, force: bool, lang: str) -> None:
    """Refuse, with a sentence, what ``new`` cannot make well: another suffix (.xlsm without the
    buttons, .xls holding xlsx), a folder that does not exist, a blank branch code, a file there."""
    problem = None
    if out.suffix.lower() != suffix:
        problem = say(SAID["new.suffix_xlsm" if suffix == ".xlsx" else "new.suffix"], lang, suffix=suffix)
    elif not out.parent.is_dir():
        problem = say(SAID["new.no_folder"], lang, folder=out.parent)
    elif not branch_code.strip():
        problem = say(SAID["new.blank_code"], lang)
    elif out.exists() and not force:
        problem = say(SAID["exists"], lang, path=out)
    if problem:
        _refuse(problem, lang)


def _now(text: str | None, lang: str) -> datetime:
    if not text:
        return datetime.now().replace(microsecond=0)
    try:
        value = cells.parse_datetime(text)
    except cells.CellError:
        value = None
    if value is None:
        _refuse(say(SAID["now.unreadable"], lang), lang)
    return value


def _refuse(message: str, lang: str) -> NoReturn:
    """Stop the command with one sentence, in the style of every refusal (console.REFUSAL_PREFIX)."""
    print_refusal(message, lang)
    raise typer.Exit(2)


def _fail(e: XlcError, lang: str) -> NoReturn:
    """Stop the command with any of our errors, said as every refusal is (console.print_error)."""
    print_error(e, lang)
    raise typer.Exit(2)


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


def _open(file: Path, lang: str, *, note_upgrade: bool = True) -> FileWorkbook:
    """Open a workbook, saying what an interrupted run had left beside it and was cleared away,
    and, once, that ``upgrade`` would bring a workbook of an older template version up to date."""
    wb = FileWorkbook(file, tidy=True)
    for done in wb.tidied:
        err.print(done.message(lang), highlight=False)
    if note_upgrade:
        from xlcomplaints.upgrading import upgrade_note

        note = upgrade_note(wb, lang)
        if note:
            err.print(note, highlight=False, soft_wrap=True)
    return wb


def _counts(result: FlowResult, lang: str) -> str:
    return say(SAID["counts"], lang, errors=result.errors, warnings=result.warnings)
