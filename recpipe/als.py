"""Matrix factorisation on one machine: id mapping, implicit ALS training, fold-in and top-k scoring.

Pure numpy/scipy (no Spark): the weekly jobs collect the training matrix, call these, and write the
results back. Confidence follows Hu, Koren & Volinsky (2008): c_ui = 1 + alpha * r_ui for observed pairs,
1 elsewhere, preference p_ui = 1 where r_ui > 0. `implicit` multiplies its input by its own alpha, so it
is given 1 + alpha * r with its alpha fixed at 1; Spark MLlib's implicit ALS forms 1 + alpha * r itself.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

log = logging.getLogger(__name__)


def derive_seed(base: int, *parts: object) -> int:
    """A 31-bit seed from the configured seed and the job's identity (name, ds): reruns are identical."""
    text = "|".join([str(base), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class Matrix:
    """A user x item sparse matrix with its id mappings: row i is user_ids[i], column j is item_ids[j]."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    values: sparse.csr_matrix

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape


def build_matrix(users, items, values, user_ids=None, item_ids=None) -> Matrix:
    """CSR matrix from (user, item, value) triples; ids are sorted so the mapping depends only on the ids.

    Given `user_ids`/`item_ids`, rows/columns follow them and triples outside them are dropped.
    Duplicate pairs are summed.
    """
    users = np.asarray(users, dtype=object)
    items = np.asarray(items, dtype=object)
    values = np.asarray(values, dtype=np.float64)
    uids = np.array(sorted(set(users)), dtype=object) if user_ids is None else np.asarray(user_ids, dtype=object)
    iids = np.array(sorted(set(items)), dtype=object) if item_ids is None else np.asarray(item_ids, dtype=object)
    rows = pd.Index(uids).get_indexer(users)
    cols = pd.Index(iids).get_indexer(items)
    keep = (rows >= 0) & (cols >= 0)
    m = sparse.csr_matrix((values[keep], (rows[keep], cols[keep])), shape=(len(uids), len(iids)))
    m.sum_duplicates()
    m.sort_indices()
    return Matrix(uids, iids, m)


def confidence(strength: sparse.csr_matrix, alpha: float) -> sparse.csr_matrix:
    c = strength.astype(np.float32, copy=True)
    c.data = 1.0 + np.float32(alpha) * c.data
    return c


def _use_gpu(mode: str) -> bool:
    import implicit.gpu

    if mode == "true" and not implicit.gpu.HAS_CUDA:
        raise RuntimeError("als.use_gpu=true but implicit was built without CUDA or no GPU is visible")
    return mode != "false" and bool(implicit.gpu.HAS_CUDA)


@dataclass(frozen=True)
class Factors:
    user: np.ndarray  # (users, f) float32
    item: np.ndarray  # (items, f) float32
    seconds: float
    device: str


def train_implicit(strength: sparse.csr_matrix, *, factors: int, regularization: float, alpha: float,
                   iterations: int, seed: int, num_threads: int = 0, use_gpu: str = "auto") -> Factors:
    """Fit implicit's ALS on the strengths; deterministic for a given seed (per-row solves are independent)."""
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    # implicit parallelises over rows itself; a multi-threaded BLAS underneath oversubscribes the cores.
    # The limit applies to the BLAS libraries already loaded, hence the import above.
    with threadpool_limits(1, "blas"):
        gpu = _use_gpu(use_gpu)
        model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=1.0,
                                        iterations=iterations, random_state=seed, num_threads=num_threads,
                                        use_gpu=gpu)
        t0 = time.perf_counter()
        model.fit(confidence(strength, alpha), show_progress=False)
        seconds = time.perf_counter() - t0
        if gpu:
            model = model.to_cpu()
    return Factors(np.ascontiguousarray(model.user_factors, dtype=np.float32),
                   np.ascontiguousarray(model.item_factors, dtype=np.float32), seconds, "gpu" if gpu else "cpu")


def fold_in(item_factors: np.ndarray, strength: sparse.csr_matrix, *, alpha: float,
            regularization: float) -> np.ndarray:
    """User factors for rows of `strength` against fixed item factors: the exact ALS user step.

    x_u = (YᵀY + Yᵀ(C_u - I)Y + λI)⁻¹ Yᵀ C_u p_u. Rows without interactions get zero vectors.
    """
    Y = item_factors.astype(np.float64)
    f = Y.shape[1]
    base = Y.T @ Y + regularization * np.eye(f)
    out = np.zeros((strength.shape[0], f), dtype=np.float32)
    indptr, indices, data = strength.indptr, strength.indices, strength.data
    for u in range(strength.shape[0]):
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            continue
        Yu = Y[indices[lo:hi]]
        c = 1.0 + alpha * data[lo:hi]
        A = base + (Yu * (c - 1.0)[:, None]).T @ Yu
        out[u] = np.linalg.solve(A, Yu.T @ c)
    return out


def top_k(user_vectors: np.ndarray, item_vectors: np.ndarray, k: int, exclude: sparse.csr_matrix | None = None,
          allowed: np.ndarray | None = None, block: int = 2048, threads: int | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k items per user by dot product, excluding each row's items in `exclude` and, for every
    user, the items where `allowed` is False.

    Returns (items int32, scores float32), both (users, k); rows with fewer than k eligible items are padded
    with -1 and -inf. Ties are broken by item index, so the result is deterministic. Users are scored in
    blocks (memory is bounded by block x items scores), blocks run on `threads` threads (default: the
    cores), each with a one-thread BLAS: numpy releases the GIL in the product and in the selection.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    n, m = user_vectors.shape[0], item_vectors.shape[0]
    items = np.full((n, k), -1, dtype=np.int32)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    vt = np.ascontiguousarray(item_vectors.T, dtype=np.float32)
    uv = np.ascontiguousarray(user_vectors, dtype=np.float32)
    banned = None if allowed is None else np.flatnonzero(~np.asarray(allowed, dtype=bool))
    kk = min(k, m)
    sample = _threshold_sample(m, kk)

    def one(lo: int) -> None:
        hi = min(lo + block, n)
        s = uv[lo:hi] @ vt
        if exclude is not None:
            sub = exclude[lo:hi]
            s[np.repeat(np.arange(hi - lo), np.diff(sub.indptr)), sub.indices] = -np.inf
        if banned is not None and len(banned):
            s[:, banned] = -np.inf
        top, ts = _select(s, kk, sample)
        ok = np.isfinite(ts)
        items[lo:hi, :kk] = np.where(ok, top, -1)
        scores[lo:hi, :kk] = np.where(ok, ts, -np.inf)

    workers = max(1, threads or os.cpu_count() or 1)
    starts = range(0, n, block)
    with threadpool_limits(1 if workers > 1 else None, "blas"):
        if workers == 1 or len(starts) == 1:
            for lo in starts:
                one(lo)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(one, starts))
    return items, scores


def _threshold_sample(m: int, k: int) -> slice | None:
    """Columns whose scores estimate each row's k-th score: an even stride through the catalogue (a view,
    no copy). None: select exactly, the catalogue is small next to k."""
    if m < 8 * k or m < 4096:
        return None
    return slice(0, m, max(1, m // 1024))


def _select(s: np.ndarray, k: int, sample: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The k best columns of each row of `s`, best first, ties by column index.

    With a sample, a per-row threshold is set below the row's k-th score from the sample's order
    statistics, every column at or above it is gathered (about 1.3 k per row), and only those are sorted;
    rows where the threshold kept fewer than k columns are selected exactly.
    """
    rows_n, m = s.shape
    if sample is None:
        return _select_exact(s, k)
    probe = s[:, sample]
    f = probe.shape[1] / m
    rank = min(probe.shape[1] - 1, int(k * f * 1.15 + 3 * np.sqrt(k * f)) + 1)
    thresh = -np.partition(-probe, rank, axis=1)[:, rank]
    mask = s >= thresh[:, None]
    counts = mask.sum(axis=1)
    short = counts < k
    width = int(counts.max())
    r, c = np.nonzero(mask)
    pos = np.arange(len(r)) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = np.zeros((rows_n, width), dtype=np.int64)
    vals = np.full((rows_n, width), -np.inf, dtype=np.float32)
    cols[r, pos] = c
    vals[r, pos] = s[r, c]
    order = np.argsort(-vals, axis=1)[:, :k]
    top = np.take_along_axis(cols, order, axis=1)
    ts = np.take_along_axis(vals, order, axis=1)
    # The fast sort is not stable: rows with equal scores in their list (rare with real-valued factors)
    # or padding are sorted again stably; columns come in ascending order, so ties go by column.
    redo = (ts[:, 1:] == ts[:, :-1]).any(axis=1) | ~np.isfinite(ts[:, -1])
    if redo.any():
        o = np.argsort(-vals[redo], axis=1, kind="stable")[:, :k]
        top[redo] = np.take_along_axis(cols[redo], o, axis=1)
        ts[redo] = np.take_along_axis(vals[redo], o, axis=1)
    if width < k:
        pad = k - width
        top = np.pad(top, ((0, 0), (0, pad)))
        ts = np.pad(ts, ((0, 0), (0, pad)), constant_values=-np.inf)
    if short.any():
        top[short], ts[short] = _select_exact(s[short], k)
    return top, ts


def _select_exact(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    m = s.shape[1]
    if k < m:
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(m), s.shape).copy()
    ps = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -ps), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    ts = np.take_along_axis(ps, order, axis=1)
    # argpartition picks arbitrarily among items tied at the k-th score; make the boundary deterministic.
    return _fix_boundary_ties(s, top, ts, k)


def _fix_boundary_ties(s: np.ndarray, top: np.ndarray, ts: np.ndarray, kk: int):
    """Where the k-th score is tied with items outside the list, take the tied items with the lowest index."""
    if kk >= s.shape[1]:
        return top, ts
    kth = ts[:, kk - 1]
    outside_tied = (s == kth[:, None]).sum(axis=1) > (ts == kth[:, None]).sum(axis=1)
    for r in np.flatnonzero(outside_tied & np.isfinite(kth)):
        row = s[r]
        cand = np.flatnonzero(row >= kth[r])
        order = np.lexsort((cand, -row[cand]))[:kk]
        top[r], ts[r] = cand[order], row[cand[order]]
    return top, ts


def popularity_item_vectors(popularity: np.ndarray) -> np.ndarray:
    """(items, 1) vectors that rank items by popularity (ties by index) against a user vector of ones."""
    order = np.lexsort((np.arange(len(popularity)), -popularity))
    score = np.empty(len(popularity), dtype=np.float32)
    score[order] = np.arange(len(popularity), 0, -1, dtype=np.float32)
    return score[:, None]


def explain(item_factors: np.ndarray, strength: sparse.csr_matrix, lists: np.ndarray, *, alpha: float,
            regularization: float, top: int = 10) -> np.ndarray:
    """For each row's first `top` listed items, the history column that contributed most to the score.

    With the folded-in user vector x_u = W_u Σ_j c_uj y_j, W_u = (YᵀC_uY + λI)⁻¹, the score of item i is
    Σ_j c_uj · y_jᵀ W_u y_i: one term per history item j (implicit's `explain`). Returns column indices
    (users, top), -1 where the list is padded or the user has no history.
    """
    Y = item_factors.astype(np.float64)
    f = Y.shape[1]
    base = Y.T @ Y + regularization * np.eye(f)
    top = min(top, lists.shape[1])
    out = np.full((strength.shape[0], top), -1, dtype=np.int64)
    indptr, indices, data = strength.indptr, strength.indices, strength.data
    for u in range(strength.shape[0]):
        lo, hi = indptr[u], indptr[u + 1]
        listed = lists[u, :top]
        valid = listed >= 0
        if lo == hi or not valid.any():
            continue
        hist = indices[lo:hi]
        Yu = Y[hist]
        c = 1.0 + alpha * data[lo:hi]
        A = base + (Yu * (c - 1.0)[:, None]).T @ Yu
        contrib = (Yu @ np.linalg.solve(A, Y[listed[valid]].T)) * c[:, None]   # (history, listed)
        out[u, np.flatnonzero(valid)] = hist[np.argmax(contrib, axis=0)]
    return out
