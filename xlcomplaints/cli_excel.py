"""``xlcomplaints excel …``: the branch workbook with buttons (.xlsm), and a standalone copy of one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlcomplaints.console import SAID, console
from xlcomplaints.i18n import say
from xlcomplaints.workbook.errors import WorkbookError

if TYPE_CHECKING:
    pass
from xlcomplaints.cli_base import (
    MV,
    BranchCode,
    BranchName,
    Force,
    H,
    Lang,
    _Command,
    _fail,
    _Group,
    _lang,
    _new_file,
    _refuse,
    app,
)

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
    _new_file(out, ".xlsm", branch_code, force, lang)
    settings = Settings(branch_code=branch_code, branch_name=branch_name, language=lang)
    try:
        build_branch_xlsm(out, lang=lang, settings=settings, standalone=standalone, created=None)
    except LookupError as e:  # --standalone without xlwings installed
        _refuse(str(e), lang)
    if standalone:
        _standalone_written(out, installed_xlwings_vba().version, lang)
    else:
        console.print(say(SAID["created"], lang, path=out))


def _standalone_written(target: Path, version: str, lang: str) -> None:
    """Which xlwings a standalone workbook embeds: the PCs using it need that very version."""
    console.print(say(SAID["standalone.written"], lang, target=target, version=version), highlight=False,
                  soft_wrap=True)


@excel_app.command("standalone", cls=_Command, help=H("excel_standalone"))
def excel_standalone(
    source: Annotated[Path, typer.Argument(help=H("excel_standalone.source"), metavar=MV("xlsm"), show_default=False)],
    target: Annotated[Path, typer.Argument(help=H("excel_standalone.target"), metavar=MV("xlsm"), show_default=False)],
    lang: Lang = None,
    force: Force = False,
) -> None:
    from xlcomplaints.templates.macro import StandaloneError, make_standalone

    lang = _lang(lang)
    if target.exists() and not force:
        _refuse(say(SAID["exists"], lang, path=target), lang)
    if target.resolve() == source.resolve():
        _refuse(say(SAID["standalone.same_file"], lang), lang)
    try:
        version = make_standalone(source, target)
    except LookupError as e:  # xlwings missing: its VBA comes from the installed package
        _refuse(say(SAID["standalone.needs_xlwings"], lang, detail=e), lang)
    except (StandaloneError, WorkbookError) as e:  # WorkbookError: over the size limits every command applies
        _fail(e, lang)
    except OSError as e:
        _refuse(str(e), lang)
    _standalone_written(target, version, lang)
