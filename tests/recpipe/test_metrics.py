"""recpipe.metrics: hand-computed cases, and agreement with implicit's own ranking_metrics_at_k."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from recpipe.als import top_k
from recpipe.metrics import exposure_metrics, gini, ranking_metrics


def _truth(rows, m):
    data = [(u, i) for u, items in enumerate(rows) for i in items]
    r, c = zip(*data)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(rows), m))


def test_ranking_metrics_by_hand():
    lists = np.array([[3, 1, 2, -1], [0, 4, 5, 6]])
    truth = _truth([[1, 2], [7]], 8)
    got = ranking_metrics(lists, truth, ks=(2, 4))
    d = [1 / math.log2(j + 1) for j in range(1, 5)]
    assert got[("precision", 2)].tolist() == [0.5, 0.0]
    assert got[("recall", 4)].tolist() == [1.0, 0.0]
    assert got[("hit_rate", 2)].tolist() == [1.0, 0.0]
    assert got[("ndcg", 2)][0] == pytest.approx(d[1] / (d[0] + d[1]))
    assert got[("ndcg", 4)][0] == pytest.approx((d[1] + d[2]) / (d[0] + d[1]))
    # AP@4 for user 0: hits at ranks 2 and 3 -> (1/2 + 2/3) / min(2, 4)
    assert got[("map", 4)][0] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert got[("ndcg", 4)][1] == 0.0


def test_users_without_relevant_items_are_refused():
    with pytest.raises(ValueError, match="no relevant item"):
        ranking_metrics(np.array([[0]]), sparse.csr_matrix((1, 3)), ks=(1,))


def test_gini_and_exposure_by_hand():
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 8])) == pytest.approx(3 / 4)
    pop = np.array([10.0, 8.0, 6.0, 4.0, 2.0])  # ranks 1..5; head (20%) = item 0
    lists = np.array([[0, 1], [0, 4]])
    got = exposure_metrics(lists, pop, ks=(1, 2), head_share=0.2)
    assert got[("coverage", 1)] == pytest.approx(1 / 5) and got[("coverage", 2)] == pytest.approx(3 / 5)
    assert got[("long_tail_share", 1)] == 0.0 and got[("long_tail_share", 2)] == pytest.approx(0.5)
    # percentiles: item0 1.0, item1 0.75, item4 0.0
    assert got[("popularity_percentile", 2)] == pytest.approx((1.0 + 0.75 + 1.0 + 0.0) / 4)
    assert got[("gini", 1)] == pytest.approx(gini(np.array([2, 0, 0, 0, 0])))


def test_agrees_with_implicit_ranking_metrics_at_k():
    from implicit.als import AlternatingLeastSquares
    from implicit.evaluation import ranking_metrics_at_k

    rng = np.random.default_rng(5)
    n, m = 200, 120
    # Users prefer one of four item blocks, so the model has structure to find and metrics are non-trivial.
    block = rng.integers(0, 4, n)
    p = np.where((np.arange(m)[None, :] % 4) == block[:, None], 0.2, 0.02)
    full = (rng.random((n, m)) < p).astype(np.float64)
    split = rng.random((n, m)) < 0.7
    train = sparse.csr_matrix(full * split)
    test = sparse.csr_matrix(full * ~split)
    model = AlternatingLeastSquares(factors=8, regularization=0.1, iterations=10, random_state=1)
    model.fit(train, show_progress=False)
    for K in (5, 20):
        theirs = ranking_metrics_at_k(model, train, test, K=K, show_progress=False)
        users = np.flatnonzero(np.diff(test.indptr) > 0)
        lists, _ = top_k(model.user_factors[users], model.item_factors, K, exclude=train[users])
        ours = ranking_metrics(lists, test[users], ks=(K,))
        assert ours[("ndcg", K)].mean() == pytest.approx(theirs["ndcg"], rel=1e-6)
        assert ours[("map", K)].mean() == pytest.approx(theirs["map"], rel=1e-6)
        # implicit's "precision" pools hits over users: sum(hits) / sum(min(K, relevant)).
        hits = ours[("precision", K)] * K
        relevant = np.diff(test[users].indptr)
        assert hits.sum() / np.minimum(relevant, K).sum() == pytest.approx(theirs["precision"], rel=1e-6)
        assert 0.05 < theirs["ndcg"] < 1.0
