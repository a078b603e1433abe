"""`recpipe tune`: grid search of interaction weights and ALS hyper-parameters on the week's holdout.

Reads the week's `interactions` (the three decayed signals are stored separately, so each weight setting
is a recombination, not a rebuild) and the holdout's positives, trains implicit ALS for every setting,
evaluates it exactly as evaluate_model does, and prints one row per setting, best first.
"""
from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recpipe.als import build_matrix, derive_seed, train_implicit
from recpipe.config import Config
from recpipe.evaluation import align_users, als_lists, build_holdout, evaluate_lists, metric_value, popularity_lists


@dataclass(frozen=True)
class Grid:
    weights: tuple[tuple[float, float, float], ...] = ((4.0, 2.0, 1.0), (1.0, 1.0, 1.0), (8.0, 2.0, 0.5),
                                                       (0.0, 0.0, 1.0), (4.0, 2.0, 0.0))
    alpha: tuple[float, ...] = (1.0, 10.0)
    factors: tuple[int, ...] = (16, 64)
    regularization: tuple[float, ...] = (1.0, 50.0)

    @property
    def size(self) -> int:
        return len(self.weights) * len(self.alpha) * len(self.factors) * len(self.regularization)


def parse_weights(text: str) -> tuple[tuple[float, float, float], ...]:
    """"4,2,1;1,1,1" -> ((4, 2, 1), (1, 1, 1)): transact, like, view weights per setting."""
    out = []
    for part in text.split(";"):
        w = tuple(float(x) for x in part.split(","))
        if len(w) != 3 or min(w) < 0 or max(w) == 0:
            raise ValueError(f"a weight setting is three non-negative numbers, not all zero: {part!r}")
        out.append(w)
    return tuple(out)


def tune(cfg: Config, interactions: pd.DataFrame, tests: pd.DataFrame, grid: Grid, ds: dt.date,
         progress=print) -> pd.DataFrame:
    """One row per setting (and one for popularity) with ndcg@10, recall@100, recall@1000, coverage@1000."""
    ev, k = cfg.evaluation, max(cfg.evaluation.ks)
    rows = []
    done = 0
    for w in grid.weights:
        strength = (w[0] * interactions["s_transact"] + w[1] * interactions["s_like"]
                    + w[2] * interactions["s_view"]).to_numpy()
        keep = strength > 0
        train = build_matrix(interactions["user_id"][keep], interactions["item_id"][keep], strength[keep])
        h = build_holdout(train, tests, None, ev.max_users, seed=cfg.seed)
        if not rows:
            rows.append(_row("popularity", None, None, None, None, evaluate_lists(popularity_lists(h, k), h, ev.ks,
                                                                                ev.head_share), len(h.user_ids), 0.0))
        for alpha, f, reg in itertools.product(grid.alpha, grid.factors, grid.regularization):
            fa = train_implicit(train.values, factors=f, regularization=reg, alpha=alpha,
                                iterations=cfg.als.iterations, seed=derive_seed(cfg.seed, "train_als", ds),
                                num_threads=cfg.als.num_threads, use_gpu=cfg.als.use_gpu)
            uv, _ = align_users(train.user_ids, fa.user, h, fa.item, alpha=alpha, regularization=reg)
            records = evaluate_lists(als_lists(h, uv, fa.item, k), h, ev.ks, ev.head_share)
            rows.append(_row("als", w, alpha, f, reg, records, len(h.user_ids), fa.seconds))
            done += 1
            progress(f"[{done}/{grid.size}] weights={w} alpha={alpha} factors={f} reg={reg}: "
                     f"{cfg.promotion.primary_metric} {rows[-1][cfg.promotion.primary_metric]:.4f} "
                     f"ndcg@10 {rows[-1]['ndcg@10']:.4f}")
    table = pd.DataFrame(rows)
    return table.sort_values([cfg.promotion.primary_metric, "ndcg@10"], ascending=False, kind="stable")


def _row(model, w, alpha, f, reg, records, users, seconds) -> dict:
    out = {"model": model, "weights": "" if w is None else ",".join(f"{x:g}" for x in w),
           "alpha": alpha, "factors": f, "regularization": reg, "users": users, "fit_s": round(seconds, 2)}
    for name in ("ndcg@10", "recall@100", "recall@1000", "precision@10", "map@10", "coverage@1000"):
        try:
            out[name] = metric_value(records, name)
        except KeyError:
            out[name] = np.nan
    return out


def run_tune(cfg: Config, ds: str, grid: Grid, progress=print) -> pd.DataFrame:
    from jobs.evaluate_model import test_positives
    from recpipe.registry import train_window
    from recpipe.spark import get_spark
    from recpipe.storage import Lake, parse_ds
    from schemas import EVENTS, INTERACTIONS

    day = parse_ds(ds)
    lake = Lake(get_spark(cfg, app_name=f"tune[{day}]"), cfg.lake)
    _, end = train_window(cfg, day)
    inter = lake.read(INTERACTIONS, day, day).select("user_id", "item_id", "s_transact", "s_like", "s_view").toPandas()
    if inter.empty:
        raise ValueError(f"tune: no interactions for {day}; run build_interactions (recpipe run weekly) first")
    tests = test_positives(lake.read(EVENTS, end + dt.timedelta(days=1), day), end, day,
                           cfg.evaluation.positive_types).toPandas()
    t0 = time.perf_counter()
    table = tune(cfg, inter, tests, grid, day, progress)
    progress(f"{grid.size} settings in {time.perf_counter() - t0:.1f}s")
    return table
