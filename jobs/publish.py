"""publish: a validated staging partition of a published table -> the served table, in one commit.

    python -m jobs.publish --ds 2026-11-14 --table candidates

Runs after `validate_<table>` (`publish_<table>` in the DAGs). Refuses a partition whose latest validation
in `dq_results` is missing or has an error-level failure, so a broken partition never replaces what readers
see; the served partition is replaced atomically (Delta `replaceWhere`), and the task's Asset is emitted
only after that commit.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from recpipe.config import Config
from recpipe.dq import DataQualityError, latest_outcomes, table_spec
from recpipe.pipeline import PUBLISHED
from recpipe.storage import Lake, parse_ds


@dataclass(frozen=True)
class PublishSummary:
    ds: str
    table: str
    rows: int

    def __str__(self) -> str:
        return f"publish ds={self.ds}: {self.rows} rows of {self.table} served"


def check_validated(lake: Lake, table: str, day: dt.date) -> None:
    """Raise unless the latest validation of the day's partition of `table` had no error-level failure."""
    latest = latest_outcomes(lake, day, day)
    results = latest.where(F.col("table_name") == table) if latest is not None else None
    if results is None or results.isEmpty():
        raise DataQualityError(f"table {table}, partition {day}: not validated; run validate first")
    failed = [r["expectation"] for r in
              results.where(~F.col("success") & (F.col("severity") == "error")).select("expectation").collect()]
    if failed:
        raise DataQualityError(f"table {table}, partition {day}: not published, error-level expectations "
                               f"failed: {', '.join(sorted(failed))}")


def run(cfg: Config, ds: str | dt.date, table: str, spark: SparkSession | None = None) -> PublishSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    if table not in PUBLISHED:
        raise ValueError(f"publish: {table} is not a published table; published: {list(PUBLISHED)}")
    spark = spark or get_spark(cfg, app_name=f"publish[{table},{day}]")
    lake = Lake(spark, cfg.lake)
    spec = table_spec(cfg, table)
    staged = lake.staging()
    if not staged.exists(spec):
        raise FileNotFoundError(f"publish ds={day}: {table} has no staging table; run its job first")
    check_validated(lake, table, day)
    lake.write_partition(staged.read(spec, day, day), spec, day)
    return PublishSummary(day.isoformat(), table, lake.read(spec, day, day).count())


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("publish", run, argv, options={"--table": {"required": True, "choices": PUBLISHED}})


if __name__ == "__main__":
    sys.exit(main())
