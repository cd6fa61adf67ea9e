"""The monthly report (月报表): one branch, or many consolidated.

``run.make_report`` is the entry point (the ``report`` and ``consolidate`` commands):
``consolidate`` reads branch files in parallel into ``core.metrics.Case`` facts and merges
them, ``summary`` computes every table once, ``workbook`` (with ``cover`` and ``charts``)
writes the workbook, ``facts`` keeps a consolidation's facts store so one branch can be re-run,
``history`` reads earlier reports' trends. (Sample branch files for tests and benchmarks are
made by ``tests/samples.py``.)
"""
