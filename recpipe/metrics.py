"""Offline metrics for top-k lists (pure numpy).

Lists are (users, K) arrays of catalogue indices, best first, padded with -1. Truth is a (users, items)
sparse matrix whose non-zeros are each user's relevant items.

Per user, at cut-off k, with h_j = 1 when the j-th item is relevant and n the user's relevant count:
  precision = hits/k · recall = hits/n · hit_rate = [hits > 0]
  ndcg = Σ h_j/log2(j+1) / Σ_{j<=min(n,k)} 1/log2(j+1)
  map (average precision) = Σ h_j·(hits in the first j)/j / min(n, k)
Exposure over all lists at k, against a catalogue of m items ranked by training popularity:
  coverage = distinct recommended items / m · gini = Gini coefficient of the recommendation counts of all
  m items (0 = even exposure, 1 = one item everywhere) · popularity_percentile = mean over recommended
  slots of the item's popularity percentile (1 = most popular) · long_tail_share = share of slots outside
  the head (the `head_share` most popular items).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse


def hit_matrix(lists: np.ndarray, truth: sparse.csr_matrix) -> np.ndarray:
    """Boolean (users, K): is the j-th listed item relevant for the user?"""
    n, m = truth.shape
    t = truth.tocsr()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(t.indptr))
    truth_keys = rows * m + t.indices.astype(np.int64)
    valid = lists >= 0
    keys = np.arange(n, dtype=np.int64)[:, None] * m + np.where(valid, lists, 0)
    return np.isin(keys, truth_keys) & valid


def ranking_metrics(lists: np.ndarray, truth: sparse.csr_matrix, ks) -> dict[tuple[str, int], np.ndarray]:
    """Per-user metric arrays keyed by (metric, k). Users need at least one relevant item."""
    relevant = np.diff(truth.tocsr().indptr)
    if (relevant == 0).any():
        raise ValueError(f"{int((relevant == 0).sum())} users have no relevant item; drop them before evaluating")
    hits_at = hit_matrix(lists, truth)
    out: dict[tuple[str, int], np.ndarray] = {}
    for k in ks:
        if k > lists.shape[1]:
            raise ValueError(f"k={k} exceeds the list length {lists.shape[1]}")
        h = hits_at[:, :k].astype(np.float64)
        hits = h.sum(axis=1)
        discounts = 1.0 / np.log2(np.arange(2, k + 2))
        ideal = np.cumsum(discounts)[np.minimum(relevant, k) - 1]
        cum_hits = np.cumsum(h, axis=1)
        out[("precision", k)] = hits / k
        out[("recall", k)] = hits / relevant
        out[("hit_rate", k)] = (hits > 0).astype(np.float64)
        out[("ndcg", k)] = (h * discounts).sum(axis=1) / ideal
        out[("map", k)] = (h * cum_hits / np.arange(1, k + 1)).sum(axis=1) / np.minimum(relevant, k)
    return out


def gini(counts: np.ndarray) -> float:
    x = np.sort(np.asarray(counts, dtype=np.float64))
    m, total = len(x), x.sum()
    if m == 0 or total == 0:
        return 0.0
    return float(((2 * np.arange(1, m + 1) - m - 1) * x).sum() / (m * total))


def popularity_ranks(popularity: np.ndarray) -> np.ndarray:
    """1-based rank of each item by popularity (most popular first, ties by index)."""
    order = np.lexsort((np.arange(len(popularity)), -np.asarray(popularity)))
    ranks = np.empty(len(popularity), dtype=np.int64)
    ranks[order] = np.arange(1, len(popularity) + 1)
    return ranks


def exposure_metrics(lists: np.ndarray, popularity: np.ndarray, ks, head_share: float = 0.2
                     ) -> dict[tuple[str, int], float]:
    m = len(popularity)
    ranks = popularity_ranks(popularity)
    percentile = 1.0 - (ranks - 1) / max(m - 1, 1)
    head = ranks <= int(np.ceil(head_share * m))
    out: dict[tuple[str, int], float] = {}
    for k in ks:
        top = lists[:, :k]
        flat = top[top >= 0]
        counts = np.bincount(flat, minlength=m)
        out[("coverage", k)] = float((counts > 0).sum() / m) if m else 0.0
        out[("gini", k)] = gini(counts)
        out[("popularity_percentile", k)] = float(percentile[flat].mean()) if flat.size else 0.0
        out[("long_tail_share", k)] = float((~head[flat]).mean()) if flat.size else 0.0
    return out


def candidate_report(lists: np.ndarray, popularity: np.ndarray, segments: dict[str, np.ndarray], ks,
                     head_share: float = 0.2) -> list[dict]:
    """Bias and coverage of published lists, per segment: exposure_metrics at each k, popularity_lift at k
    (mean popularity of the recommended slots over the catalogue's mean) and the distinct items among the
    top tenth of ranks."""
    out = []
    mean_pop = float(np.mean(popularity)) if len(popularity) else 0.0
    decile = max(1, lists.shape[1] // 10)
    for seg, mask in segments.items():
        n = int(mask.sum())
        if n == 0:
            continue
        sub = lists[mask]
        for (metric, k), value in exposure_metrics(sub, popularity, ks, head_share).items():
            out.append({"segment": seg, "metric": metric, "k": k, "value": value, "users": n})
        for k in ks:
            flat = sub[:, :k][sub[:, :k] >= 0]
            lift = float(popularity[flat].mean() / mean_pop) if flat.size and mean_pop > 0 else 0.0
            out.append({"segment": seg, "metric": "popularity_lift", "k": k, "value": lift, "users": n})
        top = sub[:, :decile]
        out.append({"segment": seg, "metric": "top_decile_unique_items", "k": decile,
                    "value": float(len(np.unique(top[top >= 0]))), "users": n})
    return out
