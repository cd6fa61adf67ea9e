"""Workbook I/O at the edge: the port every flow uses, the file adapter, the lossless package
writer, safe saves, and the hidden stamps that identify our sheets."""
