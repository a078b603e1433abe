"""How well the user model recovers what the simulator knows (`recpipe truth-check`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recpipe.config import Config
from recpipe.stats import roc_auc


def feature_truth_report(features: pd.DataFrame, truth_users: pd.DataFrame, longest: int = 28) -> dict:
    """AUC of p_buyer against the true types; correlation of smoothed and raw view->cart with the truth."""
    truth = truth_users.set_index("user_id").loc[features["user_id"]]
    is_buyer = truth["user_type"].to_numpy() == "buyer"
    raw = features[f"view_to_cart_raw_{longest}d"]
    return {
        "users": int(len(features)),
        "true_buyer_share": float(is_buyer.mean()),
        "type_auc": roc_auc(features["p_buyer"], is_buyer),
        "type_accuracy": float(((features["p_buyer"].to_numpy() >= 0.5) == is_buyer).mean()),
        "view_to_cart_corr_smoothed": float(np.corrcoef(features[f"view_to_cart_{longest}d"],
                                                        truth["true_view_to_cart"])[0, 1]),
        "view_to_cart_corr_raw": float(np.corrcoef(raw.fillna(raw.mean()), truth["true_view_to_cart"])[0, 1]),
    }


def truth_check(cfg: Config, ds: str, truth_dir: str | None = None, spark=None) -> dict:
    from recpipe.spark import get_spark
    from recpipe.storage import Lake
    from schemas import user_features_spec

    spark = spark or get_spark(cfg, app_name="recpipe-truth-check")
    folder = Path(truth_dir or Path(cfg.landing) / "ground_truth")
    users = pd.read_parquet(folder / "users.parquet", columns=["user_id", "user_type", "true_view_to_cart"])
    spec = user_features_spec(cfg.features.windows)
    longest = max(cfg.features.windows)
    cols = ["user_id", "p_buyer", f"view_to_cart_{longest}d", f"view_to_cart_raw_{longest}d"]
    features = Lake(spark, cfg.lake).read(spec, ds, ds).select(*cols).toPandas()
    if features.empty:
        raise ValueError(f"user_features has no rows as_of {ds} in {cfg.lake}")
    return feature_truth_report(features, users, longest)


def item_similarity_correlation(learned: np.ndarray, true: np.ndarray, pairs: int = 50_000, seed: int = 0) -> float:
    """Pearson correlation, over random item pairs, of the cosine similarity of the learned item factors
    with the cosine similarity of the simulator's true item vectors (rows aligned)."""
    def unit(x):
        x = np.asarray(x, dtype=np.float64)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    lv, tv = unit(learned), unit(true)
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(lv), pairs), rng.integers(0, len(lv), pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    return float(np.corrcoef((lv[a] * lv[b]).sum(axis=1), (tv[a] * tv[b]).sum(axis=1))[0, 1])


def model_truth_check(cfg: Config, ds: str, truth_dir: str | None = None, spark=None) -> dict:
    """The champion as of ds (else the week's model) vs the simulator: NDCG@10 against popularity's on the
    week's holdout, and the item similarity correlation."""
    from pyspark.sql import functions as F

    from recpipe.registry import champion_as_of, model_version_for
    from recpipe.spark import get_spark
    from recpipe.storage import Lake
    from schemas import ITEM_FACTORS, MODEL_METRICS

    spark = spark or get_spark(cfg, app_name="recpipe-model-truth-check")
    lake = Lake(spark, cfg.lake)
    champion = champion_as_of(lake, ds)
    version = champion["model_version"] if champion is not None else model_version_for(cfg, ds)
    folder = Path(truth_dir or Path(cfg.landing) / "ground_truth")
    items = pd.read_parquet(folder / "items.parquet", columns=["item_id", "vector"])
    factors = (lake.read(ITEM_FACTORS).where(F.col("model_version") == version)
               .select("item_id", "factors").toPandas())
    if factors.empty:
        raise ValueError(f"no item factors for {version} in {cfg.lake}; run recpipe run weekly --ds {ds}")
    # Items the simulator does not know (ids mangled by injected defects that still pass ingest) are left out.
    factors = factors[factors["item_id"].isin(items["item_id"])]
    true = items.set_index("item_id").loc[factors["item_id"], "vector"]
    metrics = (lake.read(MODEL_METRICS, ds, ds)
               .where((F.col("challenger_version") == version) & (F.col("segment") == "all")
                      & (F.col("metric") == "ndcg") & (F.col("k") == 10))
               .select("role", "value").toPandas().set_index("role")["value"])
    if metrics.empty:
        raise ValueError(f"no evaluation of {version} in model_metrics for {ds}")
    return {
        "model_version": version,
        "items": int(len(factors)),
        "ndcg10_als": float(metrics["challenger"]),
        "ndcg10_popularity": float(metrics["baseline"]),
        "ndcg10_ratio": float(metrics["challenger"] / metrics["baseline"]),
        "item_similarity_corr": item_similarity_correlation(np.stack(factors["factors"].to_numpy()),
                                                            np.stack(true.to_numpy())),
    }
