"""validate: the data-quality checks of the tables a job wrote for ds -> `dq_results` and Data Docs.

    python -m jobs.validate --ds 2026-11-14 --table candidates [--table ...]

Runs after every job in both DAGs (`validate_<table>`). Each table's suite (`schemas.expectations`) runs in
one Great Expectations checkpoint on the partition (`recpipe.dq`). Every outcome is recorded in
`dq_results`; an error-level failure raises `DataQualityError` naming the table, partition and
expectations, after every table of the step has been checked. Published tables are checked in the staging
area, before `publish` serves them.
"""
from __future__ import annotations

import datetime as dt
import sys
import uuid
from dataclasses import dataclass

from pyspark.sql import SparkSession

from recpipe.config import Config
from recpipe.dq import table_spec, validate
from recpipe.pipeline import PUBLISHED
from recpipe.storage import Lake, parse_ds


@dataclass(frozen=True)
class ValidateSummary:
    ds: str
    checks: dict[str, int]
    warnings: int

    def __str__(self) -> str:
        tables = ", ".join(f"{t} {n} checks" for t, n in self.checks.items())
        return f"validate ds={self.ds}: {tables}; no error" + (f", {self.warnings} warnings" if self.warnings else "")


def run(cfg: Config, ds: str | dt.date, tables: tuple[str, ...] | list[str], run_id: str | None = None,
        spark: SparkSession | None = None) -> ValidateSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    if not tables:
        raise ValueError("validate: no tables given")
    spark = spark or get_spark(cfg, app_name=f"validate[{day}]")
    lake = Lake(spark, cfg.lake)
    run_id = run_id or f"validate-{day}-{uuid.uuid4().hex[:8]}"
    partitions = []
    for name in tables:
        spec, staged = table_spec(cfg, name), name in PUBLISHED
        if not (lake.staging() if staged else lake).exists(spec):
            raise FileNotFoundError(f"validate ds={day}: table {name} does not exist"
                                    + (" in the staging area" if staged else "") + "; run its job first")
        partitions.append((spec, staged))
    outcomes = validate(lake, cfg, day, partitions, run_id)
    checks = {name: sum(o.table == name for o in outcomes) for name in tables}
    return ValidateSummary(day.isoformat(), checks, sum(not o.success for o in outcomes))


def existing(cfg: Config, tables, spark: SparkSession) -> list[str]:
    """Those of `tables` whose table exists (published ones in the staging area)."""
    lake = Lake(spark, cfg.lake)
    return [n for n in tables if (lake.staging() if n in PUBLISHED else lake).exists(table_spec(cfg, n))]


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("validate", run, argv, options={
        "--table": {"dest": "tables", "action": "append", "required": True, "help": "a table (repeatable)"},
        "--run-id": {"help": "recorded with every outcome (default: a new id)"}})


if __name__ == "__main__":
    sys.exit(main())
