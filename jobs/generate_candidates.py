"""generate_candidates: the champion as of ds + every active user's current history -> `candidates` for ds.

    python -m jobs.generate_candidates --ds 2026-11-14

Runs nightly after select_active_users and at the end of the weekly chain after a promotion. Every active
user is folded in against the champion's fixed item factors from the history known at ds (the champion's
interaction weights over its window length, ending at ds), so a user who became active after the champion
was trained, or whose history changed, gets personal candidates the same night. Users with no history on
the champion's items cannot be scored and fall back (`fallback_candidates`). Per user: the top
`candidates.k` items by score, excluding what the user purchased (or, `candidates.exclude=seen`, everything
in the history), with the history item that contributed most to each of the first `reason_ranks`.
Without a champion the partition is written empty: every user falls back.
The lists are written to the staging area; `validate_candidates` checks them and `publish_candidates`
copies them into the served `candidates` table.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.build_interactions import interactions
from recpipe.als import Matrix, build_matrix, explain, fold_in, top_k
from recpipe.config import CandidatesConfig, Config, InteractionsConfig
from recpipe.metrics import candidate_report
from recpipe.registry import champion_as_of, load_factors
from recpipe.storage import Lake, parse_ds
from schemas import (ACTIVE_USERS, CANDIDATE_METRICS, CANDIDATES, EVENTS, ITEM_FACTORS, item_popularity_spec,
                     user_features_spec)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CandidatesSummary:
    ds: str
    model_version: str | None
    active: int
    scored: int
    rows: int
    score_seconds: float
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.model_version is None:
            return f"generate_candidates ds={self.ds}: no champion yet; all {self.active} active users fall back"
        text = (f"generate_candidates ds={self.ds}: {self.rows} candidates for {self.scored} of {self.active} "
                f"active users from {self.model_version} (scoring {self.score_seconds:.1f}s); "
                f"{self.active - self.scored} fall back")
        return text + "".join(f"; WARNING {w}" for w in self.warnings)


@dataclass(frozen=True)
class Scored:
    frame: pd.DataFrame      # user_id, item_id, rank, score, reason_item_id
    user_ids: np.ndarray     # the scored users, rows of `lists`
    lists: np.ndarray        # (users, k) column indices of the model's items, -1 padded


def score_users(history: Matrix, excluded: Matrix, item_vectors: np.ndarray, *, alpha: float, regularization: float,
                cfg: CandidatesConfig) -> Scored:
    """Pure: fold in, top-k and reasons for every row of `history` (columns = the model's items)."""
    scorable = np.flatnonzero(np.diff(history.values.indptr) > 0)
    hist = history.values[scorable]
    users = fold_in(item_vectors, hist, alpha=alpha, regularization=regularization)
    items, scores = top_k(users, item_vectors, cfg.k, exclude=excluded.values[scorable], block=cfg.block_users)
    reasons = explain(item_vectors, hist, items, alpha=alpha, regularization=regularization, top=cfg.reason_ranks)
    n, k = items.shape
    valid = items >= 0
    rows, ranks = np.nonzero(valid)
    reason_col = np.full((n, k), -1, dtype=np.int64)
    reason_col[:, :reasons.shape[1]] = reasons
    reason_ids = np.where(reason_col[rows, ranks] >= 0, history.item_ids[reason_col[rows, ranks]], None)
    frame = pd.DataFrame({
        "user_id": history.user_ids[scorable][rows],
        "item_id": history.item_ids[items[rows, ranks]],
        "rank": ranks.astype(np.int64) + 1,
        "score": scores[rows, ranks].astype(np.float64),
        "reason_item_id": reason_ids,
    })
    return Scored(frame, history.user_ids[scorable], items)


def user_segments(features: pd.DataFrame, user_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Masks over `user_ids`: all, device:<most used device over the longest window>, type:<user_type>."""
    share_cols = sorted(c for c in features.columns if c.startswith("device_share_"))
    f = features.drop_duplicates("user_id").set_index("user_id").reindex(user_ids)
    masks = {"all": np.ones(len(user_ids), dtype=bool)}
    if share_cols:
        shares = f[share_cols].fillna(-1.0).to_numpy()
        device = np.where(shares.max(axis=1) < 0, "unknown",
                          np.array([c.removeprefix("device_share_") for c in share_cols])[shares.argmax(axis=1)])
        for d in sorted(set(device)):
            masks[f"device:{d}"] = device == d
    kinds = f["user_type"].fillna("unknown").astype(str).to_numpy() if "user_type" in f else None
    if kinds is not None:
        for t in sorted(set(kinds)):
            masks[f"type:{t}"] = kinds == t
    return masks


def drop_warnings(today: list[dict], yesterday: list[dict], threshold: float) -> list[str]:
    """Coverage and top-decile diversity on the "all" segment that fell by more than `threshold`."""
    watched = {"coverage", "top_decile_unique_items"}
    before = {(r["metric"], r["k"]): r["value"] for r in yesterday if r["segment"] == "all"}
    out = []
    for r in today:
        key = (r["metric"], r["k"])
        if r["segment"] == "all" and r["metric"] in watched and before.get(key, 0) > 0:
            if r["value"] < before[key] * (1.0 - threshold):
                out.append(f"{r['metric']}@{r['k']} fell from {before[key]:.4g} to {r['value']:.4g} "
                           f"(more than {threshold:.0%})")
    return out


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> CandidatesSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"generate_candidates[{day}]")
    lake = Lake(spark, cfg.lake)
    active = lake.read(ACTIVE_USERS, day, day).select("user_id")
    user_ids = np.array(sorted(r["user_id"] for r in active.collect()), dtype=object)
    n_active = len(user_ids)
    champion = champion_as_of(lake, day)
    if champion is None:
        lake.staging().write_partition(spark.createDataFrame([], CANDIDATES.schema), CANDIDATES, day)
        lake.write_partition(spark.createDataFrame([], CANDIDATE_METRICS.schema), CANDIDATE_METRICS, day)
        return CandidatesSummary(day.isoformat(), None, n_active, 0, 0, 0.0)
    version = champion["model_version"]
    params = json.loads(champion["params"])
    # The champion's own signal weights and window (the configured ones for a model registered without them).
    trained_with = params.get("interactions", dataclasses.asdict(cfg.interactions))
    icfg = dataclasses.replace(InteractionsConfig(**trained_with), min_item_users=1)
    start = day - dt.timedelta(days=icfg.window_days - 1)
    events = lake.read(EVENTS, start, day)
    hist = interactions(events, active, day, start, day, icfg).select("user_id", "item_id", "strength").toPandas()
    kinds = ["purchase"] if cfg.candidates.exclude == "purchased" else ["view", "like", "add_to_cart", "purchase"]
    bought = (events.where(F.col("event_type").isin(*kinds)).join(active, "user_id", "left_semi")
              .select("user_id", "item_id").distinct().toPandas())
    item_ids, vectors = load_factors(lake, ITEM_FACTORS, version)
    history = build_matrix(hist["user_id"], hist["item_id"], hist["strength"], user_ids, item_ids)
    excluded = build_matrix(bought["user_id"], bought["item_id"], np.ones(len(bought)), user_ids, item_ids)
    t0 = time.perf_counter()
    scored = score_users(history, excluded, vectors, alpha=params["als"]["alpha"],
                         regularization=params["als"]["regularization"], cfg=cfg.candidates)
    seconds = time.perf_counter() - t0
    out = scored.frame
    out.insert(0, "as_of", day)
    out["source"] = "als"
    out["model_version"] = version
    lake.staging().write_partition(spark.createDataFrame(out[CANDIDATES.columns], CANDIDATES.schema), CANDIDATES, day)
    warnings = publish_metrics(lake, cfg, day, version, scored, item_ids)
    for w in warnings:
        log.warning("generate_candidates ds=%s: %s", day, w)
    return CandidatesSummary(day.isoformat(), version, n_active, len(scored.user_ids), len(out), seconds,
                             tuple(warnings))


def publish_metrics(lake: Lake, cfg: Config, day: dt.date, version: str, scored: Scored,
                    item_ids: np.ndarray) -> list[str]:
    """Bias and coverage of the day's lists -> `candidate_metrics`; returns the drop warnings."""
    longest = max(cfg.item_stats.windows)
    pop = (lake.read(item_popularity_spec(cfg.item_stats.windows), day, day).where(F.col("segment") == "global")
           .select("item_id", f"events_{longest}d").toPandas().set_index("item_id")[f"events_{longest}d"])
    popularity = pop.reindex(item_ids).fillna(0).to_numpy(dtype=np.float64)
    features = lake.read(user_features_spec(cfg.features.windows), day, day).toPandas()
    ks = tuple(k for k in cfg.evaluation.ks if k <= cfg.candidates.k)
    report = candidate_report(scored.lists, popularity, user_segments(features, scored.user_ids), ks,
                              cfg.evaluation.head_share)
    rows = [(day, version, r["segment"], r["metric"], r["k"], r["value"], r["users"]) for r in report]
    lake.write_partition(lake.spark.createDataFrame(rows, CANDIDATE_METRICS.schema), CANDIDATE_METRICS, day)
    before = day - dt.timedelta(days=1)
    yesterday = [r.asDict() for r in lake.read(CANDIDATE_METRICS, before, before).collect()]
    return drop_warnings(report, yesterday, cfg.candidates.drop_warning)


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("generate_candidates", run, argv)


if __name__ == "__main__":
    sys.exit(main())
