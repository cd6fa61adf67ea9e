Option Explicit

' Document module of the workbook (codeName ThisWorkbook). Deliberately empty: the
' workbook runs no code when it opens, so opening it never needs Python.
