"""Order-independent aggregates, so reruns and backfills reproduce a partition bit for bit.

A double sum depends on the order rows reach it, and shuffle order is not fixed from run to run, so
floating-point sums can differ in their last bits between two runs over the same data. Summing as a
fixed-scale decimal is exact and therefore independent of order.
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_DECIMAL = "decimal(38,9)"


def exact_sum(col: Column | str) -> Column:
    """Sum of a double column, exact at 1e-9 (null when every value is null)."""
    c = F.col(col) if isinstance(col, str) else col
    return F.sum(c.cast(_DECIMAL)).cast("double")


def exact_avg(col: Column | str) -> Column:
    """Mean of the non-null values, order-independent (null when there are none)."""
    c = F.col(col) if isinstance(col, str) else col
    return (F.sum(c.cast(_DECIMAL)) / F.count(c)).cast("double")
