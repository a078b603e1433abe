"""train_als: `interactions` of the week ds -> `user_factors`, `item_factors` and a `models` row (status
trained) for the week's model version.

    python -m jobs.train_als --ds 2026-11-14 [--backend implicit|spark]

Backends: `implicit` (one machine; its CUDA build when a GPU is visible) and `spark` (Spark MLlib ALS with
implicit preferences, for matrices larger than one machine). Both minimise the Hu-Koren-Volinsky
objective with confidence 1 + alpha·strength; MLlib additionally scales the regularisation by each row's
count of ratings (ALS-WR), so it takes its own `als.spark_regularization`.
Training is seeded from the configured seed and ds: a rerun writes the same factors.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession

from recpipe.als import Factors, Matrix, build_matrix, derive_seed, train_implicit
from recpipe.config import ALSConfig, Config
from recpipe.registry import code_version, model_params, model_version_for, train_window
from recpipe.storage import Lake, parse_ds
from schemas import INTERACTIONS, ITEM_FACTORS, MODELS, USER_FACTORS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSummary:
    ds: str
    model_version: str
    users: int
    items: int
    nnz: int
    seconds: float
    device: str

    def __str__(self) -> str:
        return (f"train_als ds={self.ds}: {self.model_version} on {self.users} users x {self.items} items "
                f"({self.nnz} pairs), fit {self.seconds:.1f}s on {self.device}")


def collect_matrix(interactions: DataFrame) -> Matrix:
    pdf = interactions.select("user_id", "item_id", "strength").toPandas()
    if pdf.empty:
        raise ValueError("train_als: the interactions partition is empty; nothing to train on")
    return build_matrix(pdf["user_id"], pdf["item_id"], pdf["strength"])


def train_spark(spark: SparkSession, matrix: Matrix, cfg: ALSConfig, seed: int, checkpoint_dir: str | None = None
                ) -> Factors:
    """Spark MLlib ALS (implicitPrefs) on the same matrix; factors come back aligned with its indices.

    ALS checkpoints every 10 iterations: without a checkpoint directory the lineage grows with each
    iteration until deserialising a task overflows the JVM stack.
    """
    import tempfile

    from pyspark.ml.recommendation import ALS

    spark.sparkContext.setCheckpointDir(checkpoint_dir or tempfile.mkdtemp(prefix="recpipe-als-"))

    coo = matrix.values.tocoo()
    ratings = spark.createDataFrame(pd.DataFrame({
        "u": coo.row.astype(np.int32), "i": coo.col.astype(np.int32), "r": coo.data.astype(np.float32)}))
    als = ALS(rank=cfg.factors, maxIter=cfg.iterations, regParam=cfg.spark_regularization, alpha=cfg.alpha,
              implicitPrefs=True, userCol="u", itemCol="i", ratingCol="r", seed=seed, nonnegative=False,
              coldStartStrategy="nan")
    t0 = time.perf_counter()
    model = als.fit(ratings)
    users = model.userFactors.toPandas()
    items = model.itemFactors.toPandas()
    seconds = time.perf_counter() - t0

    def aligned(pdf: pd.DataFrame, n: int) -> np.ndarray:
        out = np.zeros((n, cfg.factors), dtype=np.float32)
        out[pdf["id"].to_numpy()] = np.stack(pdf["features"].to_numpy()).astype(np.float32)
        return out

    return Factors(aligned(users, matrix.shape[0]), aligned(items, matrix.shape[1]), seconds, "spark")


def train(matrix: Matrix, cfg: ALSConfig, seed: int, backend: str, spark: SparkSession | None = None,
          checkpoint_dir: str | None = None) -> Factors:
    if backend == "implicit":
        return train_implicit(matrix.values, factors=cfg.factors, regularization=cfg.regularization,
                              alpha=cfg.alpha, iterations=cfg.iterations, seed=seed,
                              num_threads=cfg.num_threads, use_gpu=cfg.use_gpu)
    if backend == "spark":
        if spark is None:
            raise ValueError("train_als: the spark backend needs a SparkSession")
        return train_spark(spark, matrix, cfg, seed, checkpoint_dir)
    raise ValueError(f"train_als: unknown backend {backend!r}; use 'implicit' or 'spark'")


def factor_frame(spark: SparkSession, spec, version: str, ids: np.ndarray, vectors: np.ndarray) -> DataFrame:
    entity = spec.name.split("_")[0]
    pdf = pd.DataFrame({
        "model_version": version,
        f"{entity}_id": ids.astype(str),
        f"{entity}_index": np.arange(len(ids), dtype=np.int64),
        "factors": list(vectors.astype(np.float32)),
    })
    return spark.createDataFrame(pdf, spec.schema)


def store_model(lake: Lake, version: str, matrix: Matrix, factors: Factors, *, ds: dt.date, train_start: dt.date,
                train_end: dt.date, params: dict, backend: str) -> None:
    """Write both factor tables for the version, then its registry row (status trained)."""
    spark = lake.spark
    lake.replace_where(factor_frame(spark, USER_FACTORS, version, matrix.user_ids, factors.user), USER_FACTORS,
                       model_version=version)
    lake.replace_where(factor_frame(spark, ITEM_FACTORS, version, matrix.item_ids, factors.item), ITEM_FACTORS,
                       model_version=version)
    row = (ds, version, backend, json.dumps(params, sort_keys=True), train_start, train_end,
           int(matrix.shape[0]), int(matrix.shape[1]), int(matrix.values.nnz), code_version(),
           float(factors.seconds), "trained", None, None, None)
    lake.replace_where(spark.createDataFrame([row], MODELS.schema), MODELS, as_of=ds, model_version=version)


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None, backend: str | None = None
        ) -> TrainSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    backend = backend or cfg.als.backend
    spark = spark or get_spark(cfg, app_name=f"train_als[{day}]")
    lake = Lake(spark, cfg.lake)
    start, end = train_window(cfg, day)
    matrix = collect_matrix(lake.read(INTERACTIONS, day, day))
    version = model_version_for(cfg, day, backend)
    log.info("train_als ds=%s: fitting %s (%d x %d, %d pairs)", day, version, *matrix.shape, matrix.values.nnz)
    factors = train(matrix, cfg.als, derive_seed(cfg.seed, "train_als", day), backend, spark,
                    checkpoint_dir=str(lake.root / "_checkpoints" / "als"))
    store_model(lake, version, matrix, factors, ds=day, train_start=start, train_end=end,
                params=model_params(cfg, backend), backend=backend)
    return TrainSummary(day.isoformat(), version, matrix.shape[0], matrix.shape[1], matrix.values.nnz,
                        factors.seconds, factors.device)


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("train_als", run, argv, aliases={"--backend": "als.backend"})


if __name__ == "__main__":
    sys.exit(main())
