"""`events` (bronze): one row per accepted interaction, partitioned by the landing day `ds`."""
from pyspark.sql.types import DateType, DoubleType, StringType, StructField, StructType, TimestampType

from schemas.base import TableSpec

EVENT_TYPES = ("view", "add_to_cart", "purchase", "like")
DEVICES = ("mobile", "desktop", "tablet", "app", "unknown")

# Fields a landing record must carry; the others are optional.
REQUIRED_FIELDS = ("user_id", "item_id", "event_type", "event_ts")
# Every field a landing record may carry (the contract's columns less `ds`, which comes from the folder).
LANDING_FIELDS = ("event_id", "user_id", "session_id", "item_id", "event_type", "event_ts",
                  "dwell_seconds", "device", "price", "category")

EVENTS_SCHEMA = StructType([
    StructField("event_id", StringType(), False),
    StructField("user_id", StringType(), False),
    StructField("session_id", StringType(), True),
    StructField("item_id", StringType(), False),
    StructField("event_type", StringType(), False),
    StructField("event_ts", TimestampType(), False),
    StructField("dwell_seconds", DoubleType(), True),
    StructField("device", StringType(), False),
    StructField("price", DoubleType(), True),
    # The item's category as the shop logged it (nullable: not every source has one).
    StructField("category", StringType(), True),
    StructField("ds", DateType(), False),
])

EVENTS = TableSpec(
    name="events",
    schema=EVENTS_SCHEMA,
    partition_by="ds",
    key=("event_id",),
    description="Accepted interactions; ds is the day the record landed (late events count from that day).",
)
