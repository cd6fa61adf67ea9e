"""The ``xlcomplaints`` command: thin over the flows; shows problems in the user's language.

Exit codes: 0 clean, 1 problems found (validate), 2 the file could not be used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlcomplaints.console import SAID, console, err, print_refusal, show_problems
from xlcomplaints.core.problems import in_sheet_order
from xlcomplaints.flows import assign_ids_flow, refresh_flow, validate_flow
from xlcomplaints.i18n import say
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook

if TYPE_CHECKING:
    pass
from xlcomplaints.cli_base import (
    HELP_LANG,
    MV,
    BranchCode,
    BranchName,
    Force,
    H,
    Lang,
    Now,
    PolicyOpt,
    WorkbookArg,
    _after_save,
    _Command,
    _counts,
    _fail,
    _lang,
    _memory,
    _new_file,
    _now,
    _open,
    _refuse,
    app,
)


@app.command(cls=_Command, help=H("new"))
def new(
    out: Annotated[Path, typer.Argument(help=H("new.out"), metavar=MV("xlsx"), show_default=False)],
    branch_code: BranchCode,
    branch_name: BranchName = "",
    lang: Lang = None,
    force: Force = False,
    preset: Annotated[str | None, typer.Option("--preset", help=H("preset"), metavar=MV("name"))] = None,
) -> None:
    from xlcomplaints.api import new_workbook
    from xlcomplaints.core.policy import PolicyFileError
    from xlcomplaints.policy_file import presets

    lang = _lang(lang)
    if preset is not None and preset not in presets():
        _refuse(say(SAID["preset.unknown"], lang, preset=preset, presets=", ".join(presets())), lang)
    _new_file(out, ".xlsx", branch_code, force, lang)
    try:
        new_workbook(out, branch_code=branch_code, branch_name=branch_name, lang=lang, overwrite=force,
                     preset=preset)
    except PolicyFileError as e:
        _refuse(e.message(lang), lang)
    except FileExistsError:  # made meanwhile
        _refuse(say(SAID["exists"], lang, path=out), lang)
    console.print(say(SAID["created"], lang, path=out))


@app.command(cls=_Command, help=H("validate"))
def validate(
    file: WorkbookArg,
    lang: Lang = None,
    as_json: Annotated[bool, typer.Option("--json", help=H("json"))] = False,
    now: Now = None,
    policy: PolicyOpt = None,
) -> None:
    from xlcomplaints.core.policy import PolicyFileError
    from xlcomplaints.policy_file import load_policy

    lang = _lang(lang)
    try:
        lists = load_policy(policy, lang).lists if policy else None
        with _memory(file, lang):
            result = validate_flow(_open(file, lang), now=_now(now, lang), lang=lang, lists=lists)
    except PolicyFileError as e:
        _refuse(e.message(lang), lang)
    except WorkbookError as e:
        if as_json:
            damage = {k: e.params[k] for k in ("damage", "detail") if e.code == "file.corrupt" and k in e.params}
            print(json.dumps({"file": str(file), "error": e.code, "message": e.message(lang), **damage},
                             ensure_ascii=False))
            raise typer.Exit(2) from None
        _fail(e, lang)
    if as_json:
        print(json.dumps([p.to_json(lang) for p in in_sheet_order(result.problems)], ensure_ascii=False, indent=1))
    else:
        show_problems(result.problems, lang, file.name)
        ok = say(SAID["no_problems"], lang)
        console.print(f"{file.name}: {_counts(result, lang) if result.problems else ok}")
    raise typer.Exit(1 if result.problems else 0)


@app.command(cls=_Command, help=H("refresh"))
def refresh(
    file: WorkbookArg,
    now: Now = None,
    lang: Lang = None,
    policy: PolicyOpt = None,
) -> None:
    from xlcomplaints.core.policy import PolicyFileError
    from xlcomplaints.policy_file import load_policy

    lang = _lang(lang)
    try:
        imposed = load_policy(policy, lang) if policy else None
        with _memory(file, lang):
            result = refresh_flow(_open(file, lang), now=_now(now, lang), lang=lang,
                                  policy=imposed.rules_or_none if imposed else None,
                                  lists=imposed.lists if imposed else None)
    except (WorkbookError, PolicyFileError) as e:
        _fail(e, lang)
    with _after_save(file, lang, result.changed):
        show_problems(result.problems, lang, file.name)
        assert result.plan is not None
        console.print(say(SAID["refresh.saved" if result.changed else "refresh.unchanged"], lang, file=file.name,
                          outcome=result.plan.outcome(lang)))


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
            console.print(say(SAID["assign.row"], lang, row=row, number=no))
        for p in result.skipped:  # never a silent gap: each row left without a number, and why
            console.print(f"  {p.message(lang)}", highlight=False, soft_wrap=True)
        n, s = len(result.assigned), len(result.skipped)
        console.print(say(SAID["assign.done_skipped" if s else "assign.done"], lang, n=n, skipped=s))


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
    try:
        try:
            stamp, sheets = find_stamps(FileWorkbook(file))
        except WorkbookError as e:
            if e.code != "file.not_ours":
                raise
        else:  # stamped: a newer or other template is not ours to restamp
            check_version(stamp, B.BRANCH_TEMPLATE_KIND, B.BRANCH_TEMPLATE_VERSION, file.name)
            if "register" in sheets:
                console.print(say(SAID["adopt.already"], lang, file=file.name), highlight=False)
                return
        result = adopt_workbook(file)
    except WorkbookError as e:
        _fail(e, lang)
    specs = {spec.kind: spec for spec in B.BRANCH_SHEETS}
    for kind, sheet in result.sheets.items():
        said = say(SAID[f"adopt.by.{result.how[kind]}"], lang)
        console.print(say(SAID["adopt.sheet"], lang, title=specs[kind].title(lang), sheet=sheet, how=said),
                      highlight=False)
    if result.missing:
        missing = kinds_titles(result.missing, lang)
        console.print(say(SAID["adopt.missing"], lang, missing=missing), highlight=False)
    backup = say(SAID["adopt.backup"], lang, name=result.backup.name) if result.backup else ""
    console.print(say(SAID["adopt.done"], lang, file=file.name, backup=backup), highlight=False, soft_wrap=True)


@app.command(cls=_Command, help=H("upgrade"))
def upgrade(
    file: WorkbookArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=H("upgrade.dry_run"))] = False,
    lang: Lang = None,
) -> None:
    from xlcomplaints.upgrading import done_message, upgrade_flow

    lang = _lang(lang)
    try:
        with _memory(file, lang):
            result = upgrade_flow(_open(file, lang, note_upgrade=False), dry_run=dry_run)
    except WorkbookError as e:
        _fail(e, lang)
    with _after_save(file, lang, result.changed):
        for change in result.changes:
            console.print(f"  {change.message(lang)}", highlight=False, soft_wrap=True)
        console.print(done_message(result, file, lang), highlight=False, soft_wrap=True)


@app.command(cls=_Command, help=H("demo"))
def demo(
    directory: Annotated[Path, typer.Argument(help=H("demo.dir"), metavar=MV("dir"))] = Path("demo-output"),
    lang: Lang = None,
) -> None:
    from xlcomplaints.demo import run_demo

    run_demo(directory, lang=_lang(lang), console=console)


# The command groups and commands of their own modules, in the order --help lists them.
import xlcomplaints.cli_excel  # noqa: E402,F401  (registers ``excel``)
import xlcomplaints.cli_report  # noqa: E402,F401  (registers ``report`` and ``consolidate``)


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
