"""`sessions`: one row per user session, built from the events that landed on ds."""
from pyspark.sql.types import (BooleanType, DateType, DoubleType, LongType, StringType, StructField, StructType,
                               TimestampType)

from schemas.base import TableSpec

SESSIONS_SCHEMA = StructType([
    StructField("ds", DateType(), False),
    StructField("user_id", StringType(), False),
    StructField("session_id", StringType(), False),
    # "source" when the log carried the id, "gap" when sessionization derived it.
    StructField("session_origin", StringType(), False),
    StructField("start_ts", TimestampType(), False),
    StructField("end_ts", TimestampType(), False),
    StructField("duration_seconds", DoubleType(), False),
    StructField("events", LongType(), False),
    StructField("views", LongType(), False),
    StructField("distinct_items", LongType(), False),
    StructField("distinct_categories", LongType(), False),
    StructField("total_dwell_seconds", DoubleType(), False),
    StructField("carts", LongType(), False),
    StructField("purchases", LongType(), False),
    StructField("reached_cart", BooleanType(), False),
    StructField("purchased", BooleanType(), False),
    # Views before the session's first cart, and seconds from session start to it (null without a cart).
    StructField("views_before_first_cart", LongType(), True),
    StructField("seconds_to_first_cart", DoubleType(), True),
    StructField("device", StringType(), False),
])

SESSIONS = TableSpec(
    name="sessions",
    schema=SESSIONS_SCHEMA,
    partition_by="ds",
    key=("ds", "user_id", "session_id"),
    description="Sessions of the events that landed on ds: the source's session id where given, else a "
                "new session after an inactivity gap.",
)
