"""`user_factors` and `item_factors` (partition model_version): ALS embeddings with their id mappings."""
from pyspark.sql.types import ArrayType, FloatType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec


def _factors(entity: str) -> TableSpec:
    return TableSpec(
        name=f"{entity}_factors",
        schema=StructType([
            StructField("model_version", StringType(), False),
            StructField(f"{entity}_id", StringType(), False),
            # Row of the factor matrix: ids sorted ascending, so the mapping is a pure function of the ids.
            StructField(f"{entity}_index", LongType(), False),
            StructField("factors", ArrayType(FloatType(), False), False),
        ]),
        partition_by="model_version",
        key=("model_version", f"{entity}_id"),
        description=f"{entity} embeddings of one model version; score(u, i) = dot(user.factors, item.factors).",
    )


USER_FACTORS = _factors("user")
ITEM_FACTORS = _factors("item")
