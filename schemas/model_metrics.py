"""`model_metrics` (partition as_of): offline metrics of each evaluation run, long format."""
from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec

ROLES = ("challenger", "baseline", "champion")
RANKING_METRICS = ("ndcg", "recall", "precision", "map", "hit_rate")
EXPOSURE_METRICS = ("coverage", "gini", "popularity_percentile", "long_tail_share")

MODEL_METRICS = TableSpec(
    name="model_metrics",
    schema=StructType([
        StructField("as_of", DateType(), False),
        # The evaluation run: every row of one run carries the challenger it was run for.
        StructField("challenger_version", StringType(), False),
        StructField("model_version", StringType(), False),
        StructField("role", StringType(), False),
        # "all", "device:<device>" or "type:<buyer|browser>".
        StructField("segment", StringType(), False),
        StructField("metric", StringType(), False),
        StructField("k", LongType(), False),
        StructField("value", DoubleType(), False),
        StructField("users", LongType(), False),
    ]),
    partition_by="as_of",
    key=("as_of", "challenger_version", "model_version", "role", "segment", "metric", "k"),
    description="Ranking metrics are means over evaluation users; exposure metrics are over all their lists.",
)
