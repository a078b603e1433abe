"""build_interactions: decayed signals, dwell weighting, window bounds, active users and the catalogue."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from jobs.build_interactions import interactions
from recpipe.config import InteractionsConfig
from tests.jobs.helpers import ev, events_df

DS = dt.date(2026, 11, 14)
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 7)
CFG = InteractionsConfig(window_days=7, half_life_days=2.0, weight_transact=4.0, weight_like=2.0, weight_view=1.0,
                         dwell_ref_seconds=30.0, min_item_users=2)


def _active(spark, users):
    return spark.createDataFrame([(u,) for u in users], "user_id string")


def _rows():
    return [
        # u1/i1 on the last training day, 12h before its end: decay 0.5 ** (0.5 / 2)
        ev("a", "u1", "i1", "view", "2026-11-07T12:00:00", dwell=60.0),
        ev("b", "u1", "i1", "add_to_cart", "2026-11-07T12:00:00"),
        ev("c", "u1", "i1", "purchase", "2026-11-07T12:00:00"),
        # u1/i2 two days earlier, a like and a view without dwell
        ev("d", "u1", "i2", "like", "2026-11-05T12:00:00"),
        ev("e", "u1", "i2", "view", "2026-11-05T12:00:00"),
        ev("f", "u2", "i1", "view", "2026-11-03T00:00:00", dwell=30.0),
        ev("g", "u2", "i2", "view", "2026-11-03T00:00:00", dwell=30.0),
        # held-out day (after END) and a day before START: not training data
        ev("h", "u2", "i1", "purchase", "2026-11-08T12:00:00"),
        ev("i", "u2", "i2", "purchase", "2026-10-31T12:00:00"),
        # an inactive user, and an item only one active user touched
        ev("j", "u3", "i1", "purchase", "2026-11-06T12:00:00"),
        ev("k", "u1", "i3", "purchase", "2026-11-06T12:00:00"),
    ]


def test_signals_decay_and_strength(spark):
    out = {(r["user_id"], r["item_id"]): r for r in
           interactions(events_df(spark, _rows()), _active(spark, ["u1", "u2"]), DS, START, END, CFG).collect()}
    assert set(out) == {("u1", "i1"), ("u1", "i2"), ("u2", "i1"), ("u2", "i2")}
    d1 = 0.5 ** (0.5 / 2.0)
    r = out[("u1", "i1")]
    assert r["s_transact"] == pytest.approx(2 * d1, abs=1e-8)
    assert r["s_view"] == pytest.approx(d1 * math.log1p(2.0), abs=1e-8)
    assert r["s_like"] == 0.0 and r["events"] == 3
    assert r["strength"] == pytest.approx(4 * 2 * d1 + d1 * math.log1p(2.0), abs=1e-7)
    d3 = 0.5 ** (2.5 / 2.0)
    r = out[("u1", "i2")]
    assert r["s_like"] == pytest.approx(d3, abs=1e-8)
    assert r["s_view"] == pytest.approx(d3 * math.log(2.0), abs=1e-8)  # no dwell counts as dwell_ref
    r = out[("u2", "i1")]   # only the view inside the window; the held-out purchase is not training data
    assert r["s_transact"] == 0.0 and r["s_view"] == pytest.approx(0.5 ** (5 / 2.0) * math.log(2.0), abs=1e-8)
    assert all(r["as_of"] == DS and r["train_start"] == START and r["train_end"] == END for r in out.values())


def test_catalogue_threshold_counts_active_users_only(spark):
    cfg = InteractionsConfig(**{**CFG.__dict__, "min_item_users": 3})
    rows = interactions(events_df(spark, _rows()), _active(spark, ["u1", "u2"]), DS, START, END, cfg).collect()
    assert rows == []  # i1 has three users, but u3 is not active
    rows = interactions(events_df(spark, _rows()), _active(spark, ["u1", "u2", "u3"]), DS, START, END, cfg).collect()
    assert {(r["user_id"], r["item_id"]) for r in rows} == {("u1", "i1"), ("u2", "i1"), ("u3", "i1")}


def test_zero_weights_drop_pairs_with_only_that_signal(spark):
    cfg = InteractionsConfig(**{**CFG.__dict__, "weight_view": 0.0})
    rows = interactions(events_df(spark, _rows()), _active(spark, ["u1", "u2"]), DS, START, END, cfg).collect()
    assert {(r["user_id"], r["item_id"]) for r in rows} == {("u1", "i1"), ("u1", "i2")}
