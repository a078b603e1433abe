"""build_sessions: the events that landed on ds -> `sessions` for ds.

    python -m jobs.build_sessions --ds 2026-11-01

Events keep the source's session id where the log carried one. The others (the app SDK sends none) are
sessionized per user: a new session starts after `features.session_gap_minutes` of inactivity. A session is
built from one landing day's events, so a session running over midnight is counted on each day it landed.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from recpipe.config import Config
from recpipe.sparkfn import exact_sum
from recpipe.storage import Lake, parse_ds
from schemas import EVENTS, SESSIONS


@dataclass(frozen=True)
class SessionsSummary:
    ds: str
    sessions: int

    def __str__(self) -> str:
        return f"build_sessions ds={self.ds}: {self.sessions} sessions"


def assign_sessions(events: DataFrame, gap_minutes: int = 30) -> DataFrame:
    """Add `session_key` and `session_origin` to each event (pure)."""
    gap = gap_minutes * 60
    untagged = F.col("session_id").isNull()
    w = Window.partitionBy("ds", "user_id", untagged).orderBy("event_ts", "event_id")
    prev = F.lag("event_ts").over(w)
    new_session = prev.isNull() | ((F.unix_micros("event_ts") - F.unix_micros(prev)) > gap * 1_000_000)
    with_gap = (
        events
        .withColumn("_new", F.when(untagged, new_session.cast("int")))
        .withColumn("_grp", F.sum("_new").over(w.rowsBetween(Window.unboundedPreceding, 0)))
    )
    start = F.min("event_ts").over(Window.partitionBy("ds", "user_id", untagged, "_grp"))
    return (
        with_gap
        .withColumn("session_key", F.when(
            untagged, F.concat(F.lit("g-"), F.unix_micros(start).cast("string"))
        ).otherwise(F.col("session_id")))
        .withColumn("session_origin", F.when(untagged, F.lit("gap")).otherwise(F.lit("source")))
        .drop("_new", "_grp")
    )


def summarise_sessions(tagged: DataFrame) -> DataFrame:
    """One row per (ds, user, session) with browsing and consumption measures (pure)."""
    is_view = F.col("event_type") == "view"
    is_cart = F.col("event_type") == "add_to_cart"
    sw = Window.partitionBy("ds", "user_id", "session_key")
    with_first_cart = tagged.withColumn("_first_cart", F.min(F.when(is_cart, F.col("event_ts"))).over(sw))
    agg = with_first_cart.groupBy("ds", "user_id", "session_key").agg(
        F.first("session_origin").alias("session_origin"),
        F.min("event_ts").alias("start_ts"),
        F.max("event_ts").alias("end_ts"),
        F.count(F.lit(1)).alias("events"),
        F.sum(is_view.cast("long")).alias("views"),
        # Set sizes: two countDistinct aggregates would make Spark expand every row twice.
        F.size(F.collect_set(F.when(is_view, F.col("item_id")))).cast("long").alias("distinct_items"),
        F.size(F.collect_set(F.when(is_view, F.col("category")))).cast("long").alias("distinct_categories"),
        F.coalesce(exact_sum(F.when(is_view, F.col("dwell_seconds"))), F.lit(0.0)).alias("total_dwell_seconds"),
        F.sum(is_cart.cast("long")).alias("carts"),
        F.sum((F.col("event_type") == "purchase").cast("long")).alias("purchases"),
        F.first("_first_cart").alias("_first_cart"),
        F.sum((is_view & (F.col("event_ts") < F.col("_first_cart"))).cast("long")).alias("_views_before"),
        # The device of the session's first event (ties broken by event_id, so reruns agree).
        F.min(F.struct("event_ts", "event_id", "device")).getField("device").alias("device"),
    )
    has_cart = F.col("_first_cart").isNotNull()
    return agg.select(
        "ds",
        "user_id",
        F.col("session_key").alias("session_id"),
        "session_origin", "start_ts", "end_ts",
        ((F.unix_micros("end_ts") - F.unix_micros("start_ts")) / 1e6).alias("duration_seconds"),
        "events", "views", "distinct_items", "distinct_categories", "total_dwell_seconds", "carts", "purchases",
        (F.col("carts") > 0).alias("reached_cart"),
        (F.col("purchases") > 0).alias("purchased"),
        F.when(has_cart, F.coalesce(F.col("_views_before"), F.lit(0))).alias("views_before_first_cart"),
        F.when(has_cart, (F.unix_micros("_first_cart") - F.unix_micros("start_ts")) / 1e6)
        .alias("seconds_to_first_cart"),
        "device",
    )


def transform(events: DataFrame, gap_minutes: int) -> DataFrame:
    """Sessions per landing day: a multi-day input gives each day exactly what a one-day run gives."""
    return summarise_sessions(assign_sessions(events, gap_minutes))


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> SessionsSummary:
    return run_range(cfg, ds, ds, spark)


def run_range(cfg: Config, ds_min: str | dt.date, ds_max: str | dt.date,
              spark: SparkSession | None = None) -> SessionsSummary:
    """Rebuild the sessions of every landing day in [ds_min, ds_max] in one job and one commit."""
    from recpipe.spark import get_spark

    lo, hi = parse_ds(ds_min), parse_ds(ds_max)
    spark = spark or get_spark(cfg, app_name=f"build_sessions[{lo}..{hi}]")
    lake = Lake(spark, cfg.lake)
    events = lake.read(EVENTS, lo, hi)
    lake.write_range(transform(events, cfg.features.session_gap_minutes), SESSIONS, lo, hi)
    label = lo.isoformat() if lo == hi else f"{lo}..{hi}"
    return SessionsSummary(label, lake.read(SESSIONS, lo, hi).count())


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("build_sessions", run, argv)


if __name__ == "__main__":
    sys.exit(main())
