"""Quality on MovieLens-100k (../shared/data): the split is a real time split and ALS beats popularity."""
from __future__ import annotations

import pandas as pd

from recpipe.quality import movielens_quality, movielens_split


def test_time_split_tests_only_later_high_ratings_of_training_users(shared_data):
    folder = shared_data / "movielens-100k"
    matrix, h = movielens_split(folder, (0.8, 1.0))
    ratings = pd.read_csv(folder / "u.data", sep="\t", names=["user_id", "item_id", "rating", "ts"])
    cutoff = ratings["ts"].quantile(0.8)
    later = ratings[(ratings["ts"] > cutoff) & (ratings["rating"] >= 4)]
    later = set(zip(later["user_id"].astype(str), later["item_id"].astype(str)))
    truth = h.truth.tocoo()
    pairs = {(h.user_ids[u], h.item_ids[i]) for u, i in zip(truth.row, truth.col)}
    assert pairs and pairs <= later
    assert set(h.user_ids) <= set(matrix.user_ids)
    assert matrix.values.nnz == (ratings["ts"] <= cutoff).sum()


def test_implicit_als_beats_popularity_on_movielens(shared_data, spark):
    q = movielens_quality(shared_data / "movielens-100k", spark)
    assert q["implicit_als"]["ndcg@10"] > q["popularity"]["ndcg@10"]
    assert q["implicit_als"]["recall@100"] > q["popularity"]["recall@100"]
    # MLlib learns far more than chance (a random list of 100 finds 100/items of the positives).
    assert q["spark_als"]["recall@100"] > 3 * 100 / q["items"]
