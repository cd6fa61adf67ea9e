"""The functional core: pure functions over plain immutable records (parsing, calendar, policy, deadlines,
lifecycle, validation, numbering, refresh plan, metrics). Never imports openpyxl or xlwings."""
