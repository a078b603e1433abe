"""`population_models` (partition as_of): the population-level models fitted each day.

Beta priors for each smoothed rate and window, and the two-component browser/buyer mixture, stored so a
feature value can be traced to the prior that produced it.
"""
from pyspark.sql.types import DateType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec

POPULATION_MODELS = TableSpec(
    name="population_models",
    schema=StructType([
        StructField("as_of", DateType(), False),
        StructField("model", StringType(), False),
        StructField("params_json", StringType(), False),
        StructField("n_users", LongType(), False),
    ]),
    partition_by="as_of",
    key=("as_of", "model"),
)
