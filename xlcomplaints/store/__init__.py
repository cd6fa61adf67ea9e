"""The consolidation's facts store (an adapter: Parquet files through pyarrow; ``core`` never imports it).

``schema``: the fact tables as Arrow schemas, and ``Case`` ↔ Arrow, losslessly.
"""
