"""The figures a monthly report shows, read back with openpyxl, keyed like the auditor's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl

from tests.audit.inputs import choice

#: Breakdown sheet → (figure-id dimension, vocabulary of its values).
BREAKDOWN_SHEETS = {"按类型": ("type", "case_type"), "按投诉类别": ("category", "category"),
                    "按投诉渠道": ("channel", "channel"), "按严重程度": ("severity", "severity"),
                    "按有效性": ("validity", "validity"), "按责任部门": ("department", None),
                    "按网点": ("branch", None)}
COVER_KEYS = {
    "受理件数": "received", "有效投诉": "valid", "协助处理": "assist", "无效投诉": "invalid",
    "需处理件数": "to_handle", "重大投诉": "major", "投诉升级": "escalated", "结案件数": "closed",
    "结案率": "close_rate", "期末未结案": "open_at_end", "上期结转未结案": "carried_over",
    "处理及时率": "on_time_rate", "逾期件数": "overdue", "期末仍逾期": "overdue_now",
    "受理通知用时中位数": "acknowledge_median", "受理通知用时90%分位": "acknowledge_p90",
    "首次联系用时中位数": "first_contact_median", "首次联系用时90%分位": "first_contact_p90",
    "处理用时中位数": "resolve_median", "处理用时90%分位": "resolve_p90",
    "结案用时中位数": "close_median", "结案用时90%分位": "close_p90",
    "回访率": "callback_rate", "回访及时率": "callback_on_time_rate", "满意率": "satisfaction_rate",
    "平均评分": "average_score", "重开率": "reopen_rate", "重复投诉率": "repeat_rate",
}
BREAKDOWN_COLUMNS = {"count": 2, "share": 3, "previous": 4, "change": 5, "on_time_rate": 6, "overdue": 7}
#: The cover's side panels: title → (figure-id panel, breakdown dimension or "stages", its two columns).
PANELS = {"投诉类别：件数前五": ("top-count", "category", ("count", "share")),
          "责任部门：件数前五": ("top-count", "department", ("count", "share")),
          "投诉类别：逾期前五": ("top-overdue", "category", ("overdue", "on_time_rate")),
          "责任部门：逾期前五": ("top-overdue", "department", ("overdue", "on_time_rate")),
          "及时率最低的环节": ("lowest-on-time", "stages", ("due_count", "on_time_rate"))}
STAGE_LABELS = {"受理通知": "acknowledge", "首次联系": "first_contact", "上报管理层": "report", "调查处理": "resolve",
                "答复客户": "reply", "回访": "callback", "结案": "close"}
STAGE_COLUMNS = {"due_count": 1, "on_time": 2, "on_time_rate": 3, "median": 4, "p90": 5}
AGE_LABELS = {"0–3 天": "0-3", "4–7 天": "4-7", "8–14 天": "8-14", "15 天以上": "15+"}
#: The By-handler sheet's columns (and the By-department sheet's after its breakdown columns), by header.
PEOPLE_HEADERS = {
    "需处理件数": "handled", "结案件数": "closed", "未结案件数": "open", "处理及时率": "on_time_rate",
    **{f"{label}及时率": f"on_time_{stage}" for label, stage in STAGE_LABELS.items()},
    "当前逾期件数": "overdue_now", "处理用时中位数": "resolve_median", "满意率": "satisfaction_rate",
    "平均评分": "average_score", "重开件数": "reopened", "重复投诉件数": "repeats",
}


def _name_and_unit(label: str) -> tuple[str, str | None]:
    """A cover label and the unit it names in brackets, if any: 处理用时中位数（工作日） → (处理用时中位数, 工作日).
    The unit is the policy's (the Settings' SLA rules), so it is read from the label, never assumed."""
    m = re.fullmatch(r"(.+?)（([^（）]+)）", label)
    return (m.group(1), m.group(2)) if m else (label, None)


def _value(cell: object) -> object:
    """A figure as written; "—" is the report's "no value" (a change cell may say 上期不完整 instead)."""
    return None if cell == "—" else cell


def read_report(path: Path) -> dict[str, object]:
    """Figure id → value: ``cover:<key>`` and ``cover-previous:<key>`` (columns B and C; a metric
    not in COVER_KEYS keeps its label), ``backlog:<age>`` / ``backlog-previous:<age>``,
    ``breakdown:<dimension>:<value code>:<column>`` (（未填） is ``blank``, 合计 ``total``; a
    department as written, a branch by its code), ``stages:<stage>:<column>``,
    ``overdue-detail:<branch>:<complaint no. or received time>:<stage>`` → late by (and
    ``overdue-detail-order``: (that key, severity, due) in the sheet's order); and
    ``sheet-order:<dimension>`` (and ``sheet-order:stages``) → the values in the order the sheet lists
    them; ``definitions`` → {指标: 定义} and ``cover-labels`` → the cover's metric labels. A time's cover row is
    keyed by its name without the unit (受理通知用时中位数（工作小时） → ``cover:acknowledge_median``) and its unit
    goes to ``cover-unit:<key>`` (a unit code), to be checked against the stage's rules."""
    wb = openpyxl.load_workbook(path, data_only=True)
    out: dict[str, object] = {}
    labels: list[str] = []
    for row in wb["封面"].iter_rows(min_row=5, values_only=True):
        label = row[0]
        if isinstance(label, str) and label != "指标" and (row[1] is not None or row[2] is not None):
            name, unit = _name_and_unit(label)
            key = COVER_KEYS.get(name, label)
            if unit is not None:
                out[f"cover-unit:{key}"] = choice("unit", unit)
            labels.append(label)
            out[f"cover:{key}"] = _value(row[1])
            out[f"cover-previous:{key}"] = _value(row[2])
            out[f"cover-change:{key}"] = _value(row[3])
        if row[5] in AGE_LABELS:
            out[f"backlog:{AGE_LABELS[row[5]]}"] = row[6]
            out[f"backlog-previous:{AGE_LABELS[row[5]]}"] = row[7]
    out.update(_panels(wb["封面"]))
    for sheet, (dimension, vocab) in BREAKDOWN_SHEETS.items():
        if sheet not in wb.sheetnames:  # a one-branch report has no 按网点
            continue
        sheet_order: list[str] = []
        out[f"sheet-order:{dimension}"] = sheet_order
        for row in wb[sheet].iter_rows(min_row=2, values_only=True):
            label = row[1]
            if label is None:
                continue
            if label == "合计":
                value = "total"
            elif label == "（未填）":
                value = "blank"
            elif dimension == "branch":
                value = str(label).split()[0]
            else:
                value = (choice(vocab, label) if vocab else None) or str(label)
            if value != "total":
                sheet_order.append(value)
            for column, i in BREAKDOWN_COLUMNS.items():
                out[f"breakdown:{dimension}:{value}:{column}"] = row[i]
    out.update(_people(wb))
    stage_order: list[str] = []
    out["sheet-order:stages"] = stage_order
    for row in wb["环节时效"].iter_rows(min_row=2, values_only=True):
        if row[0] in STAGE_LABELS:
            stage_order.append(STAGE_LABELS[row[0]])
            for column, i in STAGE_COLUMNS.items():
                out[f"stages:{STAGE_LABELS[row[0]]}:{column}"] = row[i]
            out[f"stages:{STAGE_LABELS[row[0]]}:unit"] = choice("unit", row[6])
        elif isinstance(row[0], str):  # an office's own stage, by its name (自定义环节)
            stage_order.append(row[0])
            for column, i in STAGE_COLUMNS.items():
                out[f"stages:{row[0]}:{column}"] = row[i]
            out[f"stages:{row[0]}:unit"] = choice("unit", row[6])
    order: list[tuple[str, str | None, object]] = []
    for row in wb["超时明细"].iter_rows(min_row=2, values_only=True):
        if row[0] is None or row[7] is None:  # the note of a list cut at a sheet's last row has no stage
            continue
        name = row[1] or f"{row[2]:%Y-%m-%d %H:%M}"
        key = f"{row[0]}:{name}:{choice('stage', row[7]) or row[7]}"  # an office's own stage by its name
        out[f"overdue-detail:{key}"] = row[9]
        order.append((key, choice("severity", row[6]), row[8]))
    out["overdue-detail-order"] = order
    for row in wb["超时结案"].iter_rows(min_row=2, values_only=True):
        if row[0] is not None:
            out[f"closed-late:{row[0]}:{row[1] or f'{row[2]:%Y-%m-%d %H:%M}'}"] = (
                round(row[6], 2) if isinstance(row[6], int | float) else row[6])
    typical = [(f"{r[0]}:{r[1] or f'{r[2]:%Y-%m-%d %H:%M}'}", r[5]) for r in
               wb["典型案例"].iter_rows(min_row=2, values_only=True) if r[0] is not None]
    out["typical:selection"] = sorted(name for name, _ in typical)
    out["typical:order"] = [name for name, _ in typical]
    for name, reasons in typical:
        out[f"typical:{name}:reasons"] = reasons
    for r in wb["月度趋势"].iter_rows(min_row=2, values_only=True):
        if r[0] is not None:
            for column, value in zip(("received", "closed", "on_time_rate", "satisfaction_rate"), r[1:5],
                                     strict=True):
                out[f"trend:{r[0]}:{column}"] = value
    out["cover-labels"] = labels
    out["definitions"] = {r[0]: r[1] for r in wb["指标说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    return out


def _people(wb: Any) -> dict[str, object]:
    """``handler:<name>:<column>`` (（未填） is ``blank``), ``sheet-order:handler``, ``ranking:best`` and
    ``ranking:worst`` (names as listed) from 按处理人; ``department-people:<department>:<column>`` from the
    By-department sheet's columns after the breakdown's. A column is known by its header, its unit left out."""
    out: dict[str, object] = {}
    rows = list(wb["按处理人"].iter_rows(values_only=True))
    columns = {i: PEOPLE_HEADERS[_name_and_unit(h)[0]] for i, h in enumerate(rows[0])
               if isinstance(h, str) and _name_and_unit(h)[0] in PEOPLE_HEADERS}
    order: list[str] = []
    out["sheet-order:handler"] = order
    body = iter(rows[1:])
    for row in body:
        if row[0] is None:
            break
        name = "blank" if row[0] == "（未填）" else str(row[0])
        order.append(name)
        for i, key in columns.items():
            out[f"handler:{name}:{key}"] = _value(row[i])
    best: list[str] = []
    worst: list[str] = []
    for row in body:
        if row[0] == "最高":
            continue
        if isinstance(row[0], str) and row[0] != "（无）" and not row[0].startswith("考核排名"):
            best.append(row[0])
        if isinstance(row[4], str) and row[4] not in ("最低", "（无）"):
            worst.append(row[4])
    out["ranking:best"], out["ranking:worst"] = best, worst
    rows = list(wb["按责任部门"].iter_rows(values_only=True))
    columns = {i: PEOPLE_HEADERS[_name_and_unit(h)[0]] for i, h in enumerate(rows[0])
               if i >= len(BREAKDOWN_COLUMNS) + 2 and isinstance(h, str) and _name_and_unit(h)[0] in PEOPLE_HEADERS}
    for row in rows[1:]:
        if row[1] is None or row[1] == "合计":
            continue
        name = "blank" if row[1] == "（未填）" else str(row[1])
        for i, key in columns.items():
            out[f"department-people:{name}:{key}"] = _value(row[i])
    return out


def _panels(ws: Any) -> dict[str, object]:
    """``panel:<panel>:<dimension>`` → [(value, first column, second column), …] as listed."""
    out: dict[str, object] = {}
    rows = list(ws.iter_rows(values_only=True))
    for col in (5, 9):
        current: list[tuple[object, ...]] | None = None
        for row in rows:
            cell = row[col] if len(row) > col else None
            if cell in PANELS:
                panel, dimension, _ = PANELS[cell]
                vocab = {"category": "category", "stages": "stage"}.get(dimension)
                current = []
                out[f"panel:{panel}:{dimension}"] = current
                continue
            if current is None or cell is None:
                if cell is None:
                    current = None
                continue
            if row[col + 1] is None or isinstance(row[col + 1], str):  # the panel's header row
                continue
            value = (choice(vocab, cell) if vocab else None) or str(cell)
            current.append((value, row[col + 1], row[col + 2]))
    return out
