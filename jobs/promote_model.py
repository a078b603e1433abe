"""promote_model: the week's `model_metrics` -> the challenger's decision in the `models` registry.

    python -m jobs.promote_model --ds 2026-11-14

Gate (on the "all" segment, thresholds in `promotion`):
  1. the challenger's primary metric (default recall@1000, the depth of the published candidates) must
     beat the popularity baseline's by `min_lift_over_baseline` (relative), else it is `rejected`;
  2. with no champion yet, it becomes `champion`;
  3. otherwise its primary metric must be at least the champion's × (1 - primary_tolerance) and its
     NDCG@10 at least the champion's × (1 - ndcg10_tolerance); if so it becomes `champion`, else `shadow`
     (factors kept, not served).
Every decision is written with its reason and the figures it was based on.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from recpipe.config import Config, PromotionConfig
from recpipe.registry import model_version_for
from recpipe.storage import Lake, parse_ds
from schemas import MODEL_METRICS, MODELS


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str
    gate: dict


@dataclass(frozen=True)
class PromotionSummary:
    ds: str
    model_version: str
    decision: Decision

    def __str__(self) -> str:
        return f"promote_model ds={self.ds}: {self.model_version} -> {self.decision.status} ({self.decision.reason})"


def decide(challenger: dict[str, float], baseline: dict[str, float], champion: dict[str, float] | None,
           cfg: PromotionConfig, champion_version: str | None = None) -> Decision:
    """Pure gate. Each dict maps "metric@k" to the value on the "all" segment."""
    p, n = cfg.primary_metric, "ndcg@10"
    gate = {"primary_metric": p, "challenger": {p: challenger[p], n: challenger[n]},
            "baseline": {p: baseline[p], n: baseline[n]}}
    need = baseline[p] * (1.0 + cfg.min_lift_over_baseline)
    if not challenger[p] > need:
        return Decision("rejected", f"{p} {challenger[p]:.4f} does not beat popularity's {baseline[p]:.4f}"
                        + (f" by {cfg.min_lift_over_baseline:.0%}" if cfg.min_lift_over_baseline else ""), gate)
    if champion is None:
        return Decision("champion", f"first model; {p} {challenger[p]:.4f} beats popularity's {baseline[p]:.4f}", gate)
    gate["champion"] = {p: champion[p], n: champion[n], "model_version": champion_version}
    floor_p = champion[p] * (1.0 - cfg.primary_tolerance)
    floor_n = champion[n] * (1.0 - cfg.ndcg10_tolerance)
    failures = []
    if challenger[p] < floor_p:
        failures.append(f"{p} {challenger[p]:.4f} < champion's {champion[p]:.4f} - {cfg.primary_tolerance:.0%}")
    if challenger[n] < floor_n:
        failures.append(f"{n} {challenger[n]:.4f} < champion's {champion[n]:.4f} - {cfg.ndcg10_tolerance:.0%}")
    if failures:
        return Decision("shadow", "; ".join(failures), gate)
    return Decision("champion", f"{p} {challenger[p]:.4f} vs champion's {champion[p]:.4f}, "
                                f"{n} {challenger[n]:.4f} vs {champion[n]:.4f}", gate)


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None, model_version: str | None = None
        ) -> PromotionSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"promote_model[{day}]")
    lake = Lake(spark, cfg.lake)
    version = model_version or model_version_for(cfg, day)
    row = lake.read(MODELS, day, day).where(F.col("model_version") == version).first()
    if row is None:
        raise ValueError(f"promote_model ds={day}: {version} is not in the registry; run train_als first")
    metrics = (lake.read(MODEL_METRICS, day, day)
               .where((F.col("challenger_version") == version) & (F.col("segment") == "all")).collect())
    by_role: dict[str, dict[str, float]] = {}
    versions: dict[str, str] = {}
    for m in metrics:
        by_role.setdefault(m["role"], {})[f"{m['metric']}@{m['k']}"] = m["value"]
        versions[m["role"]] = m["model_version"]
    if "challenger" not in by_role or "baseline" not in by_role:
        raise ValueError(f"promote_model ds={day}: no evaluation of {version} in model_metrics; run evaluate_model")
    decision = decide(by_role["challenger"], by_role["baseline"], by_role.get("champion"), cfg.promotion,
                      versions.get("champion"))
    updated = row.asDict() | {"status": decision.status, "reason": decision.reason,
                              "gate": json.dumps(decision.gate, sort_keys=True),
                              "champion_before": versions.get("champion")}
    lake.replace_where(spark.createDataFrame([tuple(updated[c] for c in MODELS.columns)], MODELS.schema), MODELS, as_of=day, model_version=version)
    return PromotionSummary(day.isoformat(), version, decision)


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("promote_model", run, argv)


if __name__ == "__main__":
    sys.exit(main())
