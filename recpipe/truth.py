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
