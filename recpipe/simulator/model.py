"""The simulated shop: users, items and the choice model, stepping one day at a time.

Kept apart from any file writing so that a caller can step the world day by day and feed each user a
recommendation list (the exposure of the following day), as a simulated A/B test does.

Model (all vectorised over sessions and views, no Python loop per event):

* Items have a category, a latent vector near their category's centroid, a price and a long-tailed
  popularity weight ``w_i`` (Zipf with exponent ``ZIPF`` over a random rank). Preference weighs more than
  popularity in every choice (``BETA``, ``BETA_CAT``), so a personal model has something to learn beyond
  popularity: on the default simulation the top tenth of the items takes about 40% of the views.
* Users have a latent preference vector built from one to three favourite categories, a private type
  (buyer or browser), a daily activity probability (most users are inactive on most days, a minority is
  active nearly every day), a primary device and per-user conversion propensities.
* A session picks a category by a softmax over ``beta_cat * <u, centroid_c> + log(mass_c)`` and then, for
  each view, an item: ``K`` candidates are drawn from the category by popularity and the one with the highest
  ``beta * <u, v_i> + Gumbel`` is viewed, so ``P(i) ~ w_i * exp(beta * <u, v_i>)`` within the category.
  With a recommendation list, a share of views choose among the listed items instead.
* Each view has a dwell time (browsers dwell longer), may lead to a like, and to a cart with probability
  ``sigmoid(logit(p_cart_u) + gamma * affinity)``; a cart leads to a purchase with ``p_purchase_u``.
  Browsers view many items with long dwell and rarely buy; buyers take short paths to cart and purchase.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

DEVICES = np.array(["mobile", "desktop", "tablet", "app"])
DEVICE_PRIOR = np.array([0.45, 0.30, 0.08, 0.17])


@dataclass(frozen=True)
class SimulationSpec:
    users: int = 3000
    items: int = 2000
    days: int = 14
    start: str = "2026-11-01"
    seed: int = 7
    defect_rate: float = 0.0
    files_per_day: int = 2
    dim: int = 16
    buyer_share: float = 0.35
    # Share of an exposed user's views that choose among the recommended items.
    rec_exposure: float = 0.3
    # Share of events that reach the landing folder one day late.
    late_rate: float = 0.01

    def __post_init__(self):
        if self.users < 1 or self.items < 2 or self.days < 1:
            raise ValueError(f"simulation needs users >= 1, items >= 2, days >= 1; got {self}")
        if not 0.0 <= self.defect_rate < 1.0:
            raise ValueError(f"defect_rate must be in [0, 1), got {self.defect_rate}")
        dt.date.fromisoformat(self.start)

    @property
    def start_date(self) -> dt.date:
        return dt.date.fromisoformat(self.start)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    return np.log(p / (1.0 - p))


class World:
    """Ground truth of the simulated shop and a day-by-day event generator."""

    BETA = 8.0        # weight of preference in item choice
    BETA_CAT = 6.0    # weight of preference in category choice
    GAMMA = 1.0       # weight of affinity in the cart decision
    K = 32            # candidates per view
    ZIPF = 0.6        # exponent of the long-tailed item popularity

    def __init__(self, spec: SimulationSpec):
        self.spec = spec
        rng = np.random.default_rng([spec.seed, 0xC0FFEE])
        n_u, n_i, d = spec.users, spec.items, spec.dim
        n_c = int(np.clip(n_i // 60, 4, 40))
        self.n_categories = n_c

        centroids = rng.normal(size=(n_c, d))
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        self.centroids = centroids.astype(np.float32)

        cat_pop = 1.0 / np.arange(1, n_c + 1) ** 0.8
        self.item_category = rng.choice(n_c, size=n_i, p=cat_pop / cat_pop.sum())
        # Every category gets at least one item so that category choice never lands on an empty one.
        self.item_category[: n_c] = np.arange(n_c)
        iv = centroids[self.item_category] + 0.6 * rng.normal(size=(n_i, d)) / np.sqrt(d)
        iv /= np.linalg.norm(iv, axis=1, keepdims=True)
        self.item_vectors = iv.astype(np.float32)
        rank = rng.permutation(n_i) + 1
        self.item_weight = (1.0 / rank ** self.ZIPF).astype(np.float64)
        cat_price = np.exp(rng.normal(3.2, 0.8, size=n_c))
        self.item_price = np.round(cat_price[self.item_category] * np.exp(rng.normal(0, 0.35, size=n_i)), 2)

        n_fav = rng.integers(1, 4, size=n_u)
        fav = rng.choice(n_c, size=(n_u, 3), p=cat_pop / cat_pop.sum())
        mask = np.arange(3)[None, :] < n_fav[:, None]
        uv = (centroids[fav] * mask[..., None]).sum(axis=1) + 0.5 * rng.normal(size=(n_u, d)) / np.sqrt(d)
        uv /= np.linalg.norm(uv, axis=1, keepdims=True)
        self.user_vectors = uv.astype(np.float32)

        self.user_is_buyer = rng.random(n_u) < spec.buyer_share
        self.user_p_active = _sigmoid(rng.normal(-2.2, 1.3, size=n_u))
        self.user_session_rate = rng.gamma(2.0, 0.25, size=n_u)
        self.user_device = rng.choice(len(DEVICES), size=n_u, p=DEVICE_PRIOR)
        buyer = self.user_is_buyer
        self.user_p_cart = _sigmoid(np.where(buyer, _logit(0.12), _logit(0.015)) + rng.normal(0, 0.5, n_u))
        self.user_p_purchase = _sigmoid(np.where(buyer, _logit(0.55), _logit(0.15)) + rng.normal(0, 0.4, n_u))
        self.user_mean_views = np.where(buyer, 4.0, 11.0) * np.exp(rng.normal(0, 0.3, n_u))
        self.user_dwell_median = np.where(buyer, 14.0, 38.0) * np.exp(rng.normal(0, 0.25, n_u))
        self.user_p_like = np.where(buyer, 0.02, 0.05)

        # Affinity is standardised with the population's spread so that GAMMA has a fixed meaning.
        sample_u = rng.integers(0, n_u, 4096)
        sample_i = rng.integers(0, n_i, 4096)
        aff = (self.user_vectors[sample_u] * self.item_vectors[sample_i]).sum(axis=1)
        self._aff_mean, self._aff_std = float(aff.mean()), float(aff.std() + 1e-9)

        order = np.argsort(self.item_category, kind="stable")
        self._cat_order = order
        w_sorted = self.item_weight[order]
        self._cum = np.cumsum(w_sorted)
        counts = np.bincount(self.item_category, minlength=n_c)
        ends = np.cumsum(counts)
        self._cat_start = ends - counts
        self._cat_end = ends
        self._cat_lo = np.where(self._cat_start > 0, self._cum[np.maximum(self._cat_start - 1, 0)], 0.0)
        self._cat_lo[self._cat_start == 0] = 0.0
        self._cat_mass = self._cum[ends - 1] - self._cat_lo
        self._log_cat_mass = np.log(self._cat_mass)

    # ------------------------------------------------------------------------------------ ground truth

    @property
    def user_ids(self) -> np.ndarray:
        return np.char.add("u", np.arange(self.spec.users).astype(str))

    @property
    def item_ids(self) -> np.ndarray:
        return np.char.add("i", np.arange(self.spec.items).astype(str))

    def ground_truth(self) -> dict[str, pd.DataFrame]:
        users = pd.DataFrame({
            "user_id": self.user_ids,
            "user_type": np.where(self.user_is_buyer, "buyer", "browser"),
            "p_active": self.user_p_active,
            "primary_device": DEVICES[self.user_device],
            "true_view_to_cart": self.user_p_cart,
            "true_cart_to_purchase": self.user_p_purchase,
            "true_view_to_purchase": self.user_p_cart * self.user_p_purchase,
            "mean_views_per_session": self.user_mean_views,
            "vector": list(self.user_vectors),
        })
        items = pd.DataFrame({
            "item_id": self.item_ids,
            "category": np.char.add("c", self.item_category.astype(str)),
            "price": self.item_price,
            "popularity_weight": self.item_weight,
            "vector": list(self.item_vectors),
        })
        return {"users": users, "items": items}

    # ---------------------------------------------------------------------------------------- stepping

    def day(self, index: int) -> dt.date:
        return self.spec.start_date + dt.timedelta(days=index)

    def _rec_matrix(self, recommendations) -> np.ndarray | None:
        if recommendations is None:
            return None
        if isinstance(recommendations, np.ndarray):
            return recommendations
        lists = {int(u): np.asarray(v, dtype=np.int64) for u, v in recommendations.items() if len(v)}
        if not lists:
            return None
        width = max(len(v) for v in lists.values())
        mat = np.full((self.spec.users, width), -1, dtype=np.int64)
        for u, v in lists.items():
            mat[u, : len(v)] = v
        return mat

    def _pick_from_category(self, rng, users, cats) -> np.ndarray:
        n = len(users)
        r = self._cat_lo[cats][:, None] + rng.random((n, self.K)) * self._cat_mass[cats][:, None]
        pos = np.searchsorted(self._cum, r, side="right")
        pos = np.clip(pos, self._cat_start[cats][:, None], self._cat_end[cats][:, None] - 1)
        return self._cat_order[pos]

    def _pick_from_recs(self, rng, users, recs) -> np.ndarray:
        lists = recs[users]
        length = (lists >= 0).sum(axis=1)
        pos = (rng.random((len(users), self.K)) * np.maximum(length, 1)[:, None]).astype(np.int64)
        return np.take_along_axis(lists, pos, axis=1)

    def _choose(self, rng, users: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        u = self.user_vectors[users]
        scores = np.einsum("nd,nkd->nk", u, self.item_vectors[candidates], optimize=True)
        scores = self.BETA * scores + rng.gumbel(size=scores.shape)
        return candidates[np.arange(len(users)), scores.argmax(axis=1)]

    def step(self, index: int, recommendations: Mapping[int, np.ndarray] | np.ndarray | None = None,
             chunk: int = 200_000) -> pd.DataFrame:
        """Generate day ``index``'s events, time-ordered; optionally expose users to a recommendation list.

        ``recommendations`` maps a user index to item indices (or is a [users, R] matrix padded with -1).
        """
        spec = self.spec
        rng = np.random.default_rng([spec.seed, index + 1])
        day_start = np.datetime64(self.day(index).isoformat(), "us")

        active = np.flatnonzero(rng.random(spec.users) < self.user_p_active)
        n_sess = 1 + rng.poisson(self.user_session_rate[active])
        s_user = np.repeat(active, n_sess)
        n_s = len(s_user)
        if n_s == 0:
            return _empty_events()

        logits = self.BETA_CAT * (self.user_vectors[s_user] @ self.centroids.T) + self._log_cat_mass
        s_cat = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)
        s_views = rng.geometric(1.0 / self.user_mean_views[s_user])
        s_views = np.minimum(s_views, 60)
        own = rng.random(n_s) < 0.8
        s_device = np.where(own, self.user_device[s_user], rng.choice(len(DEVICES), size=n_s, p=DEVICE_PRIOR))
        # Diurnal start times: a midday and an evening peak.
        hour = np.where(rng.random(n_s) < 0.45, rng.normal(12.5, 2.5, n_s), rng.normal(20.0, 1.8, n_s))
        start_sec = np.clip(hour * 3600 + rng.normal(0, 600, n_s), 0, 86_000)

        v_sess = np.repeat(np.arange(n_s), s_views)
        v_user = s_user[v_sess]
        n_v = len(v_sess)
        recs = self._rec_matrix(recommendations)
        items = np.empty(n_v, dtype=np.int64)
        for lo in range(0, n_v, chunk):
            hi = min(lo + chunk, n_v)
            cu = v_user[lo:hi]
            cand = self._pick_from_category(rng, cu, s_cat[v_sess[lo:hi]])
            if recs is not None:
                exposed = ((recs[cu] >= 0).any(axis=1)) & (rng.random(hi - lo) < spec.rec_exposure)
                if exposed.any():
                    cand[exposed] = self._pick_from_recs(rng, cu[exposed], recs)
            items[lo:hi] = self._choose(rng, cu, cand)

        aff = (self.user_vectors[v_user] * self.item_vectors[items]).sum(axis=1)
        aff = (aff - self._aff_mean) / self._aff_std
        dwell = self.user_dwell_median[v_user] * np.exp(0.3 * aff + rng.normal(0, 0.6, n_v))
        dwell = np.round(np.clip(dwell, 1.0, 3600.0), 1)
        gap = rng.exponential(4.0, n_v)
        # Time within the session: cumulative dwell + gaps, restarted at each session.
        step_sec = dwell + gap
        cum = np.cumsum(step_sec)
        first = np.concatenate([[0], np.cumsum(s_views)[:-1]])
        offset = cum - np.repeat(cum[first] - step_sec[first], s_views) - step_sec
        v_ts = start_sec[v_sess] + offset

        p_cart = _sigmoid(_logit(self.user_p_cart[v_user]) + self.GAMMA * aff)
        cart = rng.random(n_v) < p_cart
        purchase = cart & (rng.random(n_v) < self.user_p_purchase[v_user])
        like = rng.random(n_v) < _sigmoid(_logit(self.user_p_like[v_user]) + aff)

        parts = [
            (np.arange(n_v), "view", v_ts, dwell),
            (np.flatnonzero(like), "like", v_ts + dwell * 0.5, None),
            (np.flatnonzero(cart), "add_to_cart", v_ts + dwell * 0.9, None),
            (np.flatnonzero(purchase), "purchase", v_ts + dwell + rng.exponential(45.0, n_v) + 5, None),
        ]
        frames = []
        for idx, kind, ts, dw in parts:
            if kind != "view":
                ts = ts[idx]
            frames.append(pd.DataFrame({
                "_view": idx,
                "event_type": kind,
                "_sec": ts,
                "dwell_seconds": dw if dw is not None else np.nan,
            }))
        ev = pd.concat(frames, ignore_index=True)
        vi = ev["_view"].to_numpy()
        sess = v_sess[vi]
        ev["_user"] = v_user[vi]
        ev["_item"] = items[vi]
        ev["_device"] = s_device[sess]
        ev["_session"] = sess
        ev["event_ts"] = day_start + (ev["_sec"].to_numpy() * 1e6).astype("timedelta64[us]")
        ev = ev.sort_values(["event_ts", "_session"], kind="stable").reset_index(drop=True)
        ev["_seq"] = np.arange(len(ev))
        return ev.drop(columns=["_view", "_sec"])


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame({
        "event_type": pd.Series(dtype=object), "dwell_seconds": pd.Series(dtype=float),
        "_user": pd.Series(dtype=np.int64), "_item": pd.Series(dtype=np.int64),
        "_device": pd.Series(dtype=np.int64), "_session": pd.Series(dtype=np.int64),
        "event_ts": pd.Series(dtype="datetime64[us]"), "_seq": pd.Series(dtype=np.int64),
    })
