"""build_report: the lake as of ds -> `<reports>/<ds>/index.html` and the index of all reports.

    python -m jobs.build_report --ds 2026-11-14

The last task of both DAGs. A static page with inline SVG charts (see recpipe/report.py).
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from pyspark.sql import SparkSession

from recpipe.config import Config
from recpipe.storage import Lake, parse_ds


@dataclass(frozen=True)
class ReportSummary:
    ds: str
    path: str

    def __str__(self) -> str:
        return f"build_report ds={self.ds}: {self.path}"


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> ReportSummary:
    from recpipe.report import write_report
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"build_report[{day}]")
    path = write_report(Lake(spark, cfg.lake), cfg, day)
    return ReportSummary(day.isoformat(), str(path))


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("build_report", run, argv)


if __name__ == "__main__":
    sys.exit(main())
