"""`dq_results` (partition ds): every expectation's outcome per table, partition and validation run.

An append-only log: each validation of a table partition adds its outcomes, stamped `validated_at`; the
partition's current verdict is its latest validation (`recpipe.dq.latest_outcomes`), earlier runs stay
for the record (a failure that was fixed and re-run is still visible).
"""
from pyspark.sql.types import BooleanType, DateType, StringType, StructField, StructType, TimestampType

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
        StructField("validated_at", TimestampType(), False),
    ]),
    partition_by="ds",
    key=("ds", "table_name", "validated_at", "expectation"),
    description="Append-only: one row per expectation per validation run of a table partition.",
)
