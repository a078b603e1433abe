"""Data quality: run a table partition's expectations with Great Expectations and record every outcome.

`validate_partition` runs a table's suite (`schemas.expectations`) on one partition in one GX checkpoint
(Spark data source, whole-DataFrame batch): the contract's and the table's own expectations, and the
derived ones whose parameters this module computes from other partitions or tables (the trailing week's
mean and distribution, the purchases of the interaction window). It records the partition's row count and
schema beside them, writes every outcome to `dq_results` and raises `DataQualityError` naming the table,
partition and expectations when an error-level one fails. Data Docs are updated under
`<reports>/gx/uncommitted/data_docs/local_site`, with every expectation of the run.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from contextlib import contextmanager
import json
import math
import logging
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from schemas.expectations import (DERIVED, DRIFT_CHECKS, ERROR, RECORDED, VOLUME_TABLES, WARN, Check, checks_for,
                                  drift_columns, numeric_drift_columns, suite)

log = logging.getLogger(__name__)
# GX's Spark histogram warns whenever values fall outside the bins; the KL expectation counts those tails
# itself, so on every drift check the warning would only be noise.
logging.getLogger("great_expectations.expectations.metrics.column_aggregate_metrics.column_histogram").setLevel(
    logging.ERROR)


class DataQualityError(RuntimeError):
    """An error-level expectation failed: the partition must not be published."""


@dataclass(frozen=True)
class Outcome:
    table: str
    partition: str
    expectation: str
    severity: str
    success: bool
    observed: str


def _observed(result, context: dict | None = None) -> str:
    """The value GX observed (for a relational expectation, the number of rows violating it), with the
    check's context when it has one."""
    r = result.result or {}
    value = next((r[k] for k in ("observed_value", "unexpected_count") if r.get(k) is not None), None)
    if isinstance(value, float):
        value = round(value, 6)
    if context:
        return json.dumps({"observed": value, **context}, default=str)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


_CONTEXTS: dict[str, object] = {}


@contextmanager
def gx_lock(docs_root: str | Path | None):
    """Checkpoint runs against one reports root take turns. GX keeps its configuration in one file
    (great_expectations.yml) and rebuilds the Data Docs' index on every run, so the validation tasks a
    scheduler runs side by side (validate_sessions, validate_item_popularity, ...) would otherwise write
    them at the same time. An exclusive `flock` on `<root>/.gx.lock`, per open file, so threads of one
    process wait for each other too."""
    if docs_root is None:
        yield
        return
    import fcntl

    Path(docs_root).mkdir(parents=True, exist_ok=True)
    with open(Path(docs_root) / ".gx.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _context(docs_root: str | Path | None):
    """One GX data context per project root (file-backed: its store and Data Docs under <root>/gx) or an
    ephemeral one, reused within a process."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    key = str(Path(docs_root).resolve()) if docs_root is not None else ""
    if key not in _CONTEXTS:
        if docs_root is not None:
            Path(docs_root).mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=key)
        else:
            context = gx.get_context(mode="ephemeral")
        # The task logs say what was validated; per-metric progress bars would only flood them.
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        _CONTEXTS[key] = context
    return _CONTEXTS[key]


def run_gx(df: DataFrame, checks: list[Check], table: str, partition: str, docs_root: str | Path | None = None,
           run_name: str | None = None, context: dict[str, dict] | None = None) -> list[Outcome]:
    """Validate `df` against `checks` in one GX checkpoint run; Data Docs under docs_root when given.
    `context` (check name -> dict) is recorded with a check's observed value (the trailing mean, say)."""
    with gx_lock(docs_root):
        result = _run_checkpoint(_context(docs_root), df, checks, table, partition, docs_root is not None,
                                 run_name)
    outcomes = []
    for run in result.run_results.values():
        for r in run.results:
            meta = r.expectation_config.meta or {}
            name = meta.get("check", r.expectation_config.type)
            outcomes.append(Outcome(table, partition, name, meta.get("severity", ERROR), bool(r.success),
                                    _observed(r, (context or {}).get(name))))
    return outcomes


def _run_checkpoint(context, df: DataFrame, checks: list[Check], table: str, partition: str, docs: bool,
                    run_name: str | None):
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    # The partition is cached (and released) by check_partition; GX's own persist would cache it again.
    source = context.data_sources.add_or_update_spark(name="recpipe", persist=False)
    try:
        asset = source.get_asset(table)
    except LookupError:
        asset = source.add_dataframe_asset(name=table)
    try:
        batch = asset.get_batch_definition("partition")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("partition")
    suite = gx.ExpectationSuite(name=f"recpipe_{table}")
    for c in checks:
        suite.add_expectation(getattr(gxe, c.expectation)(**c.kwargs, description=c.description,
                                                          meta={"check": c.name, "severity": c.severity}))
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"recpipe_{table}"))
    actions = [UpdateDataDocsAction(name="update_data_docs")] if docs else []
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(name=f"recpipe_{table}", validation_definitions=[definition], actions=actions))
    return checkpoint.run(batch_parameters={"dataframe": df},
                          run_id=RunIdentifier(run_name=f"{run_name or 'validate'} {table}[{partition}]"))


def _fill(template: Check, name: str | None = None, **kwargs) -> Check:
    """A declared derived expectation with its parameters (and, for `{column}` templates, its name)."""
    return dataclasses.replace(template, name=name or template.name, kwargs={**template.kwargs, **kwargs})


Derived = list[tuple[Check, dict]]      # expectations with what is recorded beside each observed value


def volume_expectations(counts: list[int], dq) -> Derived:
    """The partition's row count against the mean of the trailing partitions' counts (when enough exist)."""
    if len(counts) < dq.min_history:
        return []
    mean = sum(counts) / len(counts)
    ctx = {"trailing_mean": round(mean, 1), "trailing_partitions": len(counts)}
    # Row counts are integers: rows >= x is rows >= ceil(x), rows <= y is rows <= floor(y).
    return [
        (_fill(DERIVED["volume_within_band"], min_value=math.ceil(mean * (1 - dq.volume_band_warn)),
               max_value=math.floor(mean * (1 + dq.volume_band_warn))), {**ctx, "band": dq.volume_band_warn}),
        # A collapse is only a fall.
        (_fill(DERIVED["volume_not_collapsed"], min_value=math.ceil(mean * (1 - dq.volume_band_error))),
         {**ctx, "band": dq.volume_band_error}),
    ]


def _cells(x, edges: list[float]) -> list:
    """Below the first edge, [e_i, e_i+1) for each inner bin, the last bin closed [e_n-1, e_n], above the
    last edge: how GX's Spark histogram (a Bucketizer) counts a partition object's bins and tails."""
    inner = [(x >= lo) & (x < hi) for lo, hi in zip(edges[:-2], edges[1:-1])]
    return [x < edges[0]] + inner + [(x >= edges[-2]) & (x <= edges[-1]), x > edges[-1]]


def reference_profile(history: DataFrame, cols: list[str], numeric: list[str]) -> dict:
    """The trailing partitions' null rate of each column and, for numeric ones with at least two distinct
    deciles, the counts of their values below, within and above the deciles' bins. Two Spark jobs: the
    deciles, then one pass for everything else."""
    quantiles = history.approxQuantile(numeric, [i / 10 for i in range(1, 10)], 0.001) if numeric else []
    edges = {c: sorted({float(v) for v in q}) for c, q in zip(numeric, quantiles) if q}
    # A column constant in the reference gets one bin holding just that value, so any spread shows.
    edges = {c: e if len(e) >= 2 else [e[0], math.nextafter(e[0], math.inf)] for c, e in edges.items()}
    aggs = [F.avg(F.col(c).isNull().cast("double")).alias(f"null:{c}") for c in cols]
    for c, e in edges.items():
        aggs += [F.sum(b.cast("long")).alias(f"cell:{c}:{i}") for i, b in enumerate(_cells(F.col(c).cast("double"), e))]
    row = history.agg(*aggs).first().asDict()
    return {"null": {c: float(row[f"null:{c}"] or 0.0) for c in cols},
            "edges": edges,
            "cells": {c: [int(row[f"cell:{c}:{i}"] or 0) for i in range(len(e) + 1)] for c, e in edges.items()}}


def partition_object(edges: list[float], cells: list[int], prior: float = 0.5) -> dict:
    """GX's partition object for the reference: the inner bins' weights and the two tails' weights, each
    cell's count plus `prior` (so no bin the reference left empty makes the divergence infinite)."""
    smoothed = [n + prior for n in cells]
    total = sum(smoothed)
    weights = [n / total for n in smoothed]
    return {"bins": edges, "weights": weights[1:-1], "tail_weights": [weights[0], weights[-1]]}


def drift_expectations(history: DataFrame, spec, dq) -> Derived:
    """Null rate and distribution of the table's drift columns against the trailing partitions."""
    cols = drift_columns(spec)
    if not cols:
        return []
    ref = reference_profile(history, cols, numeric_drift_columns(spec))
    null_rate, distribution = (DERIVED[name] for name in DRIFT_CHECKS)
    out: Derived = []
    for c in cols:
        share = 1.0 - ref["null"][c]                   # GX checks the share of non-null values
        out.append((_fill(null_rate, null_rate.name.format(column=c), column=c,
                          min_value=max(0.0, share - dq.null_rate_drift), max_value=min(1.0, share + dq.null_rate_drift)),
                    {"trailing_non_null_share": round(share, 4)}))
    for c, e in ref["edges"].items():
        out.append((_fill(distribution, distribution.name.format(column=c), column=c,
                          partition_object=partition_object(e, ref["cells"][c]), threshold=dq.kl_warn),
                    {"bins": len(e) - 1, "threshold": dq.kl_warn}))
    return out


def purchases_view(lake, cfg, day: dt.date) -> str:
    """The (user, item) pairs purchased within the interaction window ending at day, as a temporary view
    the candidates' expectation joins (dropped after the run)."""
    from schemas import EVENTS

    window = lake.read(EVENTS, day - dt.timedelta(days=cfg.interactions.window_days - 1), day)
    name = f"dq_purchases_{day:%Y%m%d}"
    (window.where(F.col("event_type") == "purchase").select("user_id", "item_id").distinct()
     .createOrReplaceTempView(name))
    return name


def candidate_expectations(cfg, purchases: str) -> Derived:
    per_user, purchased = DERIVED["candidates_per_user_equal_k"], DERIVED["no_purchased_item_in_candidates"]
    k = cfg.candidates.k
    return [(_fill(per_user, unexpected_rows_query=per_user.kwargs["unexpected_rows_query"].format(k=k)), {"k": k}),
            (_fill(purchased, unexpected_rows_query=purchased.kwargs["unexpected_rows_query"].format(
                purchases=purchases)), {})]


def ranker_ratio_expectations(cfg) -> Derived:
    ratio, n = DERIVED["negatives_per_positive"], cfg.ranker_samples.negatives_per_positive
    query = ratio.kwargs["unexpected_rows_query"].format(lo=0.8 * n, hi=n)
    return [(_fill(ratio, unexpected_rows_query=query), {"negatives_per_positive": n})]


def quarantine_share_expectations(lake, day: dt.date, dq) -> Derived:
    """Quarantined rows at most dq.max_quarantine_share of the rows read that day."""
    from schemas import INGEST_AUDIT

    if not lake.exists(INGEST_AUDIT):
        return []
    read = lake.read(INGEST_AUDIT, day, day).agg(F.sum("rows_read").alias("n")).first()["n"] or 0
    if not read:
        return []
    return [(_fill(DERIVED["quarantine_share_below_limit"], min_value=0,
                   max_value=math.floor(dq.max_quarantine_share * read)),
             {"rows_read": read, "max_share": dq.max_quarantine_share})]


def schema_check(df: DataFrame, spec, day: dt.date) -> Outcome:
    """Column names, types and nullability of the partition as read, against the contract."""
    want = {f.name: (f.dataType.simpleString(), f.nullable) for f in spec.schema.fields}
    got = {f.name: (f.dataType.simpleString(), f.nullable) for f in df.schema.fields}
    diff = {c: {"contract": want.get(c), "table": got.get(c)} for c in sorted(set(want) | set(got))
            if want.get(c) != got.get(c)}
    return Outcome(spec.name, day.isoformat(), "schema_matches_contract", RECORDED["schema_matches_contract"], not diff,
                   json.dumps(diff) if diff else f"{len(got)} columns")


def table_spec(cfg, name: str):
    """The contract of table `name` under this configuration (window-dependent tables included)."""
    from schemas import TABLES, item_popularity_spec, ranker_samples_spec, user_features_spec

    specs = {"user_features": lambda: user_features_spec(cfg.features.windows),
             "item_popularity": lambda: item_popularity_spec(cfg.item_stats.windows),
             "ranker_samples": lambda: ranker_samples_spec(cfg.features.windows, cfg.item_stats.windows)}
    if name in specs:
        return specs[name]()
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; known: {sorted(TABLES)}")
    return TABLES[name]


def partition_frame(lake, spec, day: dt.date, version: int | None = None) -> DataFrame:
    """What a run for `day` wrote to the table (as of Delta `version` when given): its date partition, or
    for the factor tables (partitioned by model version) the versions registered as_of day."""
    from schemas import MODELS

    if spec.partition_by != "model_version":
        return lake.read(spec, day, day, version=version)
    versions = [r["model_version"] for r in lake.read(MODELS, day, day).select("model_version").collect()]
    return lake.read(spec, version=version).where(F.col("model_version").isin(versions))


def severity_overrides(entries: tuple[str, ...], cfg=None) -> dict[str, str]:
    """`dq.severity` entries `table.expectation=warn|error`, each changing one declared severity. With a
    configuration, each entry must name a declared expectation of a known table, so that a misspelt name
    fails instead of changing nothing."""
    wanted = {}
    for entry in entries:
        key, _, severity = entry.partition("=")
        key = key.strip()
        if severity.strip() not in (ERROR, WARN) or "." not in key:
            raise ValueError(f"dq.severity: {entry!r} is not 'table.expectation=error|warn'")
        if cfg is not None:
            table, _, expectation = key.partition(".")
            declared = suite(table_spec(cfg, table))
            if expectation not in declared:
                raise ValueError(f"dq.severity: {entry!r}: table {table} declares no expectation "
                                 f"{expectation!r}; its expectations: {', '.join(sorted(declared))}")
        wanted[key] = severity.strip()
    return wanted


def check_partition(lake, cfg, spec, day: dt.date, run_id: str, docs: bool = True, staged: bool = False
                    ) -> list[Outcome]:
    """Every check of one partition, with the configured severities; records and raises nothing.

    `staged`: the partition is read from the staging area (a table waiting to be published); the trailing
    partitions it is compared with are the published ones.
    """
    source = lake.staging() if staged else lake
    # One snapshot: the checks, and for a staged table what `publish` later copies, are of this version.
    version = source.version(spec)
    df = partition_frame(source, spec, day, version).cache()
    rows = df.count()
    docs_root = Path(cfg.reports) if docs else None   # GX keeps its store and Data Docs under <root>/gx
    overrides = severity_overrides(cfg.dq.severity, cfg)
    declared = suite(spec)
    # The partition's size is always recorded: an empty partition is validated too (no champion yet, no
    # served candidates yet), and `publish` finds the record.
    part = day.isoformat()
    outcomes = [Outcome(spec.name, part, "row_count", RECORDED["row_count"], True, str(rows)),
                Outcome(spec.name, part, "validated_version", RECORDED["validated_version"], True, str(version)),
                schema_check(df, spec, day)]
    derived: Derived = []
    views: list[str] = []
    history = None
    # The trailing partitions are read only for a table with a volume or drift expectation.
    compared = spec.name in VOLUME_TABLES or (rows and drift_columns(spec))
    if compared and spec.partition_by in ("ds", "as_of") and lake.exists(spec):
        history = lake.read(spec, day - dt.timedelta(days=7), day - dt.timedelta(days=1)).cache()
        counts = [r["count"] for r in history.groupBy(spec.partition_by).count().collect()]
        if spec.name in VOLUME_TABLES:
            derived += volume_expectations(counts, cfg.dq)
        if rows and len(counts) >= cfg.dq.min_history:
            derived += drift_expectations(history, spec, cfg.dq)
    if spec.name == "candidates" and rows:
        views.append(purchases_view(lake, cfg, day))
        derived += candidate_expectations(cfg, views[-1])
    if spec.name == "ranker_samples" and rows:
        derived += ranker_ratio_expectations(cfg)
    if spec.name == "quarantine":
        derived += quarantine_share_expectations(lake, day, cfg.dq)
    # An empty partition (no champion yet, nothing served yet) gets the table-level expectations only.
    checks = (checks_for(spec) if rows else []) + [c for c, _ in derived]
    try:
        if checks:
            outcomes += run_gx(df, checks, spec.name, part, docs_root, run_id,
                               context={c.name: ctx for c, ctx in derived})
    finally:
        for view in views:
            lake.spark.catalog.dropTempView(view)
        if history is not None:
            history.unpersist()
        df.unpersist()
    undeclared = sorted({o.expectation for o in outcomes} - set(declared))
    if undeclared:   # every outcome's severity comes from the suite declared in schemas.expectations
        raise RuntimeError(f"{spec.name}: checks not declared in schemas.expectations: {undeclared}")
    outcomes = [dataclasses.replace(o, severity=overrides.get(f"{o.table}.{o.expectation}", declared[o.expectation]))
                for o in outcomes]
    for o in outcomes:
        if not o.success and o.severity == WARN:
            log.warning("dq %s[%s]: %s failed (warn), observed %s", o.table, o.partition, o.expectation, o.observed)
    return outcomes


def record(lake, day: dt.date, outcomes: list[Outcome], run_id: str) -> None:
    """Append one validation run's outcomes to `dq_results` (one commit), each table under its next attempt."""
    from schemas import DQ_RESULTS

    tables = sorted({o.table for o in outcomes})
    done = {}
    if lake.exists(DQ_RESULTS) and tables:
        done = {r["table_name"]: r["n"] for r in lake.read(DQ_RESULTS, day, day)
                .where(F.col("table_name").isin(tables)).groupBy("table_name").agg(F.max("attempt").alias("n"))
                .collect()}
    rows = [(day, o.table, o.expectation, o.severity, o.success, o.observed, run_id, done.get(o.table, 0) + 1)
            for o in outcomes]
    lake.append(lake.spark.createDataFrame(rows, DQ_RESULTS.schema), DQ_RESULTS)


def latest_outcomes(lake, ds_min=None, ds_max=None) -> DataFrame | None:
    """The outcomes of each (ds, table)'s latest validation attempt; None before any validation."""
    from pyspark.sql import Window

    from schemas import DQ_RESULTS

    if not lake.exists(DQ_RESULTS):
        return None
    rows = lake.read(DQ_RESULTS, ds_min, ds_max)
    last = F.max("attempt").over(Window.partitionBy("ds", "table_name"))
    return rows.withColumn("_last", last).where(F.col("attempt") == F.col("_last")).drop("_last")


def errors_of(outcomes: list[Outcome]) -> list[str]:
    """One message per table with error-level failures, naming the table, partition and expectations."""
    by_table: dict[tuple[str, str], list[Outcome]] = {}
    for o in outcomes:
        if not o.success and o.severity == ERROR:
            by_table.setdefault((o.table, o.partition), []).append(o)
    return [f"table {t}, partition {p}: error-level expectations failed: "
            + "; ".join(f"{o.expectation} (observed {o.observed})" for o in failed)
            for (t, p), failed in by_table.items()]


def validate(lake, cfg, day: dt.date, partitions: list[tuple], run_id: str, docs: bool = True) -> list[Outcome]:
    """Check each (spec, staged) partition of `day`, record all outcomes in one commit, then raise
    DataQualityError naming every table with an error-level failure (after all were checked)."""
    outcomes = [o for spec, staged in partitions for o in check_partition(lake, cfg, spec, day, run_id, docs, staged)]
    record(lake, day, outcomes, run_id)
    errors = errors_of(outcomes)
    if errors:
        raise DataQualityError(" | ".join(errors))
    return outcomes


def validate_partition(lake, cfg, spec, ds, run_id: str, docs: bool = True, staged: bool = False) -> list[Outcome]:
    """All checks for one partition -> dq_results; raises DataQualityError on an error-level failure."""
    from recpipe.storage import parse_ds

    return validate(lake, cfg, parse_ds(ds), [(spec, staged)], run_id, docs)
