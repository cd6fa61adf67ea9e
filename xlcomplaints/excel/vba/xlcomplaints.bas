Option Explicit

' The buttons of an xlcomplaints branch workbook.
'
' Each Sub is the macro of one Form Control button. It hands over to Python through
' xlwings' RunPython, which comes from the xlwings add-in (`xlwings addin install`,
' referenced by this project) or, in a standalone workbook, from the embedded
' xlwings module. Python finds this workbook with xlwings.Book.caller(), runs the
' same flow as the command line and reports back in a message box, so nothing
' else belongs here: keep this module ASCII, the captions live on the buttons.

Public Sub RefreshOverdue()
    RunPython "import xlcomplaints.excel.entry as e; e.refresh_overdue()"
End Sub

Public Sub ValidateWorkbook()
    RunPython "import xlcomplaints.excel.entry as e; e.validate()"
End Sub

Public Sub AssignNumbers()
    RunPython "import xlcomplaints.excel.entry as e; e.assign_numbers()"
End Sub

Public Sub MonthlyReport()
    RunPython "import xlcomplaints.excel.entry as e; e.monthly_report()"
End Sub

Public Sub PrintForm()
    RunPython "import xlcomplaints.excel.entry as e; e.print_form()"
End Sub
