"""publish: a validated staging partition of a published table -> the served table, in one commit.

    python -m jobs.publish --ds 2026-11-14 --table candidates

Runs after `validate_<table>` (`publish_<table>` in the DAGs). Refuses a partition whose latest validation
in `dq_results` is missing or has an error-level failure, so a broken partition never replaces what readers
see; copies the staged partition as of the Delta version that validation checked (not whatever was staged
later); the served partition is replaced atomically (Delta `replaceWhere`), and the task's Asset is emitted
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
from schemas.expectations import ERROR
from recpipe.pipeline import PUBLISHED
from recpipe.storage import Lake, parse_ds


@dataclass(frozen=True)
class PublishSummary:
    ds: str
    table: str
    rows: int

    def __str__(self) -> str:
        return f"publish ds={self.ds}: {self.rows} rows of {self.table} served"


def validated_snapshot(lake: Lake, table: str, day: dt.date) -> tuple[int, int]:
    """The staged Delta version and row count the latest validation of the day's partition of `table`
    checked; raises unless that validation had no error-level failure."""
    latest = latest_outcomes(lake, day, day)
    results = ([] if latest is None else
               latest.where(F.col("table_name") == table).select("expectation", "severity", "success", "observed")
               .collect())
    facts = {r["expectation"]: r["observed"] for r in results}
    if "validated_version" not in facts:
        raise DataQualityError(f"table {table}, partition {day}: not validated; run validate first")
    failed = sorted(r["expectation"] for r in results if not r["success"] and r["severity"] == ERROR)
    if failed:
        raise DataQualityError(f"table {table}, partition {day}: not published, error-level expectations "
                               f"failed: {', '.join(failed)}")
    return int(facts["validated_version"]), int(facts["row_count"])


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
    # Exactly the snapshot that passed, even if the staging table was written again since.
    version, rows = validated_snapshot(lake, table, day)
    lake.write_partition(staged.read(spec, day, day, version=version), spec, day)
    return PublishSummary(day.isoformat(), table, rows)


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("publish", run, argv, options={"--table": {"required": True, "choices": PUBLISHED}})


if __name__ == "__main__":
    sys.exit(main())
