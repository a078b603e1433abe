"""`interactions` (partition as_of): the weekly ALS training matrix, one row per active user and item."""
from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType, TimestampType

from schemas.base import TableSpec

INTERACTIONS = TableSpec(
    name="interactions",
    schema=StructType([
        # The week's logical date; the training window ends at train_end = as_of - evaluation.holdout_days.
        StructField("as_of", DateType(), False),
        StructField("user_id", StringType(), False),
        StructField("item_id", StringType(), False),
        # Decayed signal sums: carts + purchases, likes, dwell-weighted views.
        StructField("s_transact", DoubleType(), False),
        StructField("s_like", DoubleType(), False),
        StructField("s_view", DoubleType(), False),
        # strength r = w_transact*s_transact + w_like*s_like + w_view*s_view; ALS confidence c = 1 + alpha*r.
        StructField("strength", DoubleType(), False),
        StructField("events", LongType(), False),
        StructField("last_event_ts", TimestampType(), False),
        StructField("train_start", DateType(), False),
        StructField("train_end", DateType(), False),
    ]),
    partition_by="as_of",
    key=("as_of", "user_id", "item_id"),
    description="Active users (as of train_end) x catalogue items (min_item_users) with decayed signals.",
)
