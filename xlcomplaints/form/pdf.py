"""PDF through LibreOffice: the one adapter that runs ``soffice``, with a timeout.

LibreOffice prints each sheet with its own page setup, so a workbook of forms fitted to one
A4 page each becomes a PDF of one page per complaint. Each conversion runs in a throwaway
LibreOffice profile (a clerk's open LibreOffice, or a second conversion at the same time, does
not block it) and the PDF is put in place whole.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from xlcomplaints.core.problems import register_messages
from xlcomplaints.workbook.errors import WorkbookError

#: Seconds a conversion may take before it is given up (LibreOffice's first start is the slow part).
TIMEOUT = 180
#: Where LibreOffice installs itself on Windows, where ``soffice`` is seldom on the PATH.
WINDOWS_PLACES = (r"C:\Program Files\LibreOffice\program\soffice.exe",
                  r"C:\Program Files (x86)\LibreOffice\program\soffice.exe")

register_messages({
    "form.pdf_failed": ("LibreOffice 未能把处理单转换为 PDF（{detail}），未写入 {path}。",
                        "LibreOffice could not convert the forms to PDF ({detail}); {path} was not written."),
})


def find_soffice() -> str | None:
    """LibreOffice's command: ``XLCOMPLAINTS_SOFFICE``, else on the PATH, else where Windows puts it."""
    chosen = os.environ.get("XLCOMPLAINTS_SOFFICE")
    if chosen is not None:
        return chosen or None  # set but empty: as if not installed
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    if sys.platform == "win32":
        return next((p for p in WINDOWS_PLACES if Path(p).is_file()), None)
    return None


def convert(soffice: str, xlsx: bytes, target: Path, *, timeout: float = TIMEOUT) -> bytes:
    """The PDF of the workbook ``xlsx`` (bytes); raises ``form.pdf_failed`` naming ``target``."""
    with tempfile.TemporaryDirectory(prefix="xlcomplaints-pdf-") as tmp:
        work = Path(tmp)
        source = work / "forms.xlsx"
        source.write_bytes(xlsx)
        try:
            done = subprocess.run(
                [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(work), str(source)],
                capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise WorkbookError("form.pdf_failed", path=target.name, detail=f"> {timeout:.0f} s") from None
        except OSError as e:
            raise WorkbookError("form.pdf_failed", path=target.name, detail=e.strerror or str(e)) from e
        pdf = work / "forms.pdf"
        if not pdf.is_file():  # soffice exits 0 even when it could not convert: the file is the proof
            said = (done.stderr or done.stdout or b"").decode(errors="replace").strip().splitlines()
            raise WorkbookError("form.pdf_failed", path=target.name,
                                detail=said[-1] if said else f"exit {done.returncode}")
        return pdf.read_bytes()
