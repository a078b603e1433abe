"""`candidate_metrics` (partition as_of): bias and coverage of the published candidates, per segment."""
from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec

CANDIDATE_METRICS = TableSpec(
    name="candidate_metrics",
    schema=StructType([
        StructField("as_of", DateType(), False),
        StructField("model_version", StringType(), False),
        # "all", "device:<device>" (the user's most used device, 28 days) or "type:<buyer|browser>".
        StructField("segment", StringType(), False),
        # coverage, gini, popularity_lift, long_tail_share, popularity_percentile at k; top_decile_unique_items
        StructField("metric", StringType(), False),
        StructField("k", LongType(), False),
        StructField("value", DoubleType(), False),
        StructField("users", LongType(), False),
    ]),
    partition_by="as_of",
    key=("as_of", "segment", "metric", "k"),
    description="popularity_lift = mean 28-day events of recommended items / mean over the catalogue; "
                "top_decile_unique_items = distinct items among ranks <= K/10 of all users' lists.",
)
