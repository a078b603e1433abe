"""`quarantine`: every rejected landing record, as received, with a reason code and a detail."""
from pyspark.sql.types import BinaryType, DateType, StringType, StructField, StructType

from schemas.base import TableSpec

# Reason codes, in the order the checks run: a record gets the first one that applies.
QUARANTINE_REASONS = (
    "invalid_utf8",
    "empty_record",
    "malformed_json",
    "unknown_fields",
    "missing_field",
    "wrong_type",
    "unknown_event_type",
    "invalid_device",
    "dwell_out_of_range",
    "price_out_of_range",
    "timestamp_out_of_range",
    "conflicting_duplicate",
)

QUARANTINE_SCHEMA = StructType([
    StructField("raw_record", StringType(), False),
    StructField("raw_bytes", BinaryType(), False),
    StructField("reason", StringType(), False),
    StructField("detail", StringType(), True),
    StructField("event_id", StringType(), True),
    StructField("source_file", StringType(), False),
    StructField("ds", DateType(), False),
])

QUARANTINE = TableSpec(
    name="quarantine",
    schema=QUARANTINE_SCHEMA,
    partition_by="ds",
    key=(),
    description="Rejected records. raw_bytes holds the bytes exactly as received; raw_record is their "
                "text with invalid UTF-8 replaced, for reading.",
)
