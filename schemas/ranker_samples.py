"""`ranker_samples` (partition as_of = the label day): positives and sampled negatives with the user's
features and the item's stats as of the day before (features_as_of), never from the label window."""
from pyspark.sql.types import DateType, IntegerType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec
from schemas.item_popularity import DEFAULT_WINDOWS, item_popularity_schema
from schemas.user_features import user_features_schema

SAMPLE_KINDS = ("positive", "hard", "popularity", "uniform")
_KEYS = ("as_of", "user_id", "item_id", "segment")


def ranker_samples_schema(feature_windows=DEFAULT_WINDOWS, item_windows=DEFAULT_WINDOWS) -> StructType:
    fields = [
        StructField("as_of", DateType(), False),
        StructField("user_id", StringType(), False),
        StructField("item_id", StringType(), False),
        StructField("label", IntegerType(), False),
        StructField("sample_kind", StringType(), False),
        # The item's rank in the user's candidates served that day (published the night before), if any.
        StructField("candidate_rank", LongType(), True),
        StructField("features_as_of", DateType(), False),
    ]
    # Features are nullable here: an item may have no stats in the window.
    fields += [StructField(f"u_{f.name}", f.dataType, True) for f in user_features_schema(tuple(feature_windows))
               if f.name not in _KEYS]
    fields += [StructField(f"i_{f.name}", f.dataType, True) for f in item_popularity_schema(tuple(item_windows))
               if f.name not in _KEYS]
    return StructType(fields)


def ranker_samples_spec(feature_windows=DEFAULT_WINDOWS, item_windows=DEFAULT_WINDOWS) -> TableSpec:
    return TableSpec(
        name="ranker_samples",
        schema=ranker_samples_schema(feature_windows, item_windows),
        partition_by="as_of",
        key=("as_of", "user_id", "item_id"),
        description="label 1: a positive interaction on as_of by a user who had candidates; label 0: sampled "
                    "negatives (hard: from the user's candidates, popularity-proportional, uniform), never a "
                    "positive of that user on as_of. u_* = user_features, i_* = global item_popularity, both "
                    "as of features_as_of = as_of - 1.",
    )


RANKER_SAMPLES = ranker_samples_spec()
