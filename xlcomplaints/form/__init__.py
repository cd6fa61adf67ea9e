"""The complaint handling form (投诉处理单): one complaint on one A4 page, to print and sign.

``run.form_flow`` is the entry point (the ``form`` command and the 打印处理单 button): it reads the
branch over the workbook port, builds each complaint's page (``core.form``), writes the forms with
XlsxWriter (``workbook``) and, for a ``.pdf``, converts them with LibreOffice (``pdf``).
"""
