"""The macro-enabled branch workbook (.xlsm): the .xlsx template plus buttons.

Over 400 lines: the buttons' places, the VBA project and the package they go into are built together here.

Why a separate builder: the buttons need a VBA project, and we write it ourselves from
the readable sources in ``xlcomplaints/excel/vba`` (``build_vba_project``), so the
template carries no third-party code and no binary we did not generate. By default
the project references the xlwings add-in (``xlwings addin install`` once per PC)
for ``RunPython``; ``standalone=True`` embeds the installed xlwings' own VBA module
instead, for PCs without the add-in.

Where the buttons go, and why:

* Register (投诉登记), the sheet the workbook opens on: in a band at the top of the
  frozen header row, which is made taller so the column titles (centred vertically)
  stay readable below the buttons. Frozen means the buttons stay on screen while a
  supervisor scrolls down a long register; they start over the frozen columns, so
  the first ones stay even when scrolling right. Nothing covers a data cell.
  The fifth, 打印处理单 Print form, prints the complaint of the row the clerk is on, so it is
  here only.
* Summary (汇总): the first four again, to the right of the table, under the status cell
  (hidden name ``xlcomplaints.status``) where each button writes what it did.
* Overdue (逾期清单): Refresh, where the list it rebuilds is read.
* Problems (校验结果): Validate, to re-check after fixing the listed cells.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from xlcomplaints.core.models import Settings
from xlcomplaints.errors import XlcError
from xlcomplaints.i18n import pick, register_messages
from xlcomplaints.spec.problems import PROBLEMS, STATUS_NAME
from xlcomplaints.templates.build import (
    TEMPLATE_CREATED,
    Customizer,
    _Formats,
    _hide_last_name,
    build_branch_workbook,
    write_table_sheet,
)
from xlcomplaints.templates.vbaproject import (
    OFFICE,
    STDOLE,
    VbaModule,
    VbaReference,
    build_vba_project,
    decompress,
    project_version,
    read_vba_modules,
    xlwings_addin_reference,
)

#: The standard module holding the button macros, and the file it is built from.
BUTTON_MODULE = "xlcomplaints"
WORKBOOK_CODENAME = "ThisWorkbook"
#: xlwings reads a sheet of this name (minus the underscore) for its settings;
#: shipped inactive, as xlwings' own quickstart does, so it overrides nothing until renamed.
CONF_SHEET = "_xlwings.conf"
CONF_CODENAME = "xlcXlwingsConf"

REGISTER_HEADER_HEIGHT = 64  # points; was 36: a 26 pt band for the buttons above the titles
BUTTON_HEIGHT = 24  # pixels
BUTTON_GAP = 6


@dataclass(frozen=True)
class Button:
    macro: str  # a Public Sub of BUTTON_MODULE
    zh: str
    en: str
    width_zh: int  # pixels, room for the caption at the 11 pt button font
    width_en: int

    def caption(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)

    def width(self, lang: str) -> int:
        return pick(lang, self.width_zh, self.width_en)


REFRESH = Button("RefreshOverdue", "刷新逾期", "Refresh overdue", 88, 120)
VALIDATE = Button("ValidateWorkbook", "校验", "Validate", 64, 80)
ASSIGN = Button("AssignNumbers", "编号", "Assign numbers", 64, 120)
REPORT = Button("MonthlyReport", "月报", "Monthly report", 64, 116)
BUTTONS: tuple[Button, ...] = (REFRESH, VALIDATE, ASSIGN, REPORT)
#: The handling form of the complaint in the active row: on the Register alone, where a row is chosen.
FORM = Button("PrintForm", "打印处理单", "Print form", 96, 84)
REGISTER_BUTTONS: tuple[Button, ...] = (*BUTTONS, FORM)


def vba_source(name: str) -> str:
    """A .bas file shipped in ``xlcomplaints/excel/vba`` (package data)."""
    return resources.files("xlcomplaints.excel").joinpath("vba", name).read_text(encoding="ascii")


def project_modules(sheet_codenames: Sequence[str]) -> list[VbaModule]:
    """The modules our templates carry: the button module, then one document module per codeName."""
    sheet_code = vba_source("Worksheet.bas")
    return [
        VbaModule(WORKBOOK_CODENAME, vba_source("ThisWorkbook.bas"), "document"),
        *(VbaModule(name, sheet_code, "document") for name in sheet_codenames),
        VbaModule(BUTTON_MODULE, vba_source(f"{BUTTON_MODULE}.bas")),
    ]


def codepage_for(lang: str) -> int:
    """The codepage a Chinese or Western Excel would save the project in (our source is ASCII)."""
    return pick(lang, 936, 1252)


# --- xlwings' own VBA, for standalone workbooks ------------------------------------------


@dataclass(frozen=True)
class XlwingsVba:
    version: str
    modules: tuple[VbaModule, ...]


def _strip_export_header(text: str) -> str:
    """Drop what a VBE export puts before the code (VERSION/BEGIN block, VB_* attributes)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("VERSION "):
        end = lines.index("END") if "END" in lines else 0
        lines = lines[end + 1 :]
    while lines and lines[0].startswith("Attribute VB_"):
        lines.pop(0)
    return "\n".join(lines)


def installed_xlwings_vba() -> XlwingsVba:
    """The VBA that ``xlwings quickstart --standalone`` embeds, from the installed package.

    xlwings ships it as ``xlwings.bas`` (module "xlwings", which declares the
    ``xlwings64-<version>.dll`` of the same release) and ``addin/Dictionary.cls`` (a
    class the module uses on macOS). Raises ``LookupError`` when xlwings is missing.
    """
    try:
        import xlwings
    except ImportError as e:
        raise LookupError("xlwings is not installed") from e
    root = Path(xlwings.__file__).resolve().parent
    try:
        main = (root / "xlwings.bas").read_text(encoding="cp1252")
        dictionary = (root / "addin" / "Dictionary.cls").read_text(encoding="cp1252")
    except OSError as e:
        raise LookupError(f"xlwings {xlwings.__version__} ships no standalone VBA module ({e})") from e
    stated = re.search(r"^'Version: (\S+)", main, re.M)
    if stated is None or stated.group(1) != xlwings.__version__:
        raise LookupError(f"xlwings.bas does not state version {xlwings.__version__}")
    return XlwingsVba(xlwings.__version__, (
        VbaModule("xlwings", _strip_export_header(main)),
        VbaModule("Dictionary", _strip_export_header(dictionary), "class"),
    ))


#: PROJECTVERSION of the add-in of xlwings 0.37.8, recorded when xlwings or olefile is not
#: installed to read it from (the reference is bound by name; Excel tolerates a mismatch).
XLWINGS_ADDIN_VERSION = (1800400716, 8)


@functools.cache
def installed_addin_version() -> tuple[int, int]:
    """The installed xlwings add-in's project version, as Excel records it in a reference to it."""
    try:
        import xlwings

        with zipfile.ZipFile(Path(xlwings.__file__).resolve().parent / "addin" / "xlwings.xlam") as z:
            return project_version(z.read("xl/vbaProject.bin"))
    except (ImportError, OSError, KeyError, ValueError, zipfile.BadZipFile):
        return XLWINGS_ADDIN_VERSION


def references(standalone: bool) -> tuple[VbaReference, ...]:
    """stdole and Office as Excel lists them in every new project, plus the add-in unless standalone."""
    if standalone:
        return (STDOLE, OFFICE)
    return (STDOLE, OFFICE, xlwings_addin_reference(version=installed_addin_version()))


# --- the workbook ------------------------------------------------------------------------


def _place_buttons(ws: Worksheet, row: int, col: int, buttons: Sequence[Button], lang: str, *,
                   x: int = 4, y: int = 4, vertical: bool = False) -> None:
    same = max(b.width(lang) for b in buttons)  # a stacked column of buttons is one width
    for b in buttons:
        width = same if vertical else b.width(lang)
        ws.insert_button(row, col, {"macro": b.macro, "caption": b.caption(lang), "width": width,
                                    "height": BUTTON_HEIGHT, "x_offset": x, "y_offset": y,
                                    "description": b.en})
        if vertical:
            y += BUTTON_HEIGHT + BUTTON_GAP
        else:
            x += width + BUTTON_GAP


def _problems_sheet(wb: xlsxwriter.Workbook, lang: str) -> Worksheet:
    ws = write_table_sheet(wb, _Formats(wb, lang), PROBLEMS, lang)
    ws.set_row(0, REGISTER_HEADER_HEIGHT)
    return ws


def _conf_sheet(wb: xlsxwriter.Workbook, lang: str) -> Worksheet:
    """xlwings' settings, inactive: keys from A1 down (xlwings stops at the first blank), notes in C.

    Hidden: it is for whoever installs Python, not for the clerk (Unhide brings it back, and xlwings
    reads it hidden too); if shown and printed, it fits one landscape page."""
    ws = wb.add_worksheet(CONF_SHEET)
    ws.set_vba_name(CONF_CODENAME)
    ws.hide()
    ws.set_landscape()
    ws.fit_to_pages(1, 1)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 90)
    note = wb.add_format({"font_color": "#595959", "text_wrap": False})
    bold = wb.add_format({"bold": True})
    rows: list[tuple[str, Any, str, str]] = [
        ("Interpreter_Win", "", "Windows 上装有 xlcomplaints 的 python.exe 完整路径（启用本表后必填，否则用 PATH 上的 python）",
         "Full path of the python.exe that has xlcomplaints (needed once this sheet is active, "
         "else the python on PATH is used)"),
        ("Interpreter_Mac", "", "macOS 上的 python 完整路径，如 /Users/名字/venv/bin/python（在 Mac 上启用本表后必填）",
         "Full path of python on macOS, e.g. /Users/name/venv/bin/python (needed on a Mac once active)"),
        ("PYTHONPATH", "", "仅当 xlcomplaints 未用 pip 安装时：其源代码所在文件夹",
         "Only if xlcomplaints is not pip-installed: the folder holding its source"),
        ("Conda Path", "", "使用 Anaconda 时：Anaconda 安装文件夹", "With Anaconda: its install folder"),
        ("Conda Env", "", "使用 Anaconda 时：环境名", "With Anaconda: the environment name"),
        ("Show Console", False, "TRUE 时显示 Python 命令窗口（仅排查问题时用）",
         "TRUE shows the Python console window (for troubleshooting only)"),
    ]
    for r, (key, value, note_zh, note_en) in enumerate(rows):
        ws.write_string(r, 0, key)
        if isinstance(value, bool):
            ws.write_boolean(r, 1, value)
        ws.write_string(r, 2, pick(lang, note_zh, note_en), note)
    help_rows = [
        (pick(lang, "说明", "How to use"), bold),
        (pick(lang, "本表默认隐藏且不生效。需要时：右击任一工作表标签→取消隐藏→选 _xlwings.conf，填写 B 列，"
         "再把工作表改名为 xlwings.conf（去掉开头的下划线）；改名后可再隐藏，xlwings 照样读取。",
         "This sheet is hidden and inactive. To use it: right-click any sheet tab → Unhide → "
         "_xlwings.conf, fill in column B and rename the sheet to xlwings.conf (drop the leading "
         "underscore); it may be hidden again after that, xlwings still reads it."), None),
        (pick(lang, "生效后，本表的设置优先于本机 %USERPROFILE%\\.xlwings\\xlwings.conf（xlwings addin install 已写入解释器路径）。",
         "Once active, it overrides %USERPROFILE%\\.xlwings\\xlwings.conf, where "
         "`xlwings addin install` already recorded the interpreter."), None),
        (pick(lang, "设置必须从 A1 开始连续填写；只有该工作簿需要与本机不同的 Python 时才需启用。",
         "Settings must start in A1 without gaps; activate only when this workbook needs a "
         "different Python than the PC's default."), None),
    ]
    for r, (text, fmt) in enumerate(help_rows, start=len(rows) + 2):
        ws.write_string(r, 0, text, fmt)
    return ws


def _customize(lang: str, standalone: bool) -> Customizer:
    def customize(wb: xlsxwriter.Workbook, sheets: dict[str, Worksheet]) -> None:
        register = sheets["register"]
        register.set_row(0, REGISTER_HEADER_HEIGHT)
        _place_buttons(register, 0, 0, REGISTER_BUTTONS, lang)

        summary = sheets["summary"]
        status_fmt = wb.add_format({"italic": True, "font_color": "#595959", "font_size": 10})
        summary.write_string(0, 4, pick(lang, "点击按钮后，结果显示在这里。", "What a button did shows here."),
                             status_fmt)
        wb.define_name(STATUS_NAME, f"='{summary.name}'!$E$1")
        _hide_last_name(wb)  # hidden, like our stamps
        _place_buttons(summary, 1, 4, BUTTONS, lang, y=8, vertical=True)

        overdue = sheets["overdue"]
        overdue.set_row(0, REGISTER_HEADER_HEIGHT)
        _place_buttons(overdue, 0, 0, (REFRESH,), lang)

        problems = _problems_sheet(wb, lang)
        _place_buttons(problems, 0, 0, (VALIDATE,), lang)
        _conf_sheet(wb, lang)

        codenames = [ws.vba_codename for ws in wb.worksheets()]
        modules = project_modules(codenames)
        if standalone:
            modules += installed_xlwings_vba().modules
        data = build_vba_project(modules, references=references(standalone), codepage=codepage_for(lang))
        wb.set_vba_name(WORKBOOK_CODENAME)
        wb.add_vba_project(io.BytesIO(data), is_stream=True)

    return customize


def build_branch_xlsm(target: str | Path | io.BytesIO, *, lang: str = "zh", settings: Settings | None = None,
                      standalone: bool = False, rows: Mapping[str, Sequence[Sequence[Any]]] | None = None,
                      created: Any = TEMPLATE_CREATED) -> None:
    """The branch workbook with buttons and its VBA project (add-in route unless ``standalone``)."""
    build_branch_workbook(target, lang=lang, settings=settings, rows=rows, created=created,
                          customize=_customize(lang, standalone))


# --- converting an existing workbook to standalone ----------------------------------------


class StandaloneError(XlcError):
    """Why a workbook cannot be made standalone (a code of STANDALONE_MESSAGES); the message says what to do."""


STANDALONE_MESSAGES = {
    "standalone.userform": ("VBA 工程含有用户窗体（{value}），无法重建",
                            "the VBA project holds a UserForm ({value}); it cannot be rebuilt"),
    "standalone.control_library": ("VBA 工程引用了控件库 {name!r}，没有 Excel 无法重建",
                                   "the VBA project references the control library {name!r}; "
                                   "it cannot be rebuilt without Excel"),
    "standalone.not_xlsm": ("{path} 不是 .xlsm 工作簿（{detail}）", "{path} is not an .xlsm workbook ({detail})"),
    "standalone.damaged": ("{path} 已损坏，无法读取（{detail}）", "{path} is damaged and cannot be read ({detail})"),
    "standalone.no_vba": ("{path} 没有 VBA 工程；请先用 xlcomplaints excel new 创建带按钮的工作簿",
                          "{path} has no VBA project; make the workbook with buttons with "
                          "xlcomplaints excel new first"),
}
register_messages(STANDALONE_MESSAGES)


_Kind = Literal["standard", "document", "class"]  # VbaModule.kind
_PROJECT_KINDS: dict[str, _Kind] = {"Document": "document", "Module": "standard", "Class": "class"}


def _project_kinds(ole: Any) -> dict[str, _Kind]:
    """Module kinds from the PROJECT stream (MS-OVBA §2.3.1); designers (UserForms) refused."""
    kinds: dict[str, _Kind] = {}
    for line in ole.openstream("PROJECT").read().decode("latin-1").splitlines():
        key, _, value = line.partition("=")
        if key in _PROJECT_KINDS:
            kinds[value.split("/")[0]] = _PROJECT_KINDS[key]
        elif key in ("Package", "BaseClass"):
            raise StandaloneError("standalone.userform", value=value)
    return kinds


def _project_references(ole: Any) -> tuple[int, list[VbaReference]]:
    """Codepage and references from the dir stream (MS-OVBA §2.3.4.2), walked independently."""
    data = decompress(ole.openstream("VBA/dir").read())
    codepage, refs, name, pos = 1252, [], "", 0
    codec = "cp1252"
    while pos + 6 <= len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        size = 6 if rid == 0x09 else size
        payload = data[pos + 6 : pos + 6 + size]
        pos += 6 + size
        if rid == 0x03:  # PROJECTCODEPAGE comes before any text record
            codepage = struct.unpack("<H", payload)[0]
            codec = {65001: "utf-8", 10000: "mac-roman"}.get(codepage, f"cp{codepage}")
        elif rid == 0x16:
            name = payload.decode(codec, "replace")
        elif rid == 0x0D:
            n = struct.unpack_from("<I", payload)[0]
            refs.append(VbaReference(name, payload[4 : 4 + n].decode(codec, "replace")))
        elif rid == 0x0E:
            refs.append(VbaReference(name, "", "project"))
        elif rid in (0x2F, 0x33):  # REFERENCECONTROL / REFERENCEORIGINAL: ActiveX controls
            raise StandaloneError("standalone.control_library", name=name)
        elif rid == 0x0F:
            break
    return codepage, refs


def _open_package(source: Path) -> zipfile.ZipFile:
    """The user's package, held to the limits every command applies before a part is inflated
    (``workbook.limits``: file size, part count, declared and inflated sizes); ``WorkbookError`` if not."""
    from xlcomplaints.workbook.filekind import require_file
    from xlcomplaints.workbook.limits import MAX_FILE_BYTES, check_archive, check_file_size

    require_file(source)  # a FIFO, device or broken link is named, never opened
    try:
        check_file_size(source, source.stat().st_size)
        with open(source, "rb") as fh:  # no more than the limit, should the file grow meanwhile
            data = fh.read(MAX_FILE_BYTES + 1)
        check_file_size(source, len(data))
        package = zipfile.ZipFile(io.BytesIO(data))
    except (OSError, zipfile.BadZipFile) as e:
        raise StandaloneError("standalone.not_xlsm", path=source.name, detail=str(e)) from e
    check_archive(source, package, data)
    return package


def make_standalone(source: str | Path, target: str | Path) -> str:
    """Copy ``source`` (.xlsm) to ``target`` with xlwings' VBA embedded instead of the add-in reference.

    Keeps every module of the workbook's own project (source, kind, order) and its
    registered references; drops project references (the add-in); adds the installed
    xlwings' module and class. Every other part of the package is copied unchanged.
    Returns the xlwings version embedded.
    """
    source, target = Path(source), Path(target)
    package = _open_package(source)
    xw = installed_xlwings_vba()
    try:
        data = _standalone_package(source, package, xw)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:  # a part damaged, or larger than its record says
        raise StandaloneError("standalone.damaged", path=source.name, detail=str(e)) from e
    target.write_bytes(data)
    return xw.version


def _standalone_package(source: Path, package: zipfile.ZipFile, xw: XlwingsVba) -> bytes:
    """The package's bytes with ``xw``'s VBA embedded (see ``make_standalone``)."""
    import olefile

    with package:
        if "xl/vbaProject.bin" not in package.namelist():
            raise StandaloneError("standalone.no_vba", path=source.name)
        vba = package.read("xl/vbaProject.bin")
        with olefile.OleFileIO(vba) as ole:
            kinds = _project_kinds(ole)
            codepage, refs = _project_references(ole)
        sources = read_vba_modules(vba)
        wb_xml = package.read("xl/workbook.xml").decode("utf-8")
        code_name = re.search(r'<workbookPr\b[^>]*\bcodeName="([^"]+)"', wb_xml)
        names = {m.name for m in xw.modules}
        modules = [VbaModule(n, sources[n], kinds.get(n, "standard")) for n in sources if n not in names]
        data = build_vba_project(
            [*modules, *xw.modules], references=[r for r in refs if r.kind == "registered"] or [STDOLE],
            codepage=codepage, workbook_codename=code_name.group(1) if code_name else WORKBOOK_CODENAME)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out:
            for info in package.infolist():
                out.writestr(info, data if info.filename == "xl/vbaProject.bin" else package.read(info))
    return buffer.getvalue()
