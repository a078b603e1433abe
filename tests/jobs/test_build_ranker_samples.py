"""build_ranker_samples: the negative-sampling rules, reproducibility, and no leakage from the label day."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from jobs import build_item_stats, build_ranker_samples, build_sessions, build_user_features
from jobs.build_ranker_samples import sample_negatives
from recpipe.config import RankerSamplesConfig
from recpipe.storage import Lake
from schemas import CANDIDATES, EVENTS, ranker_samples_spec, user_features_spec
from tests.jobs.helpers import ev, events_df

CFG = RankerSamplesConfig()


def _inputs():
    positives = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["p1", "p2", "p3"]})
    engaged = pd.DataFrame({"user_id": ["a", "a", "a", "b"], "item_id": ["p1", "p2", "c1", "p3"]})
    served = pd.DataFrame({"user_id": ["a"] * 6 + ["b"] * 4,
                           "item_id": ["c1", "c2", "c3", "c4", "p1", "c5", "c1", "c2", "p3", "c6"],
                           "rank": list(range(1, 7)) + list(range(1, 5))})
    catalogue = pd.DataFrame({"item_id": [f"x{i}" for i in range(50)] + ["p1", "p2", "p3"],
                              "weight": [1.0] * 50 + [5.0, 5.0, 5.0]})
    return positives, engaged, served, catalogue


def test_negative_rules():
    positives, engaged, served, catalogue = _inputs()
    neg = sample_negatives(positives, engaged, served, catalogue, CFG, seed=1)
    # 4 per positive: kinds cycle hard, popularity, uniform, hard
    assert neg["sample_kind"].value_counts().to_dict() == {"hard": 6, "popularity": 3, "uniform": 3}
    pos = set(zip(positives["user_id"], positives["item_id"]))
    pairs = list(zip(neg["user_id"], neg["item_id"]))
    assert not pos & set(pairs) and len(pairs) == len(set(pairs))
    hard = neg[neg["sample_kind"] == "hard"]
    served_pairs = set(zip(served["user_id"], served["item_id"]))
    touched = set(zip(engaged["user_id"], engaged["item_id"]))
    assert set(zip(hard["user_id"], hard["item_id"])) <= served_pairs - touched
    assert (neg.groupby("user_id").size() == pd.Series({"a": 8, "b": 4})).all()


def test_sampling_is_seeded():
    args = _inputs()
    a = sample_negatives(*args, CFG, seed=5)
    b = sample_negatives(*args, CFG, seed=5)
    c = sample_negatives(*args, CFG, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_popularity_negatives_follow_the_weights_and_uniform_ones_do_not():
    users = [f"u{i}" for i in range(2000)]
    positives = pd.DataFrame({"user_id": users, "item_id": ["p"] * 2000})
    catalogue = pd.DataFrame({"item_id": ["hot"] + [f"x{i}" for i in range(99)], "weight": [99.0] + [1.0] * 99})
    none = pd.DataFrame({"user_id": [], "item_id": [], "rank": []})
    cfg = RankerSamplesConfig(negatives_per_positive=1, negative_kinds=("popularity",))
    hot = (sample_negatives(positives, positives, none, catalogue, cfg, seed=2)["item_id"] == "hot").mean()
    assert 0.45 < hot < 0.55    # weight 99 of 198
    cfg = RankerSamplesConfig(negatives_per_positive=1, negative_kinds=("uniform",))
    hot = (sample_negatives(positives, positives, none, catalogue, cfg, seed=2)["item_id"] == "hot").mean()
    assert hot < 0.03           # 1 of 100


D = dt.date(2026, 11, 14)
B = D - dt.timedelta(days=1)


def test_features_come_from_the_day_before_the_label_day(spark, cfg):
    lake = Lake(spark, cfg.lake)
    rows = [ev(f"b{i}", "u1", f"i{i}", "view", f"{B}T10:0{i}:00", dwell=20.0) for i in range(2)]
    rows += [ev("o1", "u2", "i0", "view", f"{B}T11:00:00", dwell=5.0)]
    # The label day: many more views and a purchase of an item nobody touched before.
    rows += [ev(f"d{i}", "u1", f"i{i % 2}", "view", f"{D}T10:0{i}:00", dwell=30.0) for i in range(5)]
    rows += [ev("dp", "u1", "i9", "purchase", f"{D}T10:30:00")]
    lake.write_range(events_df(spark, rows), EVENTS, B, D)
    for day in (B, D):
        build_sessions.run(cfg, day, spark)
        build_user_features.run(cfg, day, spark)
    build_item_stats.run(cfg, B, spark)
    served = [(B, "u1", f"i{j}", j + 1, 1.0 - j / 10, "als", "m", None) for j in range(5)]
    lake.write_partition(spark.createDataFrame(served, CANDIDATES.schema), CANDIDATES, B)

    summary = build_ranker_samples.run(cfg, D, spark)
    assert summary.positives == 1
    samples = lake.staging().read(ranker_samples_spec(), D, D).toPandas()
    pos = samples[samples["label"] == 1].iloc[0]
    assert (pos["user_id"], pos["item_id"], pos["sample_kind"]) == ("u1", "i9", "positive")
    assert pos["features_as_of"] == B
    feats = lake.read(user_features_spec(), None, None).toPandas().set_index(["as_of", "user_id"])
    assert pos["u_views_1d"] == feats.loc[(B, "u1"), "views_1d"] == 2
    assert feats.loc[(D, "u1"), "views_1d"] == 5          # what a leaking join would have carried
    assert pos["u_purchases_1d"] == 0
    assert pd.isna(pos["i_events_1d"])                    # i9 had no events before the label day
    neg = samples[samples["label"] == 0]
    assert len(neg) >= 1 and "i9" not in set(neg["item_id"])
    assert (neg["features_as_of"] == B).all()


def test_no_candidates_served_means_no_samples(spark, cfg):
    lake = Lake(spark, cfg.lake)
    lake.write_range(events_df(spark, [ev("x", "u1", "i1", "purchase", f"{D}T10:00:00")]), EVENTS, D, D)
    assert build_ranker_samples.run(cfg, D, spark).positives == 0
    assert lake.staging().read(ranker_samples_spec(), D, D).count() == 0
