"""Time-based holdout evaluation on one machine (pure numpy/pandas; the job does the I/O).

Train on interactions up to a cutoff, test on the positive interactions of the days after it. Evaluation
users are users seen in training with at least one test positive on a catalogue item they had not
interacted with in training; items seen in training are excluded from every list, as serving excludes
them. Every model (ALS, the popularity baseline, the champion) is scored by the same `evaluate_lists`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from recpipe.als import Matrix, build_matrix, fold_in, popularity_item_vectors, top_k
from recpipe.metrics import exposure_metrics, ranking_metrics


@dataclass(frozen=True)
class Holdout:
    """Evaluation users (rows) x the training catalogue (columns)."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    train: sparse.csr_matrix       # the users' training strengths: excluded from lists, input to fold-in
    truth: sparse.csr_matrix       # test positives (binary)
    popularity: np.ndarray         # distinct training users per catalogue item (all training users)
    segments: dict[str, np.ndarray] = field(default_factory=dict)  # name -> mask over users; "all" included
    train_users: int = 0


def _hash_order(ids: np.ndarray, seed: int) -> np.ndarray:
    keys = [hashlib.blake2b(f"{seed}|{u}".encode(), digest_size=8).digest() for u in ids]
    return np.argsort(np.array(keys, dtype=object), kind="stable")


def build_holdout(train: Matrix, test_pairs: pd.DataFrame, segments: pd.DataFrame | None = None,
                  max_users: int | None = None, seed: int = 0) -> Holdout:
    """`train`: all training users x catalogue; `test_pairs`: user_id, item_id of test positives;
    `segments`: user_id plus one column per segment kind (device, type), values become "<kind>:<value>"."""
    tp = test_pairs[["user_id", "item_id"]].drop_duplicates()
    test = build_matrix(tp["user_id"], tp["item_id"], np.ones(len(tp)), train.user_ids, train.item_ids)
    seen = train.values.copy()
    seen.data = np.ones_like(seen.data)
    novel = test.values - test.values.multiply(seen)
    novel.eliminate_zeros()
    rows = np.flatnonzero(np.diff(novel.indptr) > 0)
    if max_users is not None and len(rows) > max_users:
        rows = np.sort(rows[_hash_order(train.user_ids[rows], seed)[:max_users]])
    user_ids = train.user_ids[rows]
    masks = {"all": np.ones(len(rows), dtype=bool)}
    if segments is not None and len(segments):
        seg = segments.drop_duplicates("user_id").set_index("user_id").reindex(user_ids)
        for kind in seg.columns:
            values = seg[kind].fillna("unknown").astype(str).to_numpy()
            for v in sorted(set(values)):
                masks[f"{kind}:{v}"] = values == v
    truth = novel[rows].tocsr()
    truth.data = np.ones_like(truth.data)
    return Holdout(user_ids, train.item_ids, train.values[rows].tocsr(), truth,
                   np.diff(train.values.tocsc().indptr).astype(np.float64), masks, train.shape[0])


def align_items(item_ids: np.ndarray, vectors: np.ndarray, catalogue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Item vectors laid out on the catalogue's columns; items the model does not know are not allowed."""
    pos = pd.Index(item_ids).get_indexer(catalogue)
    known = pos >= 0
    out = np.zeros((len(catalogue), vectors.shape[1]), dtype=np.float32)
    out[known] = vectors[pos[known]]
    return out, known


def align_users(user_ids: np.ndarray, vectors: np.ndarray, h: Holdout, item_vectors: np.ndarray, *,
                alpha: float, regularization: float) -> tuple[np.ndarray, int]:
    """Stored user vectors for the holdout's users; users the model does not know are folded in."""
    pos = pd.Index(user_ids).get_indexer(h.user_ids)
    known = pos >= 0
    out = np.zeros((len(h.user_ids), item_vectors.shape[1]), dtype=np.float32)
    out[known] = vectors[pos[known]]
    missing = np.flatnonzero(~known)
    if len(missing):
        out[missing] = fold_in(item_vectors, h.train[missing], alpha=alpha, regularization=regularization)
    return out, len(missing)


def als_lists(h: Holdout, user_vectors: np.ndarray, item_vectors: np.ndarray, k: int,
              allowed: np.ndarray | None = None) -> np.ndarray:
    return top_k(user_vectors, item_vectors, k, exclude=h.train, allowed=allowed)[0]


def popularity_lists(h: Holdout, k: int) -> np.ndarray:
    ones = np.ones((len(h.user_ids), 1), dtype=np.float32)
    return top_k(ones, popularity_item_vectors(h.popularity), k, exclude=h.train)[0]


def evaluate_lists(lists: np.ndarray, h: Holdout, ks, head_share: float) -> list[dict]:
    """One record per (segment, metric, k): ranking metrics averaged over the segment's users, exposure
    metrics over their lists."""
    per_user = ranking_metrics(lists, h.truth, ks)
    out = []
    for seg, mask in h.segments.items():
        n = int(mask.sum())
        if n == 0:
            continue
        for (metric, k), values in per_user.items():
            out.append({"segment": seg, "metric": metric, "k": k, "value": float(values[mask].mean()), "users": n})
        for (metric, k), value in exposure_metrics(lists[mask], h.popularity, ks, head_share).items():
            out.append({"segment": seg, "metric": metric, "k": k, "value": value, "users": n})
    return out


def metric_value(records: list[dict], name: str, segment: str = "all") -> float:
    """`name` like "recall@1000"."""
    metric, _, k = name.partition("@")
    for r in records:
        if r["segment"] == segment and r["metric"] == metric and r["k"] == int(k):
            return r["value"]
    raise KeyError(f"no {name} for segment {segment!r}")
