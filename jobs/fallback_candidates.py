"""fallback_candidates: `item_popularity` for ds -> the top `candidates.k` items per segment for ds.

    python -m jobs.fallback_candidates --ds 2026-11-14

For users without personal candidates (not active, or no history on the champion's items). A downstream
service looks a user up in `candidates` (as_of = D) first, then here under `device:<the user's device>`,
then under `global`. Order: item_popularity's rank (its middle window's decayed score).
Written to the staging area; `publish_fallback_candidates` serves it once validated.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from recpipe.config import Config
from recpipe.storage import Lake, parse_ds
from schemas import FALLBACK_CANDIDATES, item_popularity_spec


@dataclass(frozen=True)
class FallbackSummary:
    ds: str
    segments: int
    rows: int

    def __str__(self) -> str:
        return f"fallback_candidates ds={self.ds}: {self.rows} rows over {self.segments} segments"


def fallback(popularity: DataFrame, k: int, score_col: str) -> DataFrame:
    """Pure: the k best-ranked items of each segment."""
    return (
        popularity.where(F.col("rank") <= k)
        .select("as_of", "segment", "item_id", "rank", F.col(score_col).alias("score"),
                F.lit("popularity").alias("source"))
    )


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> FallbackSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"fallback_candidates[{day}]")
    lake = Lake(spark, cfg.lake)
    windows = cfg.item_stats.windows
    pop = lake.read(item_popularity_spec(windows), day, day)
    if pop.isEmpty():
        raise ValueError(f"fallback_candidates ds={day}: item_popularity has no partition for {day}; "
                         f"run build_item_stats first")
    staged = lake.staging()
    staged.write_partition(fallback(pop, cfg.candidates.k, f"score_{windows[len(windows) // 2]}d"),
                           FALLBACK_CANDIDATES, day)
    row = staged.read(FALLBACK_CANDIDATES, day, day).agg(
        F.count(F.lit(1)).alias("rows"), F.countDistinct("segment").alias("segments")).first()
    return FallbackSummary(day.isoformat(), row["segments"], row["rows"])


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("fallback_candidates", run, argv)


if __name__ == "__main__":
    sys.exit(main())
