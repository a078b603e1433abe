"""`models` (partition as_of): the model registry, one row per (week, model version) and its decision."""
from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType

from schemas.base import TableSpec

MODEL_STATUSES = ("trained", "champion", "shadow", "rejected")

MODELS = TableSpec(
    name="models",
    schema=StructType([
        StructField("as_of", DateType(), False),
        StructField("model_version", StringType(), False),
        StructField("backend", StringType(), False),
        # JSON: ALS hyper-parameters and the interaction weights the model was trained with.
        StructField("params", StringType(), False),
        StructField("train_start", DateType(), False),
        StructField("train_end", DateType(), False),
        StructField("users", LongType(), False),
        StructField("items", LongType(), False),
        StructField("nnz", LongType(), False),
        # recpipe version + hash of the job code that trained it.
        StructField("code_version", StringType(), False),
        StructField("train_seconds", DoubleType(), False),
        # trained (not yet gated) | champion (served) | shadow (kept, not served) | rejected.
        StructField("status", StringType(), False),
        StructField("reason", StringType(), True),
        # JSON: the gate's inputs (challenger, baseline and champion figures).
        StructField("gate", StringType(), True),
        StructField("champion_before", StringType(), True),
    ]),
    partition_by="as_of",
    key=("as_of", "model_version"),
    description="Rows are decisions, never edited later: the champion as of D is the latest champion row "
                "with as_of <= D.",
)
