"""The ``xlcomplaints`` command: thin over the flows; shows problems in the user's language.

Exit codes: 0 clean, 1 problems found (validate), 2 the file could not be used.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xlcomplaints.core import cells
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.flows import FlowResult, assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False,
                  help="Complaint registers in Excel: templates, validation, deadlines, reports.")
console = Console()
err = Console(stderr=True)

Lang = Annotated[str, typer.Option("--lang", help="zh or en", show_default=True)]
Now = Annotated[str | None, typer.Option("--now", help='As-of time, e.g. "2026-11-22 09:00" (default: now)')]


def _lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        err.print("--lang must be zh or en")
        raise typer.Exit(2)
    return lang


def _now(text: str | None, lang: str) -> datetime:
    if not text:
        return datetime.now().replace(microsecond=0)
    try:
        value = cells.parse_datetime(text)
    except cells.CellError:
        value = None
    if value is None:
        err.print("无法识别 --now 的时间，请写成 2026-11-22 09:00" if lang == "zh"
                  else 'Cannot read --now; write it like "2026-11-22 09:00"')
        raise typer.Exit(2)
    return value


def _fail(e: WorkbookError, lang: str) -> None:
    err.print(f"[bold red]{'错误' if lang == 'zh' else 'Error'}:[/] {e.message(lang)}", highlight=False)
    raise typer.Exit(2)


def show_problems(problems: list[Problem], lang: str, title: str) -> None:
    if not problems:
        return
    zh = lang == "zh"
    table = Table(title=title, show_lines=False, header_style="bold")
    for h in (("级别", "Level"), ("工作表", "Sheet"), ("单元格", "Cell"), ("列", "Column"), ("值", "Value"),
              ("问题", "Problem")):
        table.add_column(h[0] if zh else h[1], overflow="fold")
    for p in problems:
        level = ("错误" if zh else "error") if p.level is Level.ERROR else ("警告" if zh else "warning")
        style = "red" if p.level is Level.ERROR else "yellow"
        table.add_row(f"[{style}]{level}[/]", p.sheet or "", p.cell or "", p.column or "", p.value or "",
                      p.message(lang))
    console.print(table)


def _counts(result: FlowResult, lang: str) -> str:
    if lang == "zh":
        return f"{result.errors} 个错误，{result.warnings} 个警告"
    return f"{result.errors} error(s), {result.warnings} warning(s)"


@app.command()
def new(
    out: Annotated[Path, typer.Argument(help="The workbook to create (.xlsx)")],
    branch_code: Annotated[str, typer.Option("--branch-code", help="e.g. BJ01")],
    branch_name: Annotated[str, typer.Option("--branch-name", help="e.g. 北京一店")] = "",
    lang: Lang = "zh",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Create a new branch workbook from the current template."""
    from xlcomplaints.api import new_workbook

    lang = _lang(lang)
    try:
        new_workbook(out, branch_code=branch_code, branch_name=branch_name, lang=lang, overwrite=force)
    except FileExistsError:
        err.print(f"{out} 已存在（用 --force 覆盖）" if lang == "zh" else f"{out} exists (use --force to overwrite)")
        raise typer.Exit(2) from None
    console.print(f"已创建 {out}" if lang == "zh" else f"Created {out}")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Branch workbook (.xlsx/.xlsm)")],
    lang: Lang = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON")] = False,
    now: Now = None,
) -> None:
    """List every problem, located to the cell. Exit 0 clean, 1 problems, 2 unreadable."""
    lang = _lang(lang)
    try:
        result = validate_flow(FileWorkbook(file), now=_now(now, lang), lang=lang)
    except WorkbookError as e:
        if as_json:
            print(json.dumps({"file": str(file), "error": e.code, "message": e.message(lang)}, ensure_ascii=False))
            raise typer.Exit(2) from None
        _fail(e, lang)
        return
    if as_json:
        print(json.dumps([p.to_json(lang) for p in result.problems], ensure_ascii=False, indent=1))
    else:
        show_problems(result.problems, lang, file.name)
        ok = "没有发现问题" if lang == "zh" else "No problems found"
        console.print(f"{file.name}: {_counts(result, lang) if result.problems else ok}")
    raise typer.Exit(1 if result.problems else 0)


@app.command()
def refresh(
    file: Annotated[Path, typer.Argument(help="Branch workbook (.xlsx/.xlsm)")],
    now: Now = None,
    lang: Lang = "zh",
) -> None:
    """Compute due times and statuses; rebuild the Overdue and Summary sheets. Writes only what it owns."""
    lang = _lang(lang)
    try:
        result = refresh_flow(FileWorkbook(file), now=_now(now, lang), lang=lang)
    except WorkbookError as e:
        _fail(e, lang)
        return
    show_problems(result.problems, lang, file.name)
    assert result.plan is not None
    c = result.plan.counts
    zh = lang == "zh"
    console.print(
        (f"{file.name}：{len(result.plan.results)} 宗投诉，{c['complaints.overdue']} 宗有逾期环节，"
         f"{c['complaints.due_soon']} 宗即将到期。" if zh else
         f"{file.name}: {len(result.plan.results)} complaints, {c['complaints.overdue']} with an overdue stage, "
         f"{c['complaints.due_soon']} due soon.")
        + ((" 已保存。" if zh else " Saved.") if result.changed else (" 无变化。" if zh else " Nothing changed."))
    )


@app.command("assign-ids")
def assign_ids(
    file: Annotated[Path, typer.Argument(help="Branch workbook (.xlsx/.xlsm)")],
    now: Now = None,
    lang: Lang = "zh",
) -> None:
    """Fill missing complaint numbers from the workbook's pattern; existing numbers never change."""
    lang = _lang(lang)
    try:
        result = assign_ids_flow(FileWorkbook(file), now=_now(now, lang), lang=lang)
    except WorkbookError as e:
        _fail(e, lang)
        return
    for row, no in sorted(result.assigned.items()):
        console.print(f"  {'第' if lang == 'zh' else 'row '}{row}{'行' if lang == 'zh' else ''}: {no}")
    n = len(result.assigned)
    console.print(f"已编号 {n} 宗。" if lang == "zh" else f"Numbered {n} complaint(s).")


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to write the sample workbooks")] = Path("demo-output"),
    lang: Lang = "zh",
) -> None:
    """Generate sample branch workbooks, validate and refresh them, and print where each file is."""
    from xlcomplaints.demo import run_demo

    run_demo(directory, lang=_lang(lang), console=console)


def main() -> None:
    """Console entry point: a bug in xlcomplaints is reported in one line, never as a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # last resort; every expected failure is a WorkbookError or a Problem
        err.print(f"xlcomplaints 内部错误 / internal error: {type(e).__name__}: {e}", highlight=False)
        err.print("请把此信息和文件发给维护人员 / please report this with the file.", highlight=False)
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
