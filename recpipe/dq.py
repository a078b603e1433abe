"""Data quality: run a table partition's expectations with Great Expectations and record every outcome.

`validate_partition` runs the checks of `schemas.expectations` on one partition through a GX checkpoint
(Spark data source, whole-DataFrame batch), adds the checks that need other partitions or tables, writes
every outcome to `dq_results` and raises `DataQualityError` naming the table, partition and expectations
when an error-level check fails. Data Docs are updated under `<reports>/gx/uncommitted/data_docs/local_site`.
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
from schemas.expectations import (COMPUTED, ERROR, VOLUME_TABLES, WARN, Check, checks_for, drift_columns,
                                  numeric_drift_columns, suite)

log = logging.getLogger(__name__)


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


def _observed(result) -> str:
    r = result.result or {}
    for key in ("observed_value", "unexpected_count"):
        if key in r and r[key] is not None:
            value = r[key]
            return json.dumps(value, default=str) if not isinstance(value, str) else value
    return ""


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
           run_name: str | None = None) -> list[Outcome]:
    """Validate `df` against `checks` in one GX checkpoint run; Data Docs under docs_root when given."""
    with gx_lock(docs_root):
        result = _run_checkpoint(_context(docs_root), df, checks, table, partition, docs_root is not None,
                                 run_name)
    outcomes = []
    for run in result.run_results.values():
        for r in run.results:
            meta = r.expectation_config.meta or {}
            outcomes.append(Outcome(table, partition, meta.get("check", r.expectation_config.type),
                                    meta.get("severity", ERROR), bool(r.success), _observed(r)))
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
        suite.add_expectation(getattr(gxe, c.expectation)(**c.kwargs, meta={"check": c.name, "severity": c.severity}))
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"recpipe_{table}"))
    actions = [UpdateDataDocsAction(name="update_data_docs")] if docs else []
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(name=f"recpipe_{table}", validation_definitions=[definition], actions=actions))
    return checkpoint.run(batch_parameters={"dataframe": df},
                          run_id=RunIdentifier(run_name=f"{run_name or 'validate'} {table}[{partition}]"))


def volume_checks(counts: list[int], spec, day: dt.date, rows: int, dq) -> list[Outcome]:
    """The partition's row count against the mean of the trailing partitions' counts (when enough exist)."""
    if len(counts) < dq.min_history:
        return []
    mean = sum(counts) / len(counts)
    out = []
    for name, band in (("volume_within_band", dq.volume_band_warn), ("volume_not_collapsed", dq.volume_band_error)):
        # The band warns on either side; a collapse is only a fall.
        ok = mean * (1 - band) <= rows <= mean * (1 + band) if name == "volume_within_band" else rows >= mean * (1 - band)
        out.append(Outcome(spec.name, day.isoformat(), name, COMPUTED[name], ok,
                           json.dumps({"rows": rows, "trailing_mean": round(mean, 1), "band": band})))
    return out


def psi(today: list[float], reference: list[float], eps: float = 1e-4) -> float:
    """Population stability index of two histograms over the same bins (counts or shares)."""
    t, r = sum(today), sum(reference)
    if not t or not r:
        return 0.0
    total = 0.0
    for a, b in zip(today, reference):
        p, q = max(a / t, eps), max(b / r, eps)
        total += (p - q) * math.log(p / q)
    return total


def _profile(df: DataFrame, cols: list[str], edges: dict[str, list[float]]) -> dict:
    """One pass: the null rate of each column and, for those with bin edges, counts of non-null values per
    bin (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    aggs = [F.avg(F.col(c).isNull().cast("double")).alias(f"null:{c}") for c in cols]
    for c, e in edges.items():
        x = F.col(c).cast("double")
        bins = [x <= e[0]] + [(x > lo) & (x <= hi) for lo, hi in zip(e, e[1:])] + [x > e[-1]]
        aggs += [F.sum(b.cast("long")).alias(f"bin:{c}:{i}") for i, b in enumerate(bins)]
    row = df.agg(*aggs).first().asDict()
    return {"null": {c: float(row[f"null:{c}"] or 0.0) for c in cols},
            "bins": {c: [float(row[f"bin:{c}:{i}"] or 0) for i in range(len(e) + 1)] for c, e in edges.items()}}


def drift_checks(df: DataFrame, history: DataFrame, spec, day: dt.date, dq) -> list[Outcome]:
    """Null rate and distribution of the table's drift columns against the trailing partitions (warn).

    Three Spark jobs: the reference's deciles, then one profile pass over each side."""
    cols = drift_columns(spec)
    if not cols:
        return []
    numeric = numeric_drift_columns(spec)
    quantiles = history.approxQuantile(numeric, [i / 10 for i in range(1, 10)], 0.001) if numeric else []
    edges = {c: sorted(set(q)) for c, q in zip(numeric, quantiles) if q}
    now, before = _profile(df, cols, edges), _profile(history, cols, edges)
    part = day.isoformat()
    out = []
    for c in cols:
        a, b = now["null"][c], before["null"][c]
        out.append(Outcome(spec.name, part, f"{c}_null_rate_stable", COMPUTED["{column}_null_rate_stable"],
                           abs(a - b) <= dq.null_rate_drift,
                           json.dumps({"null_rate": round(a, 4), "trailing": round(b, 4)})))
    for c in edges:
        value = psi(now["bins"][c], before["bins"][c])
        out.append(Outcome(spec.name, part, f"{c}_distribution_stable", COMPUTED["{column}_distribution_stable"],
                           value <= dq.psi_warn,
                           json.dumps({"psi": round(value, 4), "bins": len(edges[c]) + 1})))
    return out


def candidate_checks(cands: DataFrame, lake, cfg, day: dt.date) -> list[Outcome]:
    """Candidates per user equal K (or every eligible item when fewer) and no purchased item among them."""
    from schemas import EVENTS

    if cands.isEmpty():
        return []
    k = cfg.candidates.k
    counts = cands.groupBy("user_id").agg(F.count(F.lit(1)).alias("n"))
    stats = counts.agg(F.min("n").alias("lo"), F.max("n").alias("hi"), F.count(F.lit(1)).alias("users")).first()
    catalogue = cands.select("item_id").distinct().count()
    expected = min(k, catalogue)
    window = lake.read(EVENTS, day - dt.timedelta(days=cfg.interactions.window_days - 1), day)
    bought = window.where(F.col("event_type") == "purchase").select("user_id", "item_id").distinct()
    overlap = cands.join(bought, ["user_id", "item_id"]).count()
    part = day.isoformat()
    return [
        Outcome("candidates", part, "candidates_per_user_equal_k", COMPUTED["candidates_per_user_equal_k"],
                stats["hi"] <= k and (stats["lo"] == k or catalogue < k),
                json.dumps({"min": stats["lo"], "max": stats["hi"], "k": k, "expected": expected})),
        Outcome("candidates", part, "no_purchased_item_in_candidates", COMPUTED["no_purchased_item_in_candidates"],
                overlap == 0, str(overlap)),
    ]


def ranker_ratio_check(samples: DataFrame, cfg, day: dt.date) -> list[Outcome]:
    rows = {r["label"]: r["count"] for r in samples.groupBy("label").count().collect()}
    if not rows.get(1):
        return []
    ratio = rows.get(0, 0) / rows[1]
    n = cfg.ranker_samples.negatives_per_positive
    return [Outcome("ranker_samples", day.isoformat(), "negatives_per_positive",
                    COMPUTED["negatives_per_positive"], 0.8 * n <= ratio <= n,
                    f"{ratio:.3f}")]


def schema_check(df: DataFrame, spec, day: dt.date) -> Outcome:
    """Column names, types and nullability of the partition as read, against the contract."""
    want = {f.name: (f.dataType.simpleString(), f.nullable) for f in spec.schema.fields}
    got = {f.name: (f.dataType.simpleString(), f.nullable) for f in df.schema.fields}
    diff = {c: {"contract": want.get(c), "table": got.get(c)} for c in sorted(set(want) | set(got))
            if want.get(c) != got.get(c)}
    return Outcome(spec.name, day.isoformat(), "schema_matches_contract", COMPUTED["schema_matches_contract"], not diff,
                   json.dumps(diff) if diff else f"{len(got)} columns")


def quarantine_share_check(lake, day: dt.date, rows: int, dq) -> list[Outcome]:
    """Quarantined rows as a share of the rows read that day (warn above dq.max_quarantine_share)."""
    from schemas import INGEST_AUDIT

    if not lake.exists(INGEST_AUDIT):
        return []
    read = lake.read(INGEST_AUDIT, day, day).agg(F.sum("rows_read").alias("n")).first()["n"] or 0
    if not read:
        return []
    share = rows / read
    return [Outcome("quarantine", day.isoformat(), "quarantine_share_below_limit", COMPUTED["quarantine_share_below_limit"],
                    share <= dq.max_quarantine_share, json.dumps({"share": round(share, 4), "rows_read": read}))]


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


def partition_frame(lake, spec, day: dt.date) -> DataFrame:
    """What a run for `day` wrote to the table: its date partition, or for the factor tables (partitioned by
    model version) the versions registered as_of day."""
    from schemas import MODELS

    if spec.partition_by != "model_version":
        return lake.read(spec, day, day)
    versions = [r["model_version"] for r in lake.read(MODELS, day, day).select("model_version").collect()]
    return lake.read(spec).where(F.col("model_version").isin(versions))


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
    df = partition_frame(source, spec, day).cache()
    rows = df.count()
    docs_root = Path(cfg.reports) if docs else None   # GX keeps its store and Data Docs under <root>/gx
    overrides = severity_overrides(cfg.dq.severity, cfg)
    declared = suite(spec)
    # The partition's size is always recorded: an empty partition is validated too (no champion yet, no
    # served candidates yet), and `publish` finds the record.
    outcomes = [Outcome(spec.name, day.isoformat(), "row_count", COMPUTED["row_count"], True, str(rows)),
                schema_check(df, spec, day)]
    outcomes += run_gx(df, checks_for(spec), spec.name, day.isoformat(), docs_root, run_id) if rows else []
    if spec.partition_by in ("ds", "as_of") and lake.exists(spec):
        history = lake.read(spec, day - dt.timedelta(days=7), day - dt.timedelta(days=1)).cache()
        counts = [r["count"] for r in history.groupBy(spec.partition_by).count().collect()]
        if spec.name in VOLUME_TABLES:
            outcomes += volume_checks(counts, spec, day, rows, cfg.dq)
        if rows and len(counts) >= cfg.dq.min_history:
            outcomes += drift_checks(df, history, spec, day, cfg.dq)
        history.unpersist()
    if spec.name == "candidates":
        outcomes += candidate_checks(df, lake, cfg, day)
    if spec.name == "ranker_samples":
        outcomes += ranker_ratio_check(df, cfg, day)
    if spec.name == "quarantine":
        outcomes += quarantine_share_check(lake, day, rows, cfg.dq)
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


def validate_partition(lake, cfg, spec, ds, run_id: str, docs: bool = True, staged: bool = False) -> list[Outcome]:
    """All checks for one partition -> dq_results; raises DataQualityError on an error-level failure."""
    from recpipe.storage import parse_ds

    day = parse_ds(ds)
    outcomes = check_partition(lake, cfg, spec, day, run_id, docs, staged)
    record(lake, day, outcomes, run_id)
    errors = errors_of(outcomes)
    if errors:
        raise DataQualityError(" | ".join(errors))
    return outcomes
