"""select_active_users: users with at least `min_interactions` events in the last `lookback_days` landing
days as of ds -> `active_users` and the day's count and share in `active_user_counts`.

    python -m jobs.select_active_users --ds 2026-11-28
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from recpipe.config import ActiveUsersConfig, Config
from recpipe.storage import Lake, parse_ds
from schemas import ACTIVE_USER_COUNTS, ACTIVE_USERS, EVENTS


@dataclass(frozen=True)
class ActiveUsersSummary:
    ds: str
    active: int
    users: int

    def __str__(self) -> str:
        share = self.active / self.users if self.users else 0.0
        return f"select_active_users ds={self.ds}: {self.active} active of {self.users} users ({share:.1%})"


def user_activity(events: DataFrame, ds: dt.date, lookback_days: int) -> DataFrame:
    """Interactions per user over the lookback window (pure)."""
    age = F.datediff(F.lit(ds), F.col("ds"))
    return (
        events.where(age.between(0, lookback_days - 1))
        .groupBy("user_id")
        .agg(F.count(F.lit(1)).alias("interactions"),
             F.countDistinct(F.to_date("event_ts")).alias("active_days"),
             F.max("event_ts").alias("last_event_ts"))
    )


def select_active(activity: DataFrame, ds: dt.date, cfg: ActiveUsersConfig) -> DataFrame:
    return activity.where(F.col("interactions") >= cfg.min_interactions).withColumn("as_of", F.lit(ds))


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> ActiveUsersSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"select_active_users[{day}]")
    lake = Lake(spark, cfg.lake)
    au = cfg.active_users
    events = lake.read(EVENTS, day - dt.timedelta(days=au.lookback_days - 1), day)
    activity = user_activity(events, day, au.lookback_days).cache()
    try:
        lake.write_partition(select_active(activity, day, au), ACTIVE_USERS, day)
        users = activity.count()
    finally:
        activity.unpersist()
    active = lake.read(ACTIVE_USERS, day, day).count()
    counts = spark.createDataFrame(
        [(day, active, users, active / users if users else 0.0, au.min_interactions, au.lookback_days)],
        ACTIVE_USER_COUNTS.schema)
    lake.write_partition(counts, ACTIVE_USER_COUNTS, day)
    return ActiveUsersSummary(day.isoformat(), active, users)


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("select_active_users", run, argv)


if __name__ == "__main__":
    sys.exit(main())
