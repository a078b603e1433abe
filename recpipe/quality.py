"""Model quality on data nobody here made: MovieLens-100k with time splits.

Ratings are used as the MovieLens adapter maps them: a view, plus a like when the rating is >= 4, so the
training strength is w_view + w_like * [r >= 4]. Test positives are ratings >= 4 given after the training
cutoff, by users seen in training, on items they had not rated.

Parameters are chosen on a validation split (train up to the 70% quantile of rating times, test up to
the 80% one) and then reported on the test split (train up to 80%, test after): the reported figures
never influenced the choice. Implicit ALS, Spark MLlib ALS (implicit preferences) and popularity are
scored by the same evaluation code as the weekly job.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path

import pandas as pd

from recpipe.als import build_matrix, train_implicit
from recpipe.config import ALSConfig
from recpipe.evaluation import align_users, als_lists, build_holdout, evaluate_lists, metric_value, popularity_lists

KS = (10, 100)
VALIDATION = (0.7, 0.8)
TEST = (0.8, 1.0)
GRID = {"factors": (16, 32, 64), "regularization": (1.0, 10.0, 50.0), "alpha": (1.0, 5.0, 20.0)}
SPARK_GRID = (0.01, 0.1, 1.0)


def movielens_split(folder: str | Path, split=TEST, weight_view: float = 1.0, weight_like: float = 2.0):
    ratings = pd.read_csv(Path(folder) / "u.data", sep="\t", names=["user_id", "item_id", "rating", "ts"])
    lo, hi = ratings["ts"].quantile(split[0]), ratings["ts"].quantile(split[1])
    train = ratings[ratings["ts"] <= lo]
    test = ratings[(ratings["ts"] > lo) & (ratings["ts"] <= hi) & (ratings["rating"] >= 4)]
    strength = weight_view + weight_like * (train["rating"] >= 4)
    matrix = build_matrix(train["user_id"].astype(str), train["item_id"].astype(str), strength)
    tests = pd.DataFrame({"user_id": test["user_id"].astype(str), "item_id": test["item_id"].astype(str)})
    return matrix, build_holdout(matrix, tests)


def _figures(records) -> dict:
    return {name: round(metric_value(records, name), 4) for name in ("ndcg@10", "recall@10", "recall@100")}


def _implicit(matrix, h, factors, regularization, alpha, iterations, seed):
    fa = train_implicit(matrix.values, factors=factors, regularization=regularization, alpha=alpha,
                        iterations=iterations, seed=seed)
    uv, _ = align_users(matrix.user_ids, fa.user, h, fa.item, alpha=alpha, regularization=regularization)
    return _figures(evaluate_lists(als_lists(h, uv, fa.item, max(KS)), h, KS, 0.2)) | {"fit_s": round(fa.seconds, 2)}


def _spark(spark, matrix, h, als: ALSConfig, seed):
    from jobs.train_als import train_spark

    t0 = time.perf_counter()
    sf = train_spark(spark, matrix, als, seed)
    uv = sf.user[pd.Index(matrix.user_ids).get_indexer(h.user_ids)]
    return _figures(evaluate_lists(als_lists(h, uv, sf.item, max(KS)), h, KS, 0.2)) | {
        "fit_s": round(time.perf_counter() - t0, 2)}


def select_params(folder: str | Path, iterations: int = 15, seed: int = 1) -> tuple[dict, pd.DataFrame]:
    """implicit ALS over GRID on the validation split; the best NDCG@10 wins."""
    matrix, h = movielens_split(folder, VALIDATION)
    rows = [{"factors": f, "regularization": r, "alpha": a, **_implicit(matrix, h, f, r, a, iterations, seed)}
            for f, r, a in itertools.product(GRID["factors"], GRID["regularization"], GRID["alpha"])]
    table = pd.DataFrame(rows).sort_values(["ndcg@10", "recall@100"], ascending=False, kind="stable")
    best = table.iloc[0]
    return {"factors": int(best["factors"]), "regularization": float(best["regularization"]),
            "alpha": float(best["alpha"])}, table


def movielens_quality(folder: str | Path, spark=None, iterations: int = 15, seed: int = 1) -> dict:
    params, _ = select_params(folder, iterations, seed)
    matrix, h = movielens_split(folder, TEST)
    out = {"train_users": int(matrix.shape[0]), "items": int(matrix.shape[1]), "train_pairs": int(matrix.values.nnz),
           "eval_users": int(len(h.user_ids)), "params": params | {"iterations": iterations}}
    out["popularity"] = _figures(evaluate_lists(popularity_lists(h, max(KS)), h, KS, 0.2))
    out["implicit_als"] = _implicit(matrix, h, params["factors"], params["regularization"], params["alpha"],
                                    iterations, seed)
    if spark is not None:
        vm, vh = movielens_split(folder, VALIDATION)
        base = ALSConfig(factors=params["factors"], alpha=params["alpha"], iterations=iterations)
        scores = {reg: _spark(spark, vm, vh, ALSConfig(**{**base.__dict__, "spark_regularization": reg}), seed)
                  for reg in SPARK_GRID}
        reg = max(SPARK_GRID, key=lambda r: (scores[r]["ndcg@10"], scores[r]["recall@100"]))
        out["params"]["spark_regularization"] = reg
        out["spark_als"] = _spark(spark, matrix, h, ALSConfig(**{**base.__dict__, "spark_regularization": reg}), seed)
    return out
