"""Workbooks built from the sheet specs with XlsxWriter: the branch templates (.xlsx, and .xlsm
with buttons) and the monthly-report layout."""
