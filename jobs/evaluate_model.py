"""evaluate_model: the week's challenger, the popularity baseline and the champion on one time-based holdout
-> `model_metrics` rows for the week ds and challenger.

    python -m jobs.evaluate_model --ds 2026-11-14

Training data: the week's `interactions` (window ending at train_end = ds - holdout_days). Test: the
positive events (`evaluation.positive_types`) landed in (train_end, ds]. The popularity baseline ranks
items by distinct training users. The champion (the latest champion before this challenger) keeps its
item factors; its users are folded in from their current training history, as nightly serving does.
Segments: the user's most frequent device in the training window and the browser/buyer type
(`p_buyer` >= 0.5 as of train_end).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from recpipe.als import build_matrix
from recpipe.config import Config
from recpipe.evaluation import (Holdout, align_items, align_users, als_lists, build_holdout, evaluate_lists,
                                metric_value, popularity_lists)
from recpipe.registry import champion_as_of, load_factors, model_version_for, train_window
from recpipe.storage import Lake, parse_ds
from schemas import EVENTS, INTERACTIONS, ITEM_FACTORS, MODEL_METRICS, MODELS, USER_FACTORS, USER_FEATURES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationSummary:
    ds: str
    challenger: str
    users: int
    figures: dict  # role -> (primary, ndcg@10)
    primary: str

    def __str__(self) -> str:
        parts = ", ".join(f"{role} {p:.4f}/{n:.4f}" for role, (p, n) in self.figures.items())
        return f"evaluate_model ds={self.ds}: {self.challenger} on {self.users} users, {self.primary}/ndcg@10: {parts}"


def test_positives(events: DataFrame, train_end: dt.date, ds: dt.date, positive_types) -> DataFrame:
    return (
        events.where((F.col("ds") > F.lit(train_end)) & (F.col("ds") <= F.lit(ds))
                     & F.col("event_type").isin(*positive_types))
        .select("user_id", "item_id").distinct()
    )


def user_segments(train_events: DataFrame, features: DataFrame) -> DataFrame:
    """user_id, device (most frequent in the training window; ties by name), type (buyer | browser)."""
    w = Window.partitionBy("user_id").orderBy(F.desc("n"), F.asc("device"))
    device = (
        train_events.groupBy("user_id", "device").agg(F.count(F.lit(1)).alias("n"))
        .withColumn("_r", F.row_number().over(w)).where(F.col("_r") == 1).select("user_id", "device")
    )
    kind = features.select("user_id", F.when(F.col("p_buyer") >= 0.5, "buyer").otherwise("browser").alias("type"))
    return device.join(kind, "user_id", "left")


def evaluate_version(lake: Lake, version: str, h: Holdout, params: dict, k: int, fold_in_all: bool = False
                     ) -> np.ndarray:
    """Top-k lists of one stored model for the holdout's users. `fold_in_all` recomputes every user's
    vector from the current training history (the champion, whose user vectors are from an older week)."""
    user_ids, uv = load_factors(lake, USER_FACTORS, version)
    item_ids, iv = load_factors(lake, ITEM_FACTORS, version)
    items, allowed = align_items(item_ids, iv, h.item_ids)
    if fold_in_all:
        user_ids, uv = user_ids[:0], uv[:0]
    users, folded = align_users(user_ids, uv, h, items, alpha=params["als"]["alpha"],
                                regularization=params["als"]["regularization"])
    if folded:
        log.info("evaluate_model: %s folded in %d of %d users", version, folded, len(h.user_ids))
    return als_lists(h, users, items, k, allowed=None if allowed.all() else allowed)


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None, model_version: str | None = None
        ) -> EvaluationSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"evaluate_model[{day}]")
    lake = Lake(spark, cfg.lake)
    ev = cfg.evaluation
    version = model_version or model_version_for(cfg, day)
    registry = lake.read(MODELS, day, day).where(F.col("model_version") == version).first()
    if registry is None:
        raise ValueError(f"evaluate_model ds={day}: model {version} is not in the registry for {day}; "
                         f"run train_als first")
    start, end = train_window(cfg, day)
    inter = lake.read(INTERACTIONS, day, day).select("user_id", "item_id", "strength").toPandas()
    train = build_matrix(inter["user_id"], inter["item_id"], inter["strength"])
    tests = test_positives(lake.read(EVENTS, end + dt.timedelta(days=1), day), end, day, ev.positive_types).toPandas()
    train_events = lake.read(EVENTS, start, end).join(
        lake.read(INTERACTIONS, day, day).select("user_id").distinct(), "user_id", "left_semi")
    segments = user_segments(train_events, lake.read(USER_FEATURES, end, end)).toPandas()
    h = build_holdout(train, tests, segments, ev.max_users, seed=cfg.seed)
    if len(h.user_ids) == 0:
        raise ValueError(f"evaluate_model ds={day}: no training user has a test positive in ({end}, {day}]; "
                         f"nothing to evaluate")
    k = max(ev.ks)
    runs: list[tuple[str, str, np.ndarray]] = [
        ("challenger", version, evaluate_version(lake, version, h, json.loads(registry["params"]), k)),
        ("baseline", f"popularity-{day:%Y%m%d}", popularity_lists(h, k)),
    ]
    champion = champion_as_of(lake, day, exclude=version)
    if champion is not None:
        runs.append(("champion", champion["model_version"],
                     evaluate_version(lake, champion["model_version"], h, json.loads(champion["params"]), k,
                                      fold_in_all=True)))
    rows, figures = [], {}
    for role, v, lists in runs:
        records = evaluate_lists(lists, h, ev.ks, ev.head_share)
        figures[role] = (metric_value(records, cfg.promotion.primary_metric), metric_value(records, "ndcg@10"))
        rows += [(day, version, v, role, r["segment"], r["metric"], r["k"], r["value"], r["users"]) for r in records]
    lake.replace_where(spark.createDataFrame(rows, MODEL_METRICS.schema), MODEL_METRICS,
                       as_of=day, challenger_version=version)
    return EvaluationSummary(day.isoformat(), version, len(h.user_ids), figures, cfg.promotion.primary_metric)


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("evaluate_model", run, argv)


if __name__ == "__main__":
    sys.exit(main())
