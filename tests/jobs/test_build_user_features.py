from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pyspark.sql import functions as F

from jobs import build_sessions, build_user_features
from jobs.build_user_features import aggregate_events, buyer_posterior_column, smoothed
from recpipe.simulator import SimulationSpec, World
from recpipe.simulator.lake import events_frame, write_simulated_events
from recpipe.stats import BetaPrior, beta_posterior, buyer_posterior, fit_type_mixture
from recpipe.truth import feature_truth_report
from recpipe.storage import Lake
from schemas import EVENTS, POPULATION_MODELS, USER_FEATURES
from tests.jobs.helpers import ev, events_df

D = dt.date(2026, 11, 28)


def test_window_counts_follow_landing_days(spark):
    rows = [
        ev("e1", "u1", "i1", "view", "2026-11-28T10:00:00", dwell=10.0, category="a"),
        ev("e2", "u1", "i2", "view", "2026-11-25T10:00:00", dwell=30.0, category="b"),
        ev("e3", "u1", "i2", "add_to_cart", "2026-11-25T10:01:00"),
        ev("e4", "u1", "i3", "view", "2026-11-10T10:00:00", dwell=50.0, category="b"),
        ev("e5", "u1", "i3", "view", "2026-10-31T10:00:00", dwell=70.0),        # 28 days back: outside
        ev("e6", "u1", "i4", "view", "2026-11-27T23:00:00", ds="2026-11-28"),  # landed on D: inside 1d
        ev("e7", "u1", "i9", "view", "2026-11-29T10:00:00"),                    # after D: never read
    ]
    [r] = aggregate_events(events_df(spark, rows), D, (1, 7, 28)).collect()
    assert (r["views_1d"], r["views_7d"], r["views_28d"]) == (2, 3, 4)
    assert (r["distinct_items_7d"], r["distinct_categories_28d"]) == (3, 3)  # a, b and e6's c1
    assert (r["carts_1d"], r["carts_7d"]) == (0, 1)
    assert r["dwell_total_28d"] == 90.0 and r["dwell_median_7d"] == 20.0  # exact median of 10 and 30
    assert r["events_28d"] == 5 and r["last_event_ts"] == dt.datetime(2026, 11, 28, 10, 0)


def test_spark_expressions_match_the_numpy_models(spark):
    prior = BetaPrior(1.5, 12.0, 100, "test")
    n, k = [0, 1, 5, 40], [0, 1, 2, 9]
    df = spark.createDataFrame(list(zip(n, k)), "n long, k long")
    mean, width = smoothed(F.col("n"), F.col("k"), prior)
    got = df.select(mean.alias("m"), width.alias("w")).collect()
    exp_m, exp_w = beta_posterior(n, k, prior)
    assert np.allclose([r["m"] for r in got], exp_m) and np.allclose([r["w"] for r in got], exp_w)

    rng = np.random.default_rng(0)
    stats = {"views": rng.integers(0, 50, 200), "sessions": rng.integers(1, 6, 200)}
    stats["carts"] = rng.binomial(stats["views"], 0.1)
    stats["purchases"] = rng.binomial(stats["carts"], 0.4)
    stats["dwell_n"] = stats["views"]
    stats["dwell_log_sum"] = stats["views"] * rng.normal(3, 0.4, 200)
    stats["dwell_log_sq"] = stats["dwell_log_sum"] ** 2 / np.maximum(stats["views"], 1) + stats["views"] * 0.3
    m = fit_type_mixture(stats)
    rows = [tuple(int(stats[c][i]) for c in ("views", "carts", "purchases", "sessions", "dwell_n"))
            + (float(stats["dwell_log_sum"][i]), float(stats["dwell_log_sq"][i])) for i in range(200)]
    sdf = spark.createDataFrame(rows, "views_28d long, carts_28d long, purchases_28d long, sessions_28d long, "
                                      "_dwell_n long, _dwell_log_sum double, _dwell_log_sq double")
    got = [r[0] for r in sdf.select(buyer_posterior_column(m, 28)).collect()]
    assert np.allclose(got, buyer_posterior(stats, m), atol=1e-9)


@pytest.fixture(scope="module")
def simulated(spark, tmp_path_factory):
    """28 simulated days straight into a temporary lake, sessions built, features for the last day."""
    from recpipe.config import load_config

    root = tmp_path_factory.mktemp("features")
    cfg = load_config(overrides={"lake": str(root / "lake"), "landing": str(root / "landing")}, environ={})
    world = World(SimulationSpec(users=2500, items=1500, days=29, seed=21))
    lake = Lake(spark, cfg.lake)
    write_simulated_events(lake, world, range(28))
    build_sessions.run_range(cfg, world.day(0), world.day(27), spark)
    summary = build_user_features.run(cfg, D, spark)
    return cfg, world, lake, summary


def test_features_recover_the_simulators_ground_truth(simulated):
    cfg, world, lake, summary = simulated
    f = lake.read(USER_FEATURES, D, D).toPandas()
    report = feature_truth_report(f, world.ground_truth()["users"])
    assert summary.users == report["users"] == len(f) > 1000
    assert report["type_auc"] >= 0.9, report
    assert report["view_to_cart_corr_smoothed"] >= 0.6, report
    assert report["view_to_cart_corr_smoothed"] > report["view_to_cart_corr_raw"], report
    # Smoothed rates stay strictly inside (0, 1) and are never the raw 0% / 100% of thin evidence.
    assert f["view_to_cart_28d"].between(0, 1, inclusive="neither").all()
    thin = f[(f["views_28d"] == 1) & (f["carts_28d"] == 1)]
    assert (thin["view_to_cart_28d"] < 0.6).all()


def test_population_models_are_recorded(simulated):
    cfg, world, lake, summary = simulated
    models = {r["model"]: r for r in lake.read(POPULATION_MODELS, D, D).collect()}
    assert set(models) == {f"beta:{r}_{w}d" for r in ("view_to_cart", "cart_to_purchase") for w in (1, 7, 28)} \
        | {"type_mixture"}
    assert models["type_mixture"]["n_users"] == summary.users


def test_point_in_time_a_later_partition_changes_nothing_for_d(simulated, spark):
    cfg, world, lake, _ = simulated
    before = sorted(tuple(r) for r in lake.read(USER_FEATURES, D, D).collect())
    later = spark.createDataFrame(events_frame(world, 28), schema=EVENTS.schema)   # day D+1 lands
    lake.write_partition(later, EVENTS, world.day(28))
    build_sessions.run(cfg, world.day(28), spark)
    build_user_features.run(cfg, D, spark)
    after = sorted(tuple(r) for r in lake.read(USER_FEATURES, D, D).collect())
    assert before == after
