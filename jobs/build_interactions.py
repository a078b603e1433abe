"""build_interactions: events of the training window + active users -> `interactions` for the week ds.

    python -m jobs.build_interactions --ds 2026-11-14

The training window is `interactions.window_days` landing days ending at train_end = ds -
`evaluation.holdout_days` (the days after train_end are held out for evaluate_model). Only users active
as of train_end, and items with at least `min_item_users` of them, enter. Per (user, item), three decayed
signals, each event weighted by 0.5 ** (age / half_life_days), age from the end of train_end:
  s_transact = carts + purchases · s_like = likes · s_view = Σ log1p(dwell / dwell_ref_seconds) over views
strength = w_transact·s_transact + w_like·s_like + w_view·s_view; ALS confidence = 1 + alpha·strength.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from recpipe.config import Config, InteractionsConfig
from recpipe.registry import train_window
from recpipe.sparkfn import exact_sum
from recpipe.storage import Lake, parse_ds
from schemas import ACTIVE_USERS, EVENTS, INTERACTIONS


@dataclass(frozen=True)
class InteractionsSummary:
    ds: str
    train_start: str
    train_end: str
    users: int
    items: int
    pairs: int

    def __str__(self) -> str:
        return (f"build_interactions ds={self.ds}: {self.pairs} pairs, {self.users} users x {self.items} items "
                f"(window {self.train_start} .. {self.train_end})")


def interactions(events: DataFrame, active: DataFrame, ds: dt.date, train_start: dt.date, train_end: dt.date,
                 cfg: InteractionsConfig) -> DataFrame:
    """Pure transform: window events x active users -> one row per (user, item) in the catalogue."""
    day_end = F.lit(dt.datetime.combine(train_end + dt.timedelta(days=1), dt.time())).cast("timestamp")
    age = F.greatest(F.lit(0.0), (F.unix_micros(day_end) - F.unix_micros("event_ts")) / 86_400e6)
    decay = F.pow(F.lit(0.5), age / F.lit(cfg.half_life_days))
    et = F.col("event_type")
    dwell = F.coalesce(F.col("dwell_seconds"), F.lit(cfg.dwell_ref_seconds))
    pairs = (
        events.where(F.col("ds").between(F.lit(train_start), F.lit(train_end)))
        .join(active.select("user_id").distinct(), "user_id", "left_semi")
        .withColumn("_d", decay)
        .groupBy("user_id", "item_id")
        .agg(
            exact_sum(F.when(et.isin("add_to_cart", "purchase"), F.col("_d")).otherwise(0.0)).alias("s_transact"),
            exact_sum(F.when(et == "like", F.col("_d")).otherwise(0.0)).alias("s_like"),
            exact_sum(F.when(et == "view", F.col("_d") * F.log1p(dwell / F.lit(cfg.dwell_ref_seconds)))
                      .otherwise(0.0)).alias("s_view"),
            F.count(F.lit(1)).alias("events"),
            F.max("event_ts").alias("last_event_ts"),
        )
    )
    catalogue = (
        pairs.groupBy("item_id").agg(F.count(F.lit(1)).alias("_users"))
        .where(F.col("_users") >= cfg.min_item_users).select("item_id")
    )
    strength = (F.lit(cfg.weight_transact) * F.col("s_transact") + F.lit(cfg.weight_like) * F.col("s_like")
                + F.lit(cfg.weight_view) * F.col("s_view"))
    return (
        pairs.join(catalogue, "item_id", "left_semi")
        .withColumn("strength", strength)
        .where(F.col("strength") > 0)
        .withColumn("as_of", F.lit(ds))
        .withColumn("train_start", F.lit(train_start))
        .withColumn("train_end", F.lit(train_end))
    )


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> InteractionsSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"build_interactions[{day}]")
    lake = Lake(spark, cfg.lake)
    start, end = train_window(cfg, day)
    active = lake.read(ACTIVE_USERS, end, end)
    if active.isEmpty():
        raise ValueError(f"build_interactions ds={day}: active_users has no partition as_of={end} (the training "
                         f"cutoff); run recpipe_nightly for {end} first")
    events = lake.read(EVENTS, start, end)
    lake.write_partition(interactions(events, active, day, start, end, cfg.interactions), INTERACTIONS, day)
    # One job for all three figures: set sizes, not several countDistinct (which expand every row).
    row = lake.read(INTERACTIONS, day, day).agg(
        F.count(F.lit(1)).alias("pairs"), F.size(F.collect_set("user_id")).alias("users"),
        F.size(F.collect_set("item_id")).alias("items")).first()
    items = row["items"]
    if row["pairs"] == 0:
        raise ValueError(f"build_interactions ds={day}: no interactions between {start} and {end} for the active "
                         f"users; nothing to train on")
    return InteractionsSummary(day.isoformat(), start.isoformat(), end.isoformat(), row["users"], items, row["pairs"])


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("build_interactions", run, argv)


if __name__ == "__main__":
    sys.exit(main())
