"""recpipe.als: id mapping, seeded training, exact fold-in, and top-k against brute force."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from recpipe.als import build_matrix, derive_seed, fold_in, popularity_item_vectors, top_k, train_implicit


def test_build_matrix_sorts_ids_sums_duplicates_and_drops_unknown_ids():
    m = build_matrix(["u2", "u1", "u2", "u1"], ["b", "a", "b", "c"], [1.0, 2.0, 0.5, 4.0])
    assert list(m.user_ids) == ["u1", "u2"] and list(m.item_ids) == ["a", "b", "c"]
    assert m.values.toarray().tolist() == [[2.0, 0.0, 4.0], [0.0, 1.5, 0.0]]
    r = build_matrix(["u1", "u9"], ["a", "z"], [1.0, 1.0], user_ids=["u1", "u2"], item_ids=["a"])
    assert r.shape == (2, 1) and r.values.toarray().tolist() == [[1.0], [0.0]]


def _random_strengths(users=60, items=40, density=0.15, seed=0):
    rng = np.random.default_rng(seed)
    m = sparse.random(users, items, density=density, random_state=rng, format="csr", dtype=np.float64)
    m.data = 1.0 + 4.0 * m.data
    return m


def test_training_is_deterministic_for_a_seed_and_changes_with_it():
    m = _random_strengths()
    kw = dict(factors=8, regularization=0.1, alpha=2.0, iterations=5, num_threads=2)
    a = train_implicit(m, seed=3, **kw)
    b = train_implicit(m, seed=3, **kw)
    c = train_implicit(m, seed=4, **kw)
    assert np.array_equal(a.user, b.user) and np.array_equal(a.item, b.item)
    assert not np.allclose(a.item, c.item)
    assert a.user.shape == (60, 8) and a.item.shape == (40, 8) and a.device == "cpu"


def test_derive_seed_depends_on_every_part():
    assert derive_seed(7, "train_als", "2026-11-14") == derive_seed(7, "train_als", "2026-11-14")
    assert len({derive_seed(7, "train_als", "2026-11-14"), derive_seed(8, "train_als", "2026-11-14"),
                derive_seed(7, "train_als", "2026-11-21")}) == 3


def test_fold_in_solves_the_weighted_least_squares_problem_exactly():
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(30, 5)).astype(np.float32)
    r = _random_strengths(users=4, items=30, density=0.3, seed=2)
    r = sparse.vstack([r, sparse.csr_matrix((1, 30))]).tocsr()  # a user without history
    alpha, lam = 3.0, 0.5
    got = fold_in(Y, r, alpha=alpha, regularization=lam)
    Yd = Y.astype(np.float64)
    for u in range(4):
        dense = r[u].toarray().ravel()
        c = 1.0 + alpha * dense          # confidence over every item (1 where unobserved)
        p = (dense > 0).astype(float)     # preference
        want = np.linalg.solve(Yd.T @ (c[:, None] * Yd) + lam * np.eye(5), Yd.T @ (c * p))
        np.testing.assert_allclose(got[u], want, rtol=1e-4, atol=1e-5)
    assert not got[4].any()


def _brute_top_k(U, V, k, exclude=None, allowed=None):
    s = U @ V.T
    out = []
    for u in range(len(U)):
        banned = set(exclude[u].indices) if exclude is not None else set()
        cand = [i for i in range(V.shape[0]) if i not in banned and (allowed is None or allowed[i])]
        cand.sort(key=lambda i: (-s[u, i], i))
        row = cand[:k]
        out.append(row + [-1] * (k - len(row)))
    return np.array(out)


@pytest.mark.parametrize("k", [1, 5, 12, 20])
def test_top_k_matches_brute_force_with_ties_exclusions_and_padding(k):
    rng = np.random.default_rng(k)
    # Small integer factors make many exact ties, which must be broken by item index.
    U = rng.integers(-2, 3, size=(25, 3)).astype(np.float32)
    V = rng.integers(-2, 3, size=(15, 3)).astype(np.float32)
    exclude = sparse.random(25, 15, density=0.3, random_state=rng, format="csr")
    allowed = rng.random(15) > 0.2
    items, scores = top_k(U, V, k, exclude=exclude, allowed=allowed, block=7)
    want = _brute_top_k(U, V, k, exclude, allowed)
    assert np.array_equal(items, want)
    s = U @ V.T
    for u in range(25):
        valid = items[u] >= 0
        np.testing.assert_array_equal(scores[u][valid], s[u, items[u][valid]])
        assert np.isneginf(scores[u][~valid]).all()


def test_popularity_vectors_rank_by_count_then_index():
    pop = np.array([3.0, 7.0, 3.0, 0.0, 7.0])
    items, _ = top_k(np.ones((1, 1), dtype=np.float32), popularity_item_vectors(pop), 5)
    assert items[0].tolist() == [1, 4, 0, 2, 3]


def test_explain_decomposes_the_folded_in_score_over_history_items():
    from recpipe.als import explain

    rng = np.random.default_rng(3)
    Y = rng.normal(size=(20, 4)).astype(np.float32)
    r = _random_strengths(users=3, items=20, density=0.3, seed=4)
    alpha, lam = 2.0, 0.3
    X = fold_in(Y, r, alpha=alpha, regularization=lam)
    lists, _ = top_k(X, Y, 5, exclude=r)
    reasons = explain(Y, r, lists, alpha=alpha, regularization=lam, top=5)
    Yd = Y.astype(np.float64)
    for u in range(3):
        hist = r[u].indices
        c = 1 + alpha * r[u].data
        A = Yd.T @ Yd + lam * np.eye(4) + (Yd[hist] * (c - 1)[:, None]).T @ Yd[hist]
        for j, item in enumerate(lists[u]):
            terms = c * (Yd[hist] @ np.linalg.solve(A, Yd[item]))
            # the terms add up to the score, and the reason is the largest term's history item
            assert terms.sum() == pytest.approx(float(X[u] @ Yd[item]), rel=1e-4, abs=1e-5)
            assert reasons[u, j] == hist[np.argmax(terms)]


def test_top_k_threshold_path_matches_exact_selection_on_a_large_catalogue():
    # Catalogue >= 4096 and >= 8k items: the sampled-threshold selection runs; integer factors force ties.
    rng = np.random.default_rng(11)
    U = rng.integers(-3, 4, size=(300, 4)).astype(np.float32)
    V = rng.integers(-3, 4, size=(6000, 4)).astype(np.float32)
    exclude = sparse.random(300, 6000, density=0.05, random_state=rng, format="csr")
    allowed = rng.random(6000) > 0.1
    got, got_scores = top_k(U, V, 200, exclude=exclude, allowed=allowed, block=64, threads=2)
    s = U @ V.T
    s[np.repeat(np.arange(300), np.diff(exclude.indptr)), exclude.indices] = -np.inf
    s[:, ~allowed] = -np.inf
    want = np.array([np.lexsort((np.arange(6000), -row))[:200] for row in s])
    assert np.array_equal(got, want)
    np.testing.assert_array_equal(got_scores, np.take_along_axis(s, want, axis=1))
