"""ingest_events: one day's landing files -> `events`, `quarantine` and `ingest_audit` for that ds.

    python -m jobs.ingest_events --ds 2026-11-01
    spark-submit jobs/ingest_events.py --ds 2026-11-01

Every landing record ends in exactly one place: an `events` row, a `quarantine` row with a reason, or the
duplicate count of the audit. The job checks that accounting against what it actually wrote before it
returns, and a rerun of the same ds rewrites the three partitions with identical content.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from recpipe.config import Config, IngestConfig
from recpipe.storage import Lake, parse_ds
from schemas import DEVICES, EVENT_TYPES, EVENTS, INGEST_AUDIT, LANDING_FIELDS, QUARANTINE, REQUIRED_FIELDS

log = logging.getLogger(__name__)

LANDING_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
ACCEPTED, QUARANTINED, DUPLICATE = "accepted", "quarantined", "duplicate"
_NUMERIC = r"^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$"
# Epoch values at or above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
_EPOCH_MS_THRESHOLD = 1e11
_DETAIL_MAX = 200


class InvariantError(AssertionError):
    """The job's own row accounting does not add up; nothing downstream should trust this partition."""


@dataclass
class IngestResult:
    events: DataFrame
    quarantine: DataFrame
    audit: DataFrame


@dataclass(frozen=True)
class IngestSummary:
    ds: str
    files: int
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    duplicates_dropped: int
    conflicting_duplicates: int

    def __str__(self) -> str:
        return (f"ingest_events ds={self.ds}: {self.files} files, read {self.rows_read}, "
                f"accepted {self.rows_accepted}, quarantined {self.rows_quarantined} "
                f"({self.conflicting_duplicates} conflicting duplicates), "
                f"duplicates dropped {self.duplicates_dropped}")


# --------------------------------------------------------------------------------------------- extract

def landing_folder(landing_root: str, ds: dt.date) -> str:
    return f"{landing_root.rstrip('/')}/events/ds={ds.isoformat()}"


def list_landing_files(spark: SparkSession, folder: str) -> list[str]:
    """List the day's landing files through Hadoop's FileSystem, so any URI scheme works."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(folder)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(path):
        raise FileNotFoundError(f"landing folder not found: {folder}")
    files = []
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if status.isFile() and name.endswith(LANDING_SUFFIXES) and not name.startswith(("_", ".")):
            files.append(status.getPath().toString())
    return sorted(files)


RAW_SCHEMA = T.StructType([
    T.StructField("value", T.StringType(), True),
    T.StructField("source_file", T.StringType(), False),
])


def extract(spark: SparkSession, files: list[str]) -> DataFrame:
    """Read the files line by line; the text source keeps each line's bytes exactly as they were."""
    if not files:
        return spark.createDataFrame([], RAW_SCHEMA)
    return (
        spark.read.text(files)
        .select(F.col("value"), F.col("_metadata.file_name").alias("source_file"))
    )


# ------------------------------------------------------------------------------------------- transform

def _truncate(col) -> F.Column:
    return F.substring(col, 1, _DETAIL_MAX)


def _epoch_to_ts(text: F.Column) -> F.Column:
    num = text.try_cast("double")
    micros = F.when(F.abs(num) >= _EPOCH_MS_THRESHOLD, num * 1000.0).otherwise(num * 1_000_000.0)
    # Outside +-year 9999 the micros overflow; such values are out of range anyway.
    return F.when(F.abs(micros) < 2.5e17, F.timestamp_micros(micros.cast("long")))


def parse_event_ts(text: F.Column) -> F.Column:
    """ISO-8601 with `Z` or an offset, or epoch seconds / milliseconds; null when it is neither."""
    return F.when(text.rlike(_NUMERIC), _epoch_to_ts(text)).otherwise(F.try_to_timestamp(F.trim(text)))


def classify(raw: DataFrame, ds: dt.date, cfg: IngestConfig) -> DataFrame:
    """Tag each landing line: its parsed fields, a `status` and, when quarantined, `reason` and `detail`.

    Pure: DataFrame in, DataFrame out, in one pass over the input. The checks run in the order of
    QUARANTINE_REASONS and the first that applies names the reason. Each stage is its own projection so
    that the JSON is parsed once and every check is evaluated once per row (the optimizer does not inline
    a non-trivial expression into several consumers).
    """
    string_struct = T.StructType([T.StructField(f, T.StringType(), True) for f in LANDING_FIELDS])
    parsed = raw.select(
        "value", "source_file",
        F.is_valid_utf8("value").alias("_utf8"),
        F.json_object_keys("value").alias("_keys"),
        F.from_json("value", string_struct).alias("_j"),
    ).select(
        "value", "source_file", "_utf8", "_keys",
        *[F.col(f"_j.{f}").alias(f"_raw_{f}") for f in LANDING_FIELDS],
    )
    r = {f: F.col(f"_raw_{f}") for f in LANDING_FIELDS}
    typed = parsed.select(
        "*",
        parse_event_ts(r["event_ts"]).alias("_ts"),
        r["dwell_seconds"].try_cast("double").alias("_dwell"),
        r["price"].try_cast("double").alias("_price"),
        F.lower(F.trim(r["event_type"])).alias("_event_type"),
        F.coalesce(F.lower(F.trim(r["device"])), F.lit("unknown")).alias("_device"),
        F.array_except(F.col("_keys"), F.array(*[F.lit(f) for f in LANDING_FIELDS])).alias("_unknown"),
    )
    ts, dwell, price = F.col("_ts"), F.col("_dwell"), F.col("_price")
    day_start = F.lit(dt.datetime.combine(ds, dt.time())).cast("timestamp")
    ts_min = day_start - F.expr(f"INTERVAL {cfg.late_tolerance_days} DAYS")
    ts_max = day_start + F.expr("INTERVAL 1 DAYS") + F.expr(f"INTERVAL {cfg.future_tolerance_hours} HOURS")
    window_text = (f" outside [{ds - dt.timedelta(cfg.late_tolerance_days)}, "
                   f"{ds + dt.timedelta(1)} +{cfg.future_tolerance_hours}h)")

    def is_scalar(c: F.Column) -> F.Column:
        return ~F.trim(c).rlike(r"^[\[{]") & ~F.trim(c).isin("true", "false")

    def wrong_type(name: str, ok: F.Column):
        return r[name].isNotNull() & ~ok, "wrong_type", F.concat(F.lit(f"{name}="), _truncate(r[name]))

    def missing(name: str):
        return r[name].isNull() | (F.trim(r[name]) == ""), "missing_field", F.lit(name)

    checks = [
        (~F.col("_utf8"), "invalid_utf8", F.lit("record is not valid UTF-8")),
        (F.trim("value") == "", "empty_record", F.lit("blank line")),
        (F.col("_keys").isNull(), "malformed_json", F.lit("not a JSON object")),
    ]
    if cfg.on_unknown_fields == "quarantine":
        checks.append((F.size("_unknown") > 0, "unknown_fields", F.array_join(F.array_sort("_unknown"), ",")))
    checks += [missing(f) for f in REQUIRED_FIELDS]
    checks += [wrong_type(f, is_scalar(r[f])) for f in ("event_id", "user_id", "session_id", "item_id",
                                                         "event_type", "device", "category")]
    checks += [
        wrong_type("event_ts", ts.isNotNull()),
        wrong_type("dwell_seconds", dwell.isNotNull() & ~F.isnan(dwell)),
        wrong_type("price", price.isNotNull() & ~F.isnan(price)),
        (~F.col("_event_type").isin(*EVENT_TYPES), "unknown_event_type",
         F.concat(F.lit("event_type="), _truncate(r["event_type"]))),
        (~F.col("_device").isin(*DEVICES), "invalid_device", F.concat(F.lit("device="), _truncate(r["device"]))),
        (dwell.isNotNull() & ((dwell < 0) | (dwell > cfg.max_dwell_seconds)), "dwell_out_of_range",
         F.concat(F.lit("dwell_seconds="), dwell.cast("string"))),
        (price.isNotNull() & ((price < 0) | (price > cfg.max_price)), "price_out_of_range",
         F.concat(F.lit("price="), price.cast("string"))),
        ((ts < ts_min) | (ts >= ts_max), "timestamp_out_of_range",
         F.concat(F.lit("event_ts="), ts.cast("string"), F.lit(window_text))),
    ]
    # Index (1-based) of the first failing check, 0 when the record passes them all. A null condition
    # (e.g. a comparison with a missing value) counts as passing.
    first = F.array_position(F.array(*[F.coalesce(c, F.lit(False)) for c, _, _ in checks]), True)
    codes = F.array(*[F.lit(code) for _, code, _ in checks])
    detail = F.lit(None).cast("string")
    for k, (_, _, det) in enumerate(checks, 1):
        detail = F.when(F.col("_first") == k, det).otherwise(detail)
    checked = typed.withColumn("_first", first).select(
        "*",
        F.when(F.col("_first") > 0, F.element_at(codes, F.col("_first").cast("int"))).alias("reason"),
        detail.alias("detail"),
    )

    fields = checked.select(
        "value", "source_file", "reason", "detail",
        F.nullif(F.trim(r["event_id"]), F.lit("")).alias("given_event_id"),
        F.trim(r["user_id"]).alias("user_id"),
        F.nullif(F.trim(r["session_id"]), F.lit("")).alias("session_id"),
        F.trim(r["item_id"]).alias("item_id"),
        F.col("_event_type").alias("event_type"),
        ts.alias("event_ts"),
        dwell.alias("dwell_seconds"),
        F.col("_device").alias("device"),
        price.alias("price"),
        F.nullif(F.trim(r["category"]), F.lit("")).alias("category"),
    )
    # Content identity, independent of how the record was serialised (key order, ts format, spacing).
    content = F.concat_ws(
        "\u001f",
        "user_id", F.coalesce("session_id", F.lit("")), "item_id", "event_type",
        F.unix_micros("event_ts").cast("string"),
        F.coalesce(F.col("dwell_seconds").cast("string"), F.lit("")),
        "device",
        F.coalesce(F.col("price").cast("string"), F.lit("")),
        F.coalesce("category", F.lit("")),
    )
    hashed = (
        fields
        .withColumn("content_hash", F.when(F.col("reason").isNull(), F.sha2(content, 256)))
        .withColumn("event_id", F.coalesce("given_event_id",
                                           F.concat(F.lit("d-"), F.substring("content_hash", 1, 32))))
    )

    # Among valid records sharing an event_id the earliest version wins (ties broken by content, so the
    # choice is the same whatever the file order or partitioning); copies of it are duplicates, other
    # versions are conflicts and go to quarantine. Rejected records share one null window key.
    key = F.when(F.col("reason").isNull(), F.col("event_id"))
    w = Window.partitionBy(key).orderBy("event_ts", "content_hash", "source_file", "value")
    ranked = hashed.select(
        "*", F.row_number().over(w).alias("_rn"), F.first("content_hash").over(w).alias("_winner"),
    )
    conflict = F.col("reason").isNull() & (F.col("_rn") > 1) & (F.col("content_hash") != F.col("_winner"))
    return ranked.select(
        *[c for c in hashed.columns if c not in ("reason", "detail")],
        F.when(F.col("reason").isNotNull() | conflict, F.lit(QUARANTINED))
        .when(F.col("_rn") == 1, F.lit(ACCEPTED))
        .otherwise(F.lit(DUPLICATE)).alias("status"),
        F.when(conflict, F.lit("conflicting_duplicate")).otherwise(F.col("reason")).alias("reason"),
        F.when(conflict, F.concat(F.lit("event_id="), _truncate(F.col("event_id")),
                                  F.lit(" differs from the kept version "), F.substring("_winner", 1, 12)))
        .otherwise(F.col("detail")).alias("detail"),
    )


def to_events(classified: DataFrame, ds: dt.date) -> DataFrame:
    return (
        classified
        .where(F.col("status") == ACCEPTED)
        .select(*[c for c in EVENTS.columns if c != "ds"])
        .withColumn("ds", F.lit(ds))
    )


def to_quarantine(classified: DataFrame, ds: dt.date) -> DataFrame:
    return (
        classified
        .where(F.col("status") == QUARANTINED)
        .select(
            F.make_valid_utf8("value").alias("raw_record"),
            F.col("value").cast("binary").alias("raw_bytes"),
            "reason", "detail",
            F.coalesce("given_event_id", F.col("event_id")).alias("event_id"),
            "source_file",
        )
        .withColumn("ds", F.lit(ds))
    )


def to_audit(classified: DataFrame, files: DataFrame, ds: dt.date) -> DataFrame:
    """Counts per source file; files with no lines still get a row of zeros."""
    counts = classified.groupBy("source_file").agg(
        F.count(F.lit(1)).alias("rows_read"),
        F.sum((F.col("status") == ACCEPTED).cast("long")).alias("rows_accepted"),
        F.sum((F.col("status") == QUARANTINED).cast("long")).alias("rows_quarantined"),
        F.sum((F.col("status") == DUPLICATE).cast("long")).alias("duplicates_dropped"),
        F.sum((F.col("reason") == "conflicting_duplicate").cast("long")).alias("conflicting_duplicates"),
    )
    cols = ["rows_read", "rows_accepted", "rows_quarantined", "duplicates_dropped", "conflicting_duplicates"]
    return (
        files.join(counts, "source_file", "left")
        .select("source_file", *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c) for c in cols])
        .withColumn("ds", F.lit(ds))
    )


def transform(raw: DataFrame, files: DataFrame, ds: dt.date, cfg: IngestConfig) -> tuple[DataFrame, IngestResult]:
    classified = classify(raw, ds, cfg)
    return classified, IngestResult(
        events=to_events(classified, ds),
        quarantine=to_quarantine(classified, ds),
        audit=to_audit(classified, files, ds),
    )


# ------------------------------------------------------------------------------------------------ load

def check_invariant(ds: dt.date, read_per_file: dict[str, int], audit_rows: list, events_written: int,
                    quarantine_written: int) -> None:
    """rows read = accepted + quarantined + duplicates, per file and against what landed in the tables."""
    problems = []
    for row in audit_rows:
        read = read_per_file.get(row["source_file"], 0)
        total = row["rows_accepted"] + row["rows_quarantined"] + row["duplicates_dropped"]
        if row["rows_read"] != read or total != read:
            problems.append(f"{row['source_file']}: read {read}, audit says read {row['rows_read']}, "
                            f"accounted {total}")
    accepted = sum(r["rows_accepted"] for r in audit_rows)
    quarantined = sum(r["rows_quarantined"] for r in audit_rows)
    if accepted != events_written:
        problems.append(f"audit accepted {accepted} but events partition holds {events_written}")
    if quarantined != quarantine_written:
        problems.append(f"audit quarantined {quarantined} but quarantine partition holds {quarantine_written}")
    if problems:
        raise InvariantError(f"ingest_events ds={ds}: row accounting does not add up: " + "; ".join(problems))


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> IngestSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"ingest_events[{day}]")
    lake = Lake(spark, cfg.lake)
    folder = landing_folder(cfg.landing, day)
    files = list_landing_files(spark, folder)
    if not files:
        log.warning("landing folder %s has no files: writing empty partitions for ds=%s", folder, day)
    raw = extract(spark, files)
    file_names = spark.createDataFrame([(f.rsplit("/", 1)[-1],) for f in files], "source_file string")

    classified, result = transform(raw, file_names, day, cfg.ingest)
    classified = classified.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        read_per_file = {r["source_file"]: r["count"] for r in raw.groupBy("source_file").count().collect()}
        audit_rows = result.audit.collect()
        lake.write_partition(result.quarantine, QUARANTINE, day)
        lake.write_partition(result.events, EVENTS, day)
        lake.write_partition(spark.createDataFrame(audit_rows, result.audit.schema), INGEST_AUDIT, day)
    finally:
        classified.unpersist()

    events_written = lake.read(EVENTS, day, day).count()
    quarantine_written = lake.read(QUARANTINE, day, day).count()
    check_invariant(day, read_per_file, audit_rows, events_written, quarantine_written)
    summary = IngestSummary(
        ds=day.isoformat(),
        files=len(files),
        rows_read=sum(read_per_file.values()),
        rows_accepted=events_written,
        rows_quarantined=quarantine_written,
        duplicates_dropped=sum(r["duplicates_dropped"] for r in audit_rows),
        conflicting_duplicates=sum(r["conflicting_duplicates"] for r in audit_rows),
    )
    log.info("%s", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("ingest_events", run, argv)


if __name__ == "__main__":
    sys.exit(main())
