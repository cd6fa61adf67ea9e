"""One base for every refusal the user reads: a code and its parameters, rendered once.

``XlcError(code, **params)``: ``code`` keys a registered catalogue (``i18n.register_messages``;
a ``StrEnum`` member is its code), ``params`` fill its template, and ``message(lang)`` is the
one rendering, through ``i18n.render``. The command line, the buttons and the console show any
of them alike (``console.print_error``). Subclasses only say where the refusal comes from, so
``except WorkbookError`` and the like keep working: ``workbook.errors.WorkbookError`` (a whole
file, exit 2), ``core.cells.CellError`` (one cell), ``core.policy.PolicyFileError`` (a head
office's policy file), ``templates.macro.StandaloneError`` (a workbook that cannot be made
standalone). Errors that never reach a user as such (a lock found, a file changed meanwhile)
are plain exceptions turned into one of these where they are caught.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from xlcomplaints.i18n import render


class XlcError(Exception):
    """A refusal as a message code and its parameters (see the module's docstring)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def message(self, lang: str = "zh") -> str:
        """The refusal in ``lang`` (``"zh"`` or ``"en"``)."""
        return render(self.code, lang, self.params)

    def __reduce__(self) -> tuple[Any, tuple[()]]:  # the parameters survive pickling (worker processes)
        return partial(type(self), self.code, **self.params), ()
