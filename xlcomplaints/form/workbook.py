"""Write complaint handling forms (投诉处理单) with XlsxWriter: one sheet, one A4 portrait page each.

The page is laid out from ``spec/form.py`` alone: a grid of eight columns, the facts as
label/value pairs, the deadlines, steps and callbacks as ruled tables, the outcome texts across
the page, and a signature and date box for each signer. Merged cells do not grow with their text
in Excel, so every row is given the height its longest text needs. Each sheet is fitted to one
page, so a complaint with many steps prints smaller, never on a second sheet of paper.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from xlcomplaints.core.form import CaseForm, StageLine
from xlcomplaints.core.models import Settings
from xlcomplaints.report.labels import label
from xlcomplaints.report.masking import mask_phone, mask_text
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import form as F
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.model import SheetSpec
from xlcomplaints.templates.build import _Formats

DATE_FMT = "yyyy-mm-dd hh:mm"
LINE_HEIGHT = 15.0  # points per line of 10-point text: CJK lines take 14.6 in LibreOffice (Noto Sans CJK)
PAD = 1.5  # above the lines: a one-line row of 16.5 points still shows its text whole
#: Excel's tallest row (points); a longer text goes on in the rows below it (``split_text``).
MAX_ROW = 409.0
MAX_LINES = int((MAX_ROW - PAD) // LINE_HEIGHT)
#: A4 portrait within the margins below, in points: 11.69 in less 0.5 and 0.7 in.
PAGE_HEIGHT = (11.69 - 0.5 - 0.7) * 72
#: The smallest a page is shrunk to fit one sheet of paper; a longer form goes on to a second page.
MIN_SCALE = 0.6
TITLE_FILL = "#1F4E79"
LABEL_FILL = "#F2F2F2"
HEAD_FILL = "#D9E1F2"
SECTION_FILL = "#DDEBF7"
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\']")


_NARROW = frozenset(" .,:;!'|()[]-ijlftrI")
_WIDE = frozenset("mwMW@%")


def _unit(ch: str) -> float:
    """A character's width in column-width units (the width of a digit) at the form's 10 points:
    a CJK character about two, Latin letters by their kind; a little generous, so text is not cut."""
    if ord(ch) > 0x2E80:
        return 1.9
    if ch in _NARROW:
        return 0.5
    if ch in _WIDE:
        return 1.15
    return 0.95 if ch.isupper() else 0.82


def _units(text: str) -> float:
    return sum(map(_unit, text))


#: What a line breaks between: a CJK character on its own, a run of spaces, a word.
_TOKENS = re.compile(r"[\u2e80-\U0010ffff]|\s+|[^\s\u2e80-\U0010ffff]+")


def _paragraph_lines(text: str, room: float) -> int:
    """Lines a paragraph wraps to, as a spreadsheet wraps: between words, and anywhere in CJK text
    or in a word longer than the line."""
    count, used = 1, 0.0
    for token in _TOKENS.findall(text):
        width = _units(token)
        if token.isspace() or used + width <= room:
            used += width
        elif width <= room:
            count, used = count + 1, width
        else:
            for ch in token:
                if used + _unit(ch) > room and used:
                    count, used = count + 1, 0.0
                used += _unit(ch)
    return count


def lines(text: str, width: float) -> int:
    """Lines a wrapped cell ``width`` characters wide needs (``_unit`` gives each character's width)."""
    room = max(width - 1.5, 1)
    return sum(_paragraph_lines(part, room) for part in text.split("\n"))


def split_text(text: str, width: float, max_lines: int = MAX_LINES) -> list[str]:
    """``text`` in pieces of at most ``max_lines`` wrapped lines each, for a text too long for one row:
    every character, in order, cut at paragraph ends (a paragraph longer than a row, within it)."""
    if lines(text, width) <= max_lines:
        return [text]
    room = max(width - 1.5, 1) * max_lines  # units in one piece
    pieces: list[str] = []
    current: list[str] = []
    for para in text.split("\n"):
        while lines(para, width) > max_lines:  # a paragraph longer than a row: cut it by characters
            cut, units = 0, 0.0
            while cut < len(para) and units + _units(para[cut]) <= room - width:
                units += _units(para[cut])
                cut += 1
            while cut > 1 and lines(para[:cut], width) > max_lines:  # words wrap early: fewer fit
                cut = cut * 9 // 10
            cut = max(cut, 1)
            if current:
                pieces.append("\n".join(current))
                current = []
            pieces.append(para[:cut])
            para = para[cut:]
        if current and lines("\n".join([*current, para]), width) > max_lines:
            pieces.append("\n".join(current))
            current = []
        current.append(para)
    pieces.append("\n".join(current))
    return pieces


def sheet_title(no: str, taken: set[str]) -> str:
    """The complaint number as a sheet name: characters Excel refuses replaced, 31 at most, unique."""
    base = _SHEET_UNSAFE.sub("-", no).strip() or "form"
    title, n = base[:31], 1
    while title.casefold() in taken:
        n += 1
        title = f"{base[:31 - len(str(n)) - 3]} ({n})"
    taken.add(title.casefold())
    return title


class FormWriter:
    """One workbook of forms; ``write`` adds a sheet per complaint."""

    def __init__(self, target: io.BytesIO, settings: Settings, *, lang: str, printed: datetime,
                 mask: bool) -> None:
        self.settings, self.lang, self.printed, self.mask = settings, lang, printed, mask
        self.wb = xlsxwriter.Workbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False, "in_memory": True})
        self.fm = _Formats(self.wb, lang)
        self.taken: set[str] = set()
        self.heights: list[float] = []  # the current sheet's row heights, for the page fitting

    # ----------------------------------------------------------------- pieces
    def f(self, **props: Any) -> Any:
        return self.fm.get(**props)

    def t(self, key: str) -> str:
        return F.text(key, self.lang)

    def span_width(self, first: int, span: int) -> float:
        return sum(F.WIDTHS[first:first + span])

    def put(self, ws: Worksheet, row: int, col: int, span: int, value: Any, fmt: Any) -> None:
        """A value in ``span`` grid columns (merged when more than one)."""
        if span > 1:
            ws.merge_range(row, col, row, col + span - 1, "", fmt)
        if isinstance(value, datetime):
            ws.write_datetime(row, col, value, fmt)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ws.write_number(row, col, value, fmt)
        elif value not in (None, ""):
            ws.write_string(row, col, str(value), fmt)
        elif span == 1:
            ws.write_blank(row, col, None, fmt)

    def value_fmt(self, value: Any, **props: Any) -> Any:
        base = {"border": 1, "text_wrap": True, "valign": "top", **props}
        if isinstance(value, datetime):
            base["num_format"] = DATE_FMT
            base.setdefault("align", "left")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            base.setdefault("align", "center")
        return self.f(**base)

    def shown(self, spec: SheetSpec, key: str, value: Any) -> Any:
        """A record's value as the form prints it: choices by label, phones and free text masked
        with ``--mask``, times as times."""
        if value is None:
            return None
        col = spec.column(key)
        if isinstance(value, bool):
            return v.YES_NO.label("yes" if value else "no", self.lang)
        if col.vocab is not None and isinstance(value, str):
            return label(col.vocab, value, self.lang)
        if isinstance(value, str) and self.mask:
            return mask_phone(value) if key in F.PHONE_KEYS else mask_text(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def set_height(self, ws: Worksheet, row: int, points: float) -> None:
        points = min(points, MAX_ROW)
        ws.set_row(row, points)
        self.heights.append(points)

    def height(self, ws: Worksheet, row: int, cells: Sequence[tuple[Any, float]], minimum: int = 1) -> None:
        need = max([minimum] + [lines(str(value), width) for value, width in cells
                                 if value is not None and not isinstance(value, datetime)])  # a time never wraps
        self.set_height(ws, row, need * LINE_HEIGHT + PAD)

    # ----------------------------------------------------------------- sections
    def section(self, ws: Worksheet, row: int, key: str) -> int:
        ws.merge_range(row, 0, row, 7, self.t(key), self.f(bold=True, font_size=11, bg_color=SECTION_FILL,
                                                             border=1, valign="vcenter"))
        self.set_height(ws, row, 20)
        return row + 1

    def pairs(self, ws: Worksheet, row: int, pairs: Sequence[tuple[str, str]], record: Any, spec: SheetSpec,
              values: dict[str, Any] | None = None) -> int:
        """Label/value pairs, two to a row: label in one grid column, its value in the next three."""
        label_fmt = self.f(bold=True, bg_color=LABEL_FILL, border=1, text_wrap=True, valign="top")
        for left, right in pairs:
            cells = []
            for i, key in enumerate((left, right)):
                col = 4 * i
                value = values[key] if values and key in values else self.shown(spec, key, getattr(record, key))
                name = spec.column(key).label(self.lang)
                ws.write_string(row, col, name, label_fmt)
                self.put(ws, row, col + 1, 3, value, self.value_fmt(value))
                cells += [(name, F.WIDTHS[col]), (value, self.span_width(col + 1, 3))]
            self.height(ws, row, cells)
            row += 1
        return row

    def texts(self, ws: Worksheet, row: int, keys: Sequence[str], record: Any) -> int:
        """Long texts across the page: label in the first grid column, the text in the other seven
        (a text taller than Excel's tallest row goes on in the rows below, the label beside them all)."""
        label_fmt = self.f(bold=True, bg_color=LABEL_FILL, border=1, text_wrap=True, valign="top")
        width = self.span_width(1, 7)
        for key in keys:
            value = self.shown(B.REGISTER, key, getattr(record, key))
            name = B.REGISTER.column(key).label(self.lang)
            pieces = split_text(value, width) if isinstance(value, str) else [value]
            if len(pieces) > 1:
                ws.merge_range(row, 0, row + len(pieces) - 1, 0, name, label_fmt)
            else:
                ws.write_string(row, 0, name, label_fmt)
            for i, piece in enumerate(pieces):
                self.put(ws, row + i, 1, 7, piece, self.value_fmt(piece))
                self.height(ws, row + i, [(name if i == 0 else None, F.WIDTHS[0]), (piece, width)], minimum=2)
            row += len(pieces)
        return row

    def table(self, ws: Worksheet, row: int, columns: Sequence[F.FormColumn], heads: Sequence[str],
              rows: Sequence[Sequence[Any]], empty: str) -> int:
        """A ruled table: a header row, then one row per record (or one line saying there is none)."""
        head = self.f(bold=True, bg_color=HEAD_FILL, border=1, text_wrap=True, align="center", valign="vcenter")
        col, cells = 0, []
        for c, name in zip(columns, heads, strict=True):
            self.put(ws, row, col, c.span, name, head)
            cells.append((name, self.span_width(col, c.span)))
            col += c.span
        self.height(ws, row, cells)
        row += 1
        if not rows:
            ws.merge_range(row, 0, row, 7, empty, self.f(border=1, font_color="#808080", italic=True))
            self.set_height(ws, row, LINE_HEIGHT + PAD)
            return row + 1
        for values in rows:
            col, cells = 0, []
            for c, value in zip(columns, values, strict=True):
                self.put(ws, row, col, c.span, value, self.value_fmt(value))
                cells.append((value, self.span_width(col, c.span)))
                col += c.span
            self.height(ws, row, cells)
            row += 1
        return row

    def late_text(self, s: StageLine) -> str | None:
        if s.late_by is None or s.unit is None or s.status not in ("overdue", "done_late", "due_soon", "missed"):
            return None
        key = "left" if s.status == "due_soon" else "late"
        return self.t(key).format(amount=f"{s.late_by:.1f}", unit=label(v.UNIT, s.unit, self.lang))

    def signatures(self, ws: Worksheet, row: int) -> int:
        """A box per signer: who, their comments, signature and date, tall enough to sign in."""
        who = self.f(bold=True, bg_color=LABEL_FILL, border=1, text_wrap=True, valign="vcenter", align="center")
        box = self.f(border=1, valign="top", font_color="#595959")
        for key in F.SIGNERS:
            ws.write_string(row, 0, self.t(key), who)
            ws.merge_range(row, 1, row, 3, self.t("opinion"), box)
            ws.merge_range(row, 4, row, 5, self.t("signature"), box)
            ws.merge_range(row, 6, row, 7, self.t("date"), box)
            self.set_height(ws, row, 48)
            row += 1
        return row

    # ----------------------------------------------------------------- a page
    def write(self, form: CaseForm) -> Worksheet:
        c = form.complaint
        no = c.no or ""
        ws = self.wb.add_worksheet(sheet_title(no, self.taken))
        for i, width in enumerate(F.WIDTHS):
            ws.set_column(i, i, width)
        ws.hide_gridlines(2)
        s = self.settings
        office = s.branch_name or s.branch_code
        ws.merge_range(0, 0, 0, 7, f"{office} {self.t('title')}" if self.lang == "zh" else
                       f"{office}: {self.t('title')}",
                       self.f(bold=True, font_size=16, align="center", valign="vcenter", font_color=TITLE_FILL))
        self.heights = []
        self.set_height(ws, 0, 30)
        no_label = B.REGISTER.column("no").label(self.lang)
        colon = "：" if self.lang == "zh" else ": "
        ws.merge_range(1, 0, 1, 3, f"{no_label}{colon}{no}", self.f(bold=True, font_size=12, valign="vcenter"))
        printed = f"{self.t('printed')}{colon}{self.printed:%Y-%m-%d %H:%M}"
        if self.mask:
            printed = f"{self.t('masked')} {printed}"
        ws.merge_range(1, 4, 1, 7, printed, self.f(align="right", valign="vcenter"))
        self.set_height(ws, 1, 22)
        row = self.section(ws, 2, "section.facts")
        row = self.pairs(ws, row, F.FACTS, c, B.REGISTER)
        row = self.texts(ws, row, F.COMPLAINT_TEXTS, c)

        row = self.section(ws, row, "section.deadlines")
        stage_rows = [[label(v.STAGE, st.stage, self.lang), st.due, st.done_at,
                       label(v.STAGE_STATUS, st.status, self.lang) if st.status else None, self.late_text(st)]
                      for st in form.stages]
        row = self.table(ws, row, F.STAGE_COLUMNS, [self.t(col.key) for col in F.STAGE_COLUMNS], stage_rows, "")
        standing = {
            "status": label(v.OVERALL_STATUS, form.status, self.lang) if form.status else None,
            "escalation": label(v.ESCALATION, form.escalation, self.lang) if form.escalation else None,
            "days_overdue": None if form.days_overdue is None else round(form.days_overdue, 1),
            "reopen_count": form.reopen_count or None,
            "repeat_of": form.repeat_of, "next_action": form.next_action or None,
        }
        row = self.pairs(ws, row, F.STANDING, c, B.REGISTER, standing)

        row = self.section(ws, row, "section.steps")
        steps = [[*(self.shown(B.TRACKING, col.key, getattr(s.step, col.key)) for col in F.STEP_COLUMNS[:-1]),
                  label(v.STAGE_STATUS, s.status, self.lang) if s.status else None] for s in form.steps]
        row = self.table(ws, row, F.STEP_COLUMNS, [B.TRACKING.column(col.key).label(self.lang)
                                                   for col in F.STEP_COLUMNS], steps, self.t("none.steps"))
        row = self.section(ws, row, "section.callbacks")
        calls = [[cb.number if col.key == "attempt" else self.shown(B.CALLBACKS, col.key, getattr(cb.attempt, col.key))
                  for col in F.CALLBACK_COLUMNS] for cb in form.callbacks]
        row = self.table(ws, row, F.CALLBACK_COLUMNS, [B.CALLBACKS.column(col.key).label(self.lang)
                                                       for col in F.CALLBACK_COLUMNS], calls,
                         self.t("none.callbacks"))
        row = self.section(ws, row, "section.outcome")
        row = self.texts(ws, row, F.OUTCOME_TEXTS, c)
        row = self.section(ws, row, "section.sign")
        row = self.signatures(ws, row)
        self.print_setup(ws, row - 1, no)
        return ws

    def print_setup(self, ws: Worksheet, last_row: int, no: str) -> None:
        """A4 portrait, fitted to one page (see ``MIN_SCALE``); no page header (the title says whose form it is, and
        LibreOffice's fitting leaves a header's height out), the number at the foot of the page."""
        ws.set_portrait()
        ws.set_paper(9)  # A4
        ws.set_margins(left=0.5, right=0.5, top=0.5, bottom=0.7)
        ws.center_horizontally()
        # one sheet of paper, shrunk as needed, unless that would make it too small to read:
        # then one page wide, and the form goes on to a second page
        ws.fit_to_pages(1, 1 if sum(self.heights) <= PAGE_HEIGHT / MIN_SCALE else 0)
        ws.print_area(0, 0, last_row, 7)
        s = self.settings
        office = " ".join(x for x in (s.branch_code, s.branch_name) if x)
        ws.set_footer(f"&L&8{office.replace('&', '&&')}&R&8{no.replace('&', '&&')}", {"margin": 0.3})

    def close(self) -> None:
        self.wb.close()


def write_forms(forms: Sequence[CaseForm], settings: Settings, *, lang: str, printed: datetime,
                mask: bool) -> bytes:
    """The workbook of ``forms``, one sheet each, as bytes (written whole by the caller)."""
    buffer = io.BytesIO()
    writer = FormWriter(buffer, settings, lang=lang, printed=printed, mask=mask)
    for form in forms:
        writer.write(form)
    writer.close()
    return buffer.getvalue()
