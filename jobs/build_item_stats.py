"""build_item_stats: events of the last windows as of ds -> `item_popularity` for ds.

    python -m jobs.build_item_stats --ds 2026-11-28

Per item and segment (global, and per device): event counts and a popularity score per window, the sum
of event-type weights decayed exponentially with the event's age (half-life `item_stats.half_life_days`,
age measured from the end of ds), a trending score (the last day's rate over the longest window's daily
rate, add-one smoothed) and the item's rank by the middle window's score.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from recpipe.config import Config, ItemStatsConfig
from recpipe.sparkfn import exact_sum
from recpipe.storage import Lake, parse_ds
from schemas import EVENTS, item_popularity_spec


@dataclass(frozen=True)
class ItemStatsSummary:
    ds: str
    items: int
    segments: int

    def __str__(self) -> str:
        return f"build_item_stats ds={self.ds}: {self.items} items over {self.segments} segments"


def item_popularity(events: DataFrame, ds: dt.date, cfg: ItemStatsConfig) -> DataFrame:
    """Pure transform: events with ds in the longest window -> one row per (segment, item)."""
    windows = tuple(cfg.windows)
    longest, middle = max(windows), windows[len(windows) // 2]
    age_days = F.datediff(F.lit(ds), F.col("ds"))
    day_end = F.lit(dt.datetime.combine(ds + dt.timedelta(days=1), dt.time())).cast("timestamp")
    age_ts = F.greatest(F.lit(0.0), (F.unix_micros(day_end) - F.unix_micros("event_ts")) / 86_400e6)
    weight = (F.when(F.col("event_type") == "view", cfg.weight_view)
              .when(F.col("event_type") == "like", cfg.weight_like)
              .when(F.col("event_type") == "add_to_cart", cfg.weight_add_to_cart)
              .when(F.col("event_type") == "purchase", cfg.weight_purchase).otherwise(0.0))
    decayed = weight * F.pow(F.lit(0.5), age_ts / F.lit(cfg.half_life_days))
    segmented = (
        events.where(age_days.between(0, longest - 1))
        .withColumn("_age", age_days)
        .withColumn("_score", decayed)
        .withColumn("segment", F.explode(F.array(F.lit("global"), F.concat(F.lit("device:"), F.col("device")))))
    )
    aggs = []
    for w in windows:
        inw = F.col("_age") < w
        aggs += [F.sum(inw.cast("long")).alias(f"events_{w}d"),
                 F.coalesce(exact_sum(F.when(inw, F.col("_score"))), F.lit(0.0)).alias(f"score_{w}d")]
    et = F.col("event_type")
    aggs += [
        F.sum((et == "view").cast("long")).alias(f"views_{longest}d"),
        F.sum((et == "add_to_cart").cast("long")).alias(f"carts_{longest}d"),
        F.sum((et == "purchase").cast("long")).alias(f"purchases_{longest}d"),
        F.countDistinct("user_id").alias(f"users_{longest}d"),
    ]
    shortest = min(windows)
    stats = segmented.groupBy("segment", "item_id").agg(*aggs)
    recent_rate = (F.col(f"events_{shortest}d") + 1.0) / F.lit(float(shortest))
    long_rate = (F.col(f"events_{longest}d") + 1.0) / F.lit(float(longest))
    rank_w = Window.partitionBy("segment").orderBy(F.desc(f"score_{middle}d"), F.asc("item_id"))
    return (
        stats
        .withColumn("trending", recent_rate / long_rate)
        .withColumn("rank", F.row_number().over(rank_w).cast("long"))
        .withColumn("as_of", F.lit(ds))
    )


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> ItemStatsSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"build_item_stats[{day}]")
    lake = Lake(spark, cfg.lake)
    longest = max(cfg.item_stats.windows)
    events = lake.read(EVENTS, day - dt.timedelta(days=longest - 1), day)
    spec = item_popularity_spec(cfg.item_stats.windows)
    lake.write_partition(item_popularity(events, day, cfg.item_stats), spec, day)
    row = lake.read(spec, day, day).agg(
        F.countDistinct(F.when(F.col("segment") == "global", F.col("item_id"))).alias("items"),
        F.countDistinct("segment").alias("segments")).first()
    return ItemStatsSummary(day.isoformat(), row["items"], row["segments"])


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("build_item_stats", run, argv)


if __name__ == "__main__":
    sys.exit(main())
