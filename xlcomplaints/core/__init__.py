"""The functional core: pure functions over pydantic models (parsing, calendar, policy, deadlines,
lifecycle, validation, numbering, refresh plan, metrics). Never imports openpyxl or xlwings."""
