"""The DrawingML of our own native chart (``port.BarChart``): the chart part, its anchor in a
sheet's drawing, and a drawing part holding only it. Text in, text out; the package plumbing
(relationships, content types, the sheet's ``<drawing>``) is ``sheet_charts.py``.

The chart's series refer to the cells (``c:f``) and carry a copy of what they hold (``c:strCache``,
``c:numCache``): Excel redraws from the cells, the copy is what a reader shows before (and what
LibreOffice falls back on when a reference cannot be read).
"""

from __future__ import annotations

from xlcomplaints.workbook.port import BarChart, ChartSeries
from xlcomplaints.workbook.xlsx_values import COL_NAMES
from xlcomplaints.workbook.xml_text import xml_escape

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
DRAWING_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_REL = R_NS + "/chart"
DRAWING_REL = R_NS + "/drawing"
EMU_PER_PIXEL = 9525
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_FONT = '<a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/>'


def _text(value: str) -> str:
    return xml_escape(value).replace('"', "&quot;")


def _ref(sheet: str, col: int, first: int, last: int | None = None) -> str:
    """An absolute reference on ``sheet``, its name always quoted (any title reads the same)."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    cell = f"${COL_NAMES[col]}${first}"
    return f"{quoted}!{cell}" + (f":${COL_NAMES[col]}${last}" if last is not None and last != first else "")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _str_cache(values: tuple[str, ...]) -> str:
    points = "".join(f'<c:pt idx="{i}"><c:v>{_text(v)}</c:v></c:pt>' for i, v in enumerate(values))
    return f'<c:strCache><c:ptCount val="{len(values)}"/>{points}</c:strCache>'


def _series(i: int, s: ChartSeries, chart: BarChart, sheet: str) -> str:
    last = chart.first_row + len(chart.categories) - 1
    points = "".join(f'<c:pt idx="{j}"><c:v>{_number(v)}</c:v></c:pt>' for j, v in enumerate(s.values))
    return (
        f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>'
        f'<c:tx><c:strRef><c:f>{_text(_ref(sheet, s.name_cell[1], s.name_cell[0]))}</c:f>'
        f"{_str_cache((s.name,))}</c:strRef></c:tx>"
        f'<c:spPr><a:solidFill><a:srgbClr val="{s.colour}"/></a:solidFill></c:spPr>'
        f'<c:invertIfNegative val="0"/>'
        f'<c:dLbls><c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>'
        f'<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="800">{_FONT}</a:defRPr></a:pPr>'
        f'<a:endParaRPr lang="zh-CN"/></a:p></c:txPr><c:dLblPos val="outEnd"/>'
        f'<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/><c:showSerName val="0"/>'
        f'<c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>'
        f'<c:cat><c:strRef><c:f>{_text(_ref(sheet, chart.category_column, chart.first_row, last))}</c:f>'
        f"{_str_cache(chart.categories)}</c:strRef></c:cat>"
        f'<c:val><c:numRef><c:f>{_text(_ref(sheet, s.column, chart.first_row, last))}</c:f>'
        f'<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="{len(s.values)}"/>{points}'
        f"</c:numCache></c:numRef></c:val></c:ser>"
    )


def chart_part(chart: BarChart, sheet: str) -> bytes:
    """The chart part: a clustered bar chart, the first category at the top, a value label at each
    bar's end (no value axis: the labels say the numbers), the legend below."""
    series = "".join(_series(i, s, chart, sheet) for i, s in enumerate(chart.series))
    title = (f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1000" b="1">{_FONT}'
             f'</a:defRPr></a:pPr><a:r><a:rPr lang="zh-CN" sz="1000" b="1">{_FONT}</a:rPr>'
             f"<a:t>{_text(chart.title)}</a:t></a:r></a:p></c:rich></c:tx>"
             f'<c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>')
    axes = (
        '<c:catAx><c:axId val="50020001"/><c:scaling><c:orientation val="maxMin"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:numFmt formatCode="General" sourceLinked="1"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="50020002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="50020002"/><c:scaling><c:orientation val="minMax"/><c:min val="0"/></c:scaling>'
        '<c:delete val="1"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="1"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="50020001"/><c:crosses val="max"/><c:crossBetween val="between"/></c:valAx>'
    )
    body = (
        f'<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" xmlns:r="{R_NS}">'
        '<c:lang val="zh-CN"/><c:roundedCorners val="0"/>'
        f"<c:chart>{title}<c:plotArea><c:layout/>"
        f'<c:barChart><c:barDir val="bar"/><c:grouping val="clustered"/><c:varyColors val="0"/>{series}'
        '<c:gapWidth val="60"/><c:axId val="50020001"/><c:axId val="50020002"/></c:barChart>'
        f"{axes}</c:plotArea>"
        '<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>'
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart>'
        '<c:spPr><a:solidFill><a:schemeClr val="bg1"/></a:solidFill><a:ln w="9525"><a:solidFill>'
        '<a:srgbClr val="BFBFBF"/></a:solidFill></a:ln></c:spPr>'
        f'<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="900">{_FONT}</a:defRPr></a:pPr>'
        '<a:endParaRPr lang="zh-CN"/></a:p></c:txPr>'
        "</c:chartSpace>"
    )
    return (_DECL + body).encode("utf-8")


def anchor_xml(chart: BarChart, key: str, shape_id: int, rel_id: str) -> str:
    """The chart's anchor in a drawing: fixed at its top-left cell, its size in EMU; named ``key``
    (how a later refresh finds it again among the office's own drawings)."""
    row, col = chart.at
    width, height = chart.size
    return (
        f'<xdr:oneCellAnchor xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}">'
        f"<xdr:from><xdr:col>{col - 1}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{row - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f'<xdr:ext cx="{width * EMU_PER_PIXEL}" cy="{height * EMU_PER_PIXEL}"/>'
        f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
        f'<xdr:cNvPr id="{shape_id}" name="{_text(key)}" descr="{_text(chart.title)}"/>'
        f"<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
        f'<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{C_NS}"><c:chart xmlns:c="{C_NS}" xmlns:r="{R_NS}" r:id="{rel_id}"/>'
        f"</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor>"
    )


def drawing_part(anchor: str) -> bytes:
    """A drawing part holding one anchor."""
    return (f'{_DECL}<xdr:wsDr xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}">{anchor}</xdr:wsDr>').encode()


def rels_part(entries: list[tuple[str, str, str]]) -> bytes:
    """A relationships part: (id, type, target) each."""
    rels = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{_text(target)}"/>' for i, t, target in entries)
    return (f'{_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>").encode()
