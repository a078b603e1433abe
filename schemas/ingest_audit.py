"""`ingest_audit`: per ds and source file, rows read = accepted + quarantined + duplicates dropped."""
from pyspark.sql.types import DateType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec

INGEST_AUDIT_SCHEMA = StructType([
    StructField("ds", DateType(), False),
    StructField("source_file", StringType(), False),
    StructField("rows_read", LongType(), False),
    StructField("rows_accepted", LongType(), False),
    StructField("rows_quarantined", LongType(), False),
    StructField("duplicates_dropped", LongType(), False),
    StructField("conflicting_duplicates", LongType(), False),
])

INGEST_AUDIT = TableSpec(
    name="ingest_audit",
    schema=INGEST_AUDIT_SCHEMA,
    partition_by="ds",
    key=("ds", "source_file"),
    description="Row accounting per landing file; conflicting_duplicates is the part of rows_quarantined "
                "rejected for sharing an event_id with different content.",
)
