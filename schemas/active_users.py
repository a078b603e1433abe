"""`active_users` and `active_user_counts` (partition as_of)."""
from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType, TimestampType

from schemas.base import TableSpec

ACTIVE_USERS = TableSpec(
    name="active_users",
    schema=StructType([
        StructField("as_of", DateType(), False),
        StructField("user_id", StringType(), False),
        StructField("interactions", LongType(), False),
        StructField("active_days", LongType(), False),
        StructField("last_event_ts", TimestampType(), False),
    ]),
    partition_by="as_of",
    key=("as_of", "user_id"),
    description="Users with at least min_interactions events in the lookback_days landing days up to as_of.",
)

ACTIVE_USER_COUNTS = TableSpec(
    name="active_user_counts",
    schema=StructType([
        StructField("as_of", DateType(), False),
        StructField("active_users", LongType(), False),
        StructField("users_in_lookback", LongType(), False),
        StructField("active_share", DoubleType(), False),
        StructField("min_interactions", LongType(), False),
        StructField("lookback_days", LongType(), False),
    ]),
    partition_by="as_of",
    key=("as_of",),
    description="active_share = active_users / users with any event in the lookback window.",
)
