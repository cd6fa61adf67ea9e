"""Sample head-office policies, shared by the tests and the benchmarks (one copy of each text).

``HEAD_OFFICE_LISTS``: head office's lists (``--policy``): entries the branches spell otherwise (an alias, an
English name, a built-in code), entries no branch uses, and most of the branches' values left off (counted under
their own names and listed on the Issues sheet); the Register's handler and department lists too. Used by
``tests/test_store_report.py`` (the store's report equals the Python engine's) and ``scripts/bench_policy.py``.
"""

from __future__ import annotations

HEAD_OFFICE_LISTS = """
[lists]
category = [{ zh = "质量问题", en = "Quality issues", aliases = ["产品质量"] }, "Service attitude", "收费", "新类别"]
channel = ["电话", { zh = "上门", aliases = ["来访"] }]
case_type = [{ zh = "投诉", en = "Complaint" }, "咨询"]
department = [{ zh = "客户服务部", aliases = ["客服部"] }, "工程部"]
handler = [{ zh = "陈经理", aliases = ["陈"] }, "王工", "李四"]
"""
