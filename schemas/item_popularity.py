"""`item_popularity` (partition as_of): decayed popularity and trend per item and segment."""
from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec

DEFAULT_WINDOWS = (1, 7, 28)


def item_popularity_schema(windows=DEFAULT_WINDOWS) -> StructType:
    longest = max(windows)
    fields = [
        StructField("as_of", DateType(), False),
        # "global" or "device:<device>"
        StructField("segment", StringType(), False),
        StructField("item_id", StringType(), False),
    ]
    for w in windows:
        fields += [StructField(f"events_{w}d", LongType(), False),
                   StructField(f"score_{w}d", DoubleType(), False)]
    fields += [
        StructField(f"views_{longest}d", LongType(), False),
        StructField(f"carts_{longest}d", LongType(), False),
        StructField(f"purchases_{longest}d", LongType(), False),
        StructField(f"users_{longest}d", LongType(), False),
        StructField("trending", DoubleType(), False),
        StructField("rank", LongType(), False),
    ]
    return StructType(fields)


def item_popularity_spec(windows=DEFAULT_WINDOWS) -> TableSpec:
    return TableSpec(
        name="item_popularity",
        schema=item_popularity_schema(tuple(windows)),
        partition_by="as_of",
        key=("as_of", "segment", "item_id"),
        description="score_<w>d: event-type-weighted count with exponential time decay; trending: recent "
                    "daily rate over the longest window's (add-one smoothed); rank: by the middle window's "
                    "score within the segment.",
    )


ITEM_POPULARITY = item_popularity_spec()
