"""The workbook-level XML edits, on small workbook.xml / rels / content types / table parts."""

from __future__ import annotations

from lxml import etree

from xlcomplaints.workbook.workbook_xml import add_sheet, first_hit, set_filter_range, table_edges

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"


def parts(names: str = "") -> tuple[etree._Element, etree._Element, etree._Element]:
    wb = etree.fromstring(
        f'<workbook xmlns="{MAIN}" xmlns:r="{R}"><sheets><sheet name="A" sheetId="3" r:id="rId1"/></sheets>'
        f'<externalReferences><externalReference r:id="rId2"/></externalReferences>{names}<calcPr/></workbook>')
    rels = etree.fromstring(f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="t" Target="x"/>'
                            f'<Relationship Id="rId2" Type="t" Target="y"/></Relationships>')
    types = etree.fromstring(f'<Types xmlns="{TYPES}"><Override PartName="/XL/worksheets/sheet2.xml" '
                             f'ContentType="stale"/></Types>')
    return wb, rels, types


def test_a_new_sheet_is_entered_last_with_its_names_in_schema_order() -> None:
    wb, rels, types = parts()
    rid, sheet_id = add_sheet(wb, rels, types, part="xl/worksheets/sheet2.xml", target="worksheets/sheet2.xml",
                              title="It's", names=[("_xlnm._FilterDatabase", "Overdue!$A$1:$N$1", True)])
    assert (rid, sheet_id) == ("rId3", 4)
    assert [etree.QName(el).localname for el in wb] == ["sheets", "externalReferences", "definedNames", "calcPr"]
    name = wb.find(f"{{{MAIN}}}definedNames/{{{MAIN}}}definedName")
    assert name.attrib == {"name": "_xlnm._FilterDatabase", "localSheetId": "1", "hidden": "1"}
    assert name.text == "'It''s'!$A$1:$N$1"
    assert [o.get("ContentType") for o in types] == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"]  # the stale one replaced
    assert rels[-1].attrib == {"Id": "rId3", "Type": f"{R}/worksheet", "Target": "worksheets/sheet2.xml"}


def test_filter_names_follow_only_their_own_plain_range() -> None:
    names = ('<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">A!$A$1:$C$1'
             '</definedName><definedName name="_xlnm._FilterDatabase" localSheetId="1">B!$A$1:$C$1</definedName>'
             '<definedName name="_xlnm._FilterDatabase" localSheetId="2">C!$A$1:$A$2,C!$C$1:$C$2</definedName>'
             '</definedNames>')
    wb, _, _ = parts(names)
    assert set_filter_range(wb, 0, (1, 1, 9, 3))
    assert not set_filter_range(wb, 0, (1, 1, 9, 3))  # already so
    assert not set_filter_range(wb, 2, (1, 1, 9, 3))  # two areas: left alone
    assert [d.text for d in wb.iter(f"{{{MAIN}}}definedName")] == [
        "A!$A$1:$C$9", "B!$A$1:$C$1", "C!$A$1:$A$2,C!$C$1:$C$2"]


def test_table_edges_are_its_header_and_totals_rows() -> None:
    table = etree.fromstring(f'<table xmlns="{MAIN}" displayName="T" ref="B2:D9" totalsRowCount="2"/>')
    edges = table_edges(table, "x")
    assert [(e.first_row, e.last_row) for e in edges] == [(2, 2), (8, 9)]
    assert first_hit(edges, range(3, 8), [2, 3]) is None  # data rows are ordinary cells
    assert first_hit(edges, [9], [1, 4])[1:] == (9, 4)  # type: ignore[index]
    no_header = etree.fromstring(f'<table xmlns="{MAIN}" name="U" ref="A1:A5" headerRowCount="0"/>')
    assert table_edges(no_header, "x") == []
