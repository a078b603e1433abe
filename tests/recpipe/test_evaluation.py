"""recpipe.evaluation: who is evaluated on what, and how models unknown to a user or item are scored."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from recpipe.als import build_matrix
from recpipe.evaluation import align_items, align_users, build_holdout, popularity_lists


def _train():
    # u1: a, b · u2: a · u3: c · items: a (2 users), b (1), c (1)
    return build_matrix(["u1", "u1", "u2", "u3"], ["a", "b", "a", "c"], [1.0, 2.0, 1.0, 3.0])


def test_holdout_keeps_novel_positives_of_training_users_on_catalogue_items():
    tests = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u3", "u9", "u2"],
                          "item_id": ["a", "c", "zz", "c", "a", "b"]})
    h = build_holdout(_train(), tests)
    # u1: a was seen in training (dropped), c is new · u2: zz is not in the catalogue, b is new
    # u3: c was seen -> no novel positive, not evaluated · u9: not a training user
    assert list(h.user_ids) == ["u1", "u2"]
    assert h.truth.toarray().tolist() == [[0, 0, 1], [0, 1, 0]]
    assert h.train.toarray().tolist() == [[1, 2, 0], [1, 0, 0]]
    assert h.popularity.tolist() == [2, 1, 1] and h.train_users == 3


def test_sampling_is_deterministic_and_bounded():
    users = [f"u{i}" for i in range(50)]
    tests = pd.DataFrame({"user_id": users, "item_id": ["c"] * 50})
    train = build_matrix(users + ["x"], ["a"] * 50 + ["c"], np.ones(51))  # x puts c in the catalogue
    a = build_holdout(train, tests, max_users=10, seed=1)
    b = build_holdout(train, tests, max_users=10, seed=1)
    c = build_holdout(train, tests, max_users=10, seed=2)
    assert len(a.user_ids) == 10 and list(a.user_ids) == list(b.user_ids) and list(a.user_ids) != list(c.user_ids)
    assert list(a.user_ids) == sorted(a.user_ids)


def test_segments_become_masks_with_unknown_for_missing_users():
    tests = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["c", "b"]})
    seg = pd.DataFrame({"user_id": ["u1"], "device": ["app"], "type": ["buyer"]})
    h = build_holdout(_train(), tests, seg)
    assert h.segments["all"].tolist() == [True, True]
    assert h.segments["device:app"].tolist() == [True, False]
    assert h.segments["device:unknown"].tolist() == [False, True]
    assert h.segments["type:buyer"].tolist() == [True, False]


def test_popularity_lists_exclude_seen_items():
    tests = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["c", "b"]})
    h = build_holdout(_train(), tests)
    assert popularity_lists(h, 3).tolist() == [[2, -1, -1], [1, 2, -1]]


def test_unknown_items_are_not_allowed_and_unknown_users_are_folded_in():
    tests = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["c", "b"]})
    h = build_holdout(_train(), tests)
    vecs = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    items, known = align_items(np.array(["c", "a"], dtype=object), vecs, h.item_ids)
    assert known.tolist() == [True, False, True]
    assert items.tolist() == [[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    users, folded = align_users(np.array(["u2"], dtype=object), np.array([[5.0, 5.0]], dtype=np.float32), h, items,
                                alpha=1.0, regularization=0.1)
    assert folded == 1 and users[1].tolist() == [5.0, 5.0]
    assert np.abs(users[0]).sum() > 0  # u1 was folded in from its training history
    assert isinstance(h.truth, sparse.csr_matrix)
