"""`dq_results` (partition ds): every expectation's outcome per table, partition and run."""
from pyspark.sql.types import BooleanType, DateType, StringType, StructField, StructType

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
        StructField("run_id", StringType(), False),
    ]),
    partition_by="ds",
    key=("ds", "table_name", "expectation"),
    description="A table's rows for ds are replaced by each validation of that partition.",
)
