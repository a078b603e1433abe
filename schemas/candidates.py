"""`candidates` and `fallback_candidates` (partition as_of): what the ranking stage reads.

Lookup for a user on day D: the user's rows in `candidates` (as_of = D); a user without any falls back to
`fallback_candidates` for the segment `device:<the user's device>` and, where that is missing, `global`.
"""
from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec

CANDIDATES = TableSpec(
    name="candidates",
    schema=StructType([
        StructField("as_of", DateType(), False),
        StructField("user_id", StringType(), False),
        StructField("item_id", StringType(), False),
        # 1 = best.
        StructField("rank", LongType(), False),
        StructField("score", DoubleType(), False),
        StructField("source", StringType(), False),
        StructField("model_version", StringType(), False),
        # For ranks 1..10: the history item that contributed most to the score (null below).
        StructField("reason_item_id", StringType(), True),
    ]),
    partition_by="as_of",
    key=("as_of", "user_id", "item_id"),
    description="Top-K personal candidates per active user from the champion model, already-bought items "
                "excluded.",
)

FALLBACK_CANDIDATES = TableSpec(
    name="fallback_candidates",
    schema=StructType([
        StructField("as_of", DateType(), False),
        # "global" or "device:<device>"
        StructField("segment", StringType(), False),
        StructField("item_id", StringType(), False),
        StructField("rank", LongType(), False),
        StructField("score", DoubleType(), False),
        StructField("source", StringType(), False),
    ]),
    partition_by="as_of",
    key=("as_of", "segment", "item_id"),
    description="Popularity lists per segment (item_popularity's rank) for users without personal candidates.",
)
