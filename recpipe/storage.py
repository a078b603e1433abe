"""The lake: where each table lives and how a job reads and writes one partition.

Every write replaces exactly one partition in one Delta commit (``replaceWhere``), so a rerun of a day
replaces that day atomically and leaves the others alone; readers see the old partition or the new one,
never a mix.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from schemas.base import TableSpec


# Under the lake root; not a table name (table names are identifiers).
STAGING = "_staging"


class ContractError(ValueError):
    """A DataFrame does not match its table's contract."""


def parse_ds(ds: str | dt.date) -> dt.date:
    if isinstance(ds, dt.date):
        return ds
    try:
        return dt.date.fromisoformat(ds)
    except (TypeError, ValueError):
        raise ValueError(f"ds must be a date as YYYY-MM-DD, got {ds!r}") from None


def _sql_literal(value) -> str:
    if isinstance(value, dt.date):
        return f"DATE'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    raise TypeError(f"no SQL literal for {value!r}")


class Lake:
    def __init__(self, spark: SparkSession, root: str | Path):
        self.spark = spark
        self.root = Path(root).resolve()

    def staging(self) -> "Lake":
        """The staging area: published tables are written here first, validated, then copied by `publish`.

        A partition that fails validation never reaches the served table, so readers keep what was
        published before.
        """
        return Lake(self.spark, self.root / STAGING)

    def path(self, spec: TableSpec) -> str:
        return str(self.root / spec.name)

    def exists(self, spec: TableSpec) -> bool:
        return (Path(self.path(spec)) / "_delta_log").is_dir()

    def ensure_table(self, spec: TableSpec) -> None:
        """Create the table with its contract's schema (NOT NULL columns enforced by Delta)."""
        if self.exists(spec):
            return
        from delta.tables import DeltaTable

        (
            DeltaTable.createIfNotExists(self.spark)
            .location(self.path(spec))
            .addColumns(spec.schema)
            .partitionedBy(spec.partition_by)
            .execute()
        )

    def conform(self, df: DataFrame, spec: TableSpec) -> DataFrame:
        """Select the contract's columns in order, cast to its types; fail on a missing column."""
        missing = [c for c in spec.columns if c not in df.columns]
        if missing:
            raise ContractError(f"table {spec.name}: missing columns {missing}; got {df.columns}")
        return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in spec.schema.fields])

    def write_partition(self, df: DataFrame, spec: TableSpec, ds: str | dt.date) -> None:
        """Replace partition ``ds`` of the table with ``df`` in a single Delta commit."""
        self.write_range(df, spec, ds, ds)

    def write_range(self, df: DataFrame, spec: TableSpec, ds_min: str | dt.date, ds_max: str | dt.date) -> None:
        """Replace every partition in [ds_min, ds_max] with ``df`` in a single Delta commit.

        Delta's replaceWhere constraint check rejects any row outside the range being replaced.
        """
        lo, hi = parse_ds(ds_min), parse_ds(ds_max)
        if hi < lo:
            raise ValueError(f"table {spec.name}: range end {hi} is before its start {lo}")
        self.overwrite_where(df, spec, f"{spec.partition_by} >= DATE'{lo}' AND {spec.partition_by} <= DATE'{hi}'")

    def replace_where(self, df: DataFrame, spec: TableSpec, **equals) -> None:
        """Replace the rows matching ``column = value`` for every given column with ``df`` in one commit.

        For tables keyed by something other than a date range (a model version, a run of one challenger).
        """
        if not equals:
            raise ValueError(f"table {spec.name}: replace_where needs at least one column = value")
        unknown = [c for c in equals if c not in spec.columns]
        if unknown:
            raise ContractError(f"table {spec.name}: no columns {unknown}")
        self.overwrite_where(df, spec, " AND ".join(f"{c} = {_sql_literal(v)}" for c, v in equals.items()))

    def append(self, df: DataFrame, spec: TableSpec) -> None:
        """Add ``df``'s rows in one commit (for append-only logs such as `dq_results`)."""
        self.ensure_table(spec)
        self.conform(df, spec).write.format("delta").mode("append").save(self.path(spec))

    def overwrite_where(self, df: DataFrame, spec: TableSpec, predicate: str) -> None:
        """Replace the rows matching a SQL predicate with ``df`` in one commit (Delta rejects rows of ``df``
        outside the predicate). Every partition write goes through here."""
        self.ensure_table(spec)
        (
            self.conform(df, spec).write.format("delta")
            .mode("overwrite")
            .option("replaceWhere", predicate)
            .save(self.path(spec))
        )

    def version(self, spec: TableSpec) -> int:
        """The table's current Delta version (its latest commit)."""
        from delta.tables import DeltaTable

        if not self.exists(spec):
            raise FileNotFoundError(f"table {spec.name} does not exist at {self.path(spec)}")
        return int(DeltaTable.forPath(self.spark, self.path(spec)).history(1).first()["version"])

    def read(self, spec: TableSpec, ds_min: str | dt.date | None = None,
             ds_max: str | dt.date | None = None, version: int | None = None) -> DataFrame:
        """Read a table, optionally only partitions in [ds_min, ds_max] (the point-in-time bound), and
        optionally as of a Delta version (time travel: exactly what a commit left)."""
        if not self.exists(spec):
            raise FileNotFoundError(f"table {spec.name} does not exist at {self.path(spec)}")
        reader = self.spark.read.format("delta")
        df = (reader.option("versionAsOf", version) if version is not None else reader).load(self.path(spec))
        col = F.col(spec.partition_by)
        if ds_min is not None:
            df = df.where(col >= F.lit(parse_ds(ds_min)))
        if ds_max is not None:
            df = df.where(col <= F.lit(parse_ds(ds_max)))
        return df
