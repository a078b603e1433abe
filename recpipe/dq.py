"""Data quality: run a table partition's expectations with Great Expectations and record every outcome.

`validate_partition` runs the checks of `schemas.expectations` on one partition through a GX checkpoint
(Spark data source, whole-DataFrame batch), adds the checks that need other partitions or tables, writes
every outcome to `dq_results` and raises `DataQualityError` naming the table, partition and expectations
when an error-level check fails. Data Docs are rebuilt under `<reports>/gx`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from schemas.expectations import ERROR, WARN, Check, checks_for

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


def run_gx(df: DataFrame, checks: list[Check], table: str, partition: str, docs_root: str | Path | None = None
           ) -> list[Outcome]:
    """Validate `df` against `checks` in one GX checkpoint run; Data Docs under docs_root when given."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction

    if docs_root is not None:
        Path(docs_root).mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(docs_root))
    else:
        context = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # The task logs say what was validated; per-metric progress bars would only flood them.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_or_update_spark(name="recpipe")
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
    actions = [UpdateDataDocsAction(name="update_data_docs")] if docs_root is not None else []
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(name=f"recpipe_{table}", validation_definitions=[definition], actions=actions))
    result = checkpoint.run(batch_parameters={"dataframe": df})
    outcomes = []
    for run in result.run_results.values():
        for r in run.results:
            meta = r.expectation_config.meta or {}
            outcomes.append(Outcome(table, partition, meta.get("check", r.expectation_config.type),
                                    meta.get("severity", ERROR), bool(r.success), _observed(r)))
    return outcomes


def volume_checks(lake, spec, day: dt.date, rows: int, band_warn: float, band_error: float) -> list[Outcome]:
    """The partition's row count against the mean of the trailing 7 partitions (when 3 or more exist)."""
    history = (lake.read(spec, day - dt.timedelta(days=7), day - dt.timedelta(days=1))
               .groupBy(spec.partition_by).count().collect())
    if len(history) < 3:
        return []
    mean = sum(r["count"] for r in history) / len(history)
    out = []
    for name, band, severity in (("volume_within_band", band_warn, WARN), ("volume_not_collapsed", band_error, ERROR)):
        ok = mean * (1 - band) <= rows <= mean * (1 + band) if severity == WARN else rows >= mean * (1 - band)
        out.append(Outcome(spec.name, day.isoformat(), name, severity, ok,
                           json.dumps({"rows": rows, "trailing_mean": round(mean, 1), "band": band})))
    return out


def candidate_checks(lake, cfg, day: dt.date) -> list[Outcome]:
    """Candidates per user equal K (or every eligible item when fewer) and no purchased item among them."""
    from schemas import CANDIDATES, EVENTS

    cands = lake.read(CANDIDATES, day, day)
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
        Outcome("candidates", part, "candidates_per_user_equal_k", ERROR,
                stats["hi"] <= k and (stats["lo"] == k or catalogue < k),
                json.dumps({"min": stats["lo"], "max": stats["hi"], "k": k, "expected": expected})),
        Outcome("candidates", part, "no_purchased_item_in_candidates", ERROR, overlap == 0, str(overlap)),
    ]


def ranker_ratio_check(lake, cfg, day: dt.date) -> list[Outcome]:
    from schemas import ranker_samples_spec

    rows = {r["label"]: r["count"] for r in
            lake.read(ranker_samples_spec(cfg.features.windows, cfg.item_stats.windows), day, day)
            .groupBy("label").count().collect()}
    if not rows.get(1):
        return []
    ratio = rows.get(0, 0) / rows[1]
    n = cfg.ranker_samples.negatives_per_positive
    return [Outcome("ranker_samples", day.isoformat(), "negatives_per_positive", WARN, 0.8 * n <= ratio <= n,
                    f"{ratio:.3f}")]


def validate_partition(lake, cfg, spec, ds, run_id: str, docs: bool = True) -> list[Outcome]:
    """All checks for one partition -> dq_results; raises DataQualityError on an error-level failure."""
    from recpipe.storage import parse_ds
    from schemas import DQ_RESULTS

    day = parse_ds(ds)
    df = lake.read(spec, day, day).cache()
    rows = df.count()
    docs_root = Path(cfg.reports) / "gx" if docs else None
    outcomes = run_gx(df, checks_for(spec), spec.name, day.isoformat(), docs_root) if rows else []
    outcomes += volume_checks(lake, spec, day, rows, cfg.dq.volume_band_warn, cfg.dq.volume_band_error)
    if spec.name == "candidates":
        outcomes += candidate_checks(lake, cfg, day)
    if spec.name == "ranker_samples":
        outcomes += ranker_ratio_check(lake, cfg, day)
    df.unpersist()
    records = [(day, o.table, o.expectation, o.severity, o.success, o.observed, run_id) for o in outcomes]
    lake.replace_where(lake.spark.createDataFrame(records, DQ_RESULTS.schema), DQ_RESULTS, ds=day, table_name=spec.name)
    failed = [o for o in outcomes if not o.success and o.severity == ERROR]
    for o in outcomes:
        if not o.success and o.severity == WARN:
            log.warning("dq %s[%s]: %s failed (warn), observed %s", o.table, o.partition, o.expectation, o.observed)
    if failed:
        raise DataQualityError(f"table {spec.name}, partition {day}: error-level expectations failed: "
                               + "; ".join(f"{o.expectation} (observed {o.observed})" for o in failed))
    return outcomes
