"""`dq_results` (partition ds): every expectation's outcome per table, partition and validation run.

An append-only log: each validation of a table partition adds its outcomes under the next `attempt` number
of that (ds, table) — 1 for the first; the partition's current verdict is its latest attempt
(`recpipe.dq.latest_outcomes`), earlier attempts stay for the record (a failure that was fixed and re-run
is still visible). Numbered from the log itself rather than stamped with a clock, so a backfill that
validates each partition once writes what the daily runs wrote.
"""
from pyspark.sql.types import BooleanType, DateType, IntegerType, StringType, StructField, StructType

from schemas.base import TableSpec

DQ_RESULTS = TableSpec(
    name="dq_results",
    schema=StructType([
        # The validated partition's date.
        StructField("ds", DateType(), False),
        StructField("table_name", StringType(), False),
        StructField("expectation", StringType(), False),
        # error (blocks publishing) | warn (reported)
        StructField("severity", StringType(), False),
        StructField("success", BooleanType(), False),
        StructField("observed", StringType(), True),
        # The Airflow run id under a scheduler, else an id of the chain run or command.
        StructField("run_id", StringType(), False),
        # 1 for a partition's first validation, + 1 for each later one.
        StructField("attempt", IntegerType(), False),
    ]),
    partition_by="ds",
    key=("ds", "table_name", "attempt", "expectation"),
    description="Append-only: one row per expectation per validation run of a table partition.",
)
