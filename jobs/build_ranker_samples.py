"""build_ranker_samples: the label day ds -> `ranker_samples` for ds.

    python -m jobs.build_ranker_samples --ds 2026-11-14

The candidates a user was served on ds are the ones published the night before (as_of = ds - 1), and
everything a sample carries is as of that day: user features and global item stats as of ds - 1, never
from the label day. Positives: the distinct (user, item) pairs of the day's positive events
(`ranker_samples.positive_types`) by users who had candidates. Per positive, `negatives_per_positive`
negatives whose kinds cycle through `negative_kinds`: `hard` (one of the user's own candidates the user did
not touch on ds), `popularity` (drawn in proportion to the item's 28-day events), `uniform` (over the
catalogue). A negative is never a positive of that user on ds, and a (user, item) pair appears once.
Sampling is seeded from the configured seed and ds. Written to the staging area; `publish_ranker_samples`
serves it once validated.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from recpipe.als import derive_seed
from recpipe.config import Config, RankerSamplesConfig
from recpipe.storage import Lake, parse_ds
from schemas import CANDIDATES, EVENTS, item_popularity_spec, ranker_samples_spec, user_features_spec

log = logging.getLogger(__name__)
_ROUNDS = 20


@dataclass(frozen=True)
class RankerSamplesSummary:
    ds: str
    positives: int
    negatives: dict

    def __str__(self) -> str:
        n = sum(self.negatives.values())
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.negatives.items()))
        ratio = n / self.positives if self.positives else 0.0
        return f"build_ranker_samples ds={self.ds}: {self.positives} positives, {n} negatives ({kinds}; 1:{ratio:.2f})"


def sample_negatives(positives: pd.DataFrame, engaged: pd.DataFrame, served: pd.DataFrame,
                     catalogue: pd.DataFrame, cfg: RankerSamplesConfig, seed: int) -> pd.DataFrame:
    """Pure: negatives for `positives` (user_id, item_id), given what each user touched on the label day
    (`engaged`), the candidates they were served (`served`: user_id, item_id, rank) and the catalogue
    (`catalogue`: item_id, weight). Returns user_id, item_id, sample_kind."""
    rng = np.random.default_rng(seed)
    users = np.array(sorted(set(positives["user_id"])), dtype=object)
    items = np.array(sorted(set(catalogue["item_id"]) | set(served["item_id"]) | set(positives["item_id"])
                            | set(engaged["item_id"])), dtype=object)
    u_idx, i_idx = pd.Index(users), pd.Index(items)
    m = np.int64(len(items))

    def keys(df):
        u = u_idx.get_indexer(df["user_id"])
        ok = u >= 0
        return u[ok].astype(np.int64) * m + i_idx.get_indexer(df["item_id"][ok]).astype(np.int64)

    pos_keys = np.unique(keys(positives))
    touched = np.unique(np.concatenate([pos_keys, keys(engaged)]))
    taken = pos_keys.copy()
    pos_u = u_idx.get_indexer(positives.sort_values(["user_id", "item_id"])["user_id"]).astype(np.int64)

    cat_items = i_idx.get_indexer(catalogue["item_id"]).astype(np.int64)
    weights = catalogue["weight"].to_numpy(dtype=np.float64)
    probs = weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1.0 / len(weights))
    sv = served[served["user_id"].isin(users)].sort_values(["user_id", "rank"])
    sv_u = u_idx.get_indexer(sv["user_id"])
    sv_i = i_idx.get_indexer(sv["item_id"]).astype(np.int64)
    start = np.searchsorted(sv_u, np.arange(len(users)))
    count = np.searchsorted(sv_u, np.arange(len(users)), side="right") - start

    out_u, out_i, out_kind = [], [], []
    for j in range(cfg.negatives_per_positive):
        kind = cfg.negative_kinds[j % len(cfg.negative_kinds)]
        need = pos_u if kind != "hard" else pos_u[count[pos_u] > 0]
        for _ in range(_ROUNDS):
            if len(need) == 0:
                break
            if kind == "uniform":
                cand = cat_items[rng.integers(0, len(cat_items), len(need))]
            elif kind == "popularity":
                cand = cat_items[rng.choice(len(cat_items), len(need), p=probs)]
            else:
                cand = sv_i[start[need] + (rng.random(len(need)) * count[need]).astype(np.int64)]
            k = need * m + cand
            bad = np.isin(k, touched if kind == "hard" else pos_keys) | np.isin(k, taken)
            # Two slots of this round drawing the same pair: keep the first.
            _, first = np.unique(k, return_index=True)
            dup = np.ones(len(k), dtype=bool)
            dup[first] = False
            ok = ~bad & ~dup
            out_u.append(need[ok])
            out_i.append(cand[ok])
            out_kind += [kind] * int(ok.sum())
            taken = np.union1d(taken, k[ok])
            need = need[~ok]
        if len(need):
            log.warning("build_ranker_samples: %d %s negatives could not be drawn", len(need), kind)
    if not out_u:
        return pd.DataFrame({"user_id": [], "item_id": [], "sample_kind": []})
    return pd.DataFrame({"user_id": users[np.concatenate(out_u)], "item_id": items[np.concatenate(out_i)],
                         "sample_kind": out_kind})


def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> RankerSamplesSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    before = day - dt.timedelta(days=1)
    spark = spark or get_spark(cfg, app_name=f"build_ranker_samples[{day}]")
    lake = Lake(spark, cfg.lake)
    rc = cfg.ranker_samples
    spec = ranker_samples_spec(cfg.features.windows, cfg.item_stats.windows)
    served_df = lake.read(CANDIDATES, before, before) if lake.exists(CANDIDATES) else None
    served = (served_df.select("user_id", "item_id", "rank").toPandas() if served_df is not None
              else pd.DataFrame({"user_id": [], "item_id": [], "rank": []}))
    label_events = lake.read(EVENTS, day, day)
    if served.empty:
        lake.staging().write_partition(spark.createDataFrame([], spec.schema), spec, day)
        return RankerSamplesSummary(day.isoformat(), 0, {})
    with_candidates = served_df.select("user_id").distinct()
    day_events = label_events.join(with_candidates, "user_id", "left_semi")
    positives = (day_events.where(F.col("event_type").isin(*rc.positive_types))
                 .select("user_id", "item_id").distinct().toPandas())
    engaged = day_events.select("user_id", "item_id").distinct().toPandas()
    pop_spec = item_popularity_spec(cfg.item_stats.windows)
    longest = max(cfg.item_stats.windows)
    catalogue = (lake.read(pop_spec, before, before).where(F.col("segment") == "global")
                 .select("item_id", F.col(f"events_{longest}d").cast("double").alias("weight")).toPandas()
                 .sort_values("item_id", kind="stable"))
    if catalogue.empty:
        raise ValueError(f"build_ranker_samples ds={day}: item_popularity has no partition for {before}")
    negatives = sample_negatives(positives, engaged, served, catalogue, rc, derive_seed(cfg.seed, "ranker", day))
    samples = pd.concat([positives.assign(sample_kind="positive"), negatives], ignore_index=True)
    samples["label"] = (samples["sample_kind"] == "positive").astype("int32")
    base = spark.createDataFrame(samples, "user_id string, item_id string, sample_kind string, label int")
    feats = lake.read(user_features_spec(cfg.features.windows), before, before)
    feats = feats.select("user_id", *[F.col(c).alias(f"u_{c}") for c in feats.columns if c not in ("as_of", "user_id")])
    stats = lake.read(pop_spec, before, before).where(F.col("segment") == "global")
    stats = stats.select("item_id", *[F.col(c).alias(f"i_{c}") for c in stats.columns
                                      if c not in ("as_of", "segment", "item_id")])
    out = (
        base.join(served_df.select("user_id", "item_id", F.col("rank").alias("candidate_rank")),
                  ["user_id", "item_id"], "left")
        .join(feats, "user_id", "left")
        .join(stats, "item_id", "left")
        .withColumn("as_of", F.lit(day))
        .withColumn("features_as_of", F.lit(before))
    )
    lake.staging().write_partition(out, spec, day)
    counts = negatives["sample_kind"].value_counts().to_dict()
    return RankerSamplesSummary(day.isoformat(), len(positives), {k: int(v) for k, v in counts.items()})


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("build_ranker_samples", run, argv)


if __name__ == "__main__":
    sys.exit(main())
