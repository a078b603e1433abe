"""generate_candidates and fallback_candidates: counts, exclusions, reasons, fold-in of new users, readers."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pyspark.sql import functions as F

from jobs import fallback_candidates, generate_candidates, select_active_users
from jobs.generate_candidates import drop_warnings, score_users
from recpipe import pipeline
from recpipe.metrics import candidate_report
from recpipe.als import build_matrix
from recpipe.config import CandidatesConfig
from recpipe.registry import champion_as_of, model_version_for
from schemas import ACTIVE_USERS, CANDIDATE_METRICS, CANDIDATES, EVENTS, FALLBACK_CANDIDATES, INTERACTIONS, item_popularity_spec
from tests.jobs.conftest import DS


def test_score_users_counts_exclusions_ranks_and_reasons():
    rng = np.random.default_rng(0)
    items = np.array([f"i{j:02d}" for j in range(30)], dtype=object)
    users = np.array(["a", "b", "c"], dtype=object)
    history = build_matrix(["a", "a", "a", "b"], ["i01", "i02", "i03", "i04"], [1.0, 2.0, 1.0, 3.0], users, items)
    bought = build_matrix(["a", "b"], ["i02", "i04"], [1.0, 1.0], users, items)
    vectors = rng.normal(size=(30, 4)).astype(np.float32)
    scored = score_users(history, bought, vectors, alpha=5.0, regularization=0.1,
                         cfg=CandidatesConfig(k=25, reason_ranks=3))
    out = scored.frame
    assert list(scored.user_ids) == ["a", "b"] and scored.lists.shape == (2, 25)
    counts = out.groupby("user_id").size().to_dict()
    assert counts == {"a": 25, "b": 25}            # c has no history: it falls back
    small = score_users(history, bought, vectors, alpha=5.0, regularization=0.1, cfg=CandidatesConfig(k=100)).frame
    assert small.groupby("user_id").size().to_dict() == {"a": 29, "b": 29}   # catalogue less the purchase
    assert not {("a", "i02"), ("b", "i04")} & set(zip(out["user_id"], out["item_id"]))
    for _, g in out.groupby("user_id"):
        assert g["rank"].tolist() == list(range(1, 26))
        assert (np.diff(g["score"].to_numpy()) <= 0).all()
    a = out[out["user_id"] == "a"]
    assert set(a.loc[a["rank"] <= 3, "reason_item_id"]) <= {"i01", "i02", "i03"}
    assert a.loc[a["rank"] > 3, "reason_item_id"].isna().all()
    assert (out.loc[(out["user_id"] == "b") & (out["rank"] <= 3), "reason_item_id"] == "i04").all()


def test_drop_warnings_fire_only_beyond_the_threshold():
    yesterday = [{"segment": "all", "metric": "coverage", "k": 100, "value": 0.50},
                 {"segment": "all", "metric": "top_decile_unique_items", "k": 100, "value": 400.0},
                 {"segment": "type:buyer", "metric": "coverage", "k": 100, "value": 0.9}]
    today = [{"segment": "all", "metric": "coverage", "k": 100, "value": 0.41},
             {"segment": "all", "metric": "top_decile_unique_items", "k": 100, "value": 300.0},
             {"segment": "type:buyer", "metric": "coverage", "k": 100, "value": 0.1}]
    warnings = drop_warnings(today, yesterday, 0.2)
    assert len(warnings) == 1 and warnings[0].startswith("top_decile_unique_items@100 fell from 400")
    assert drop_warnings(today, [], 0.2) == []


def test_candidate_report_by_hand():
    lists = np.array([[0, 1, 2, -1], [0, 3, 1, 2]])
    pop = np.array([10.0, 5.0, 1.0, 0.0, 4.0])      # mean 4
    segs = {"all": np.array([True, True]), "type:buyer": np.array([False, True])}
    r = {(x["segment"], x["metric"], x["k"]): x["value"] for x in candidate_report(lists, pop, segs, ks=(2, 4))}
    assert r[("all", "coverage", 2)] == pytest.approx(3 / 5)
    assert r[("all", "popularity_lift", 2)] == pytest.approx((10 + 5 + 10 + 0) / 4 / 4)
    assert r[("type:buyer", "popularity_lift", 4)] == pytest.approx((10 + 0 + 5 + 1) / 4 / 4)
    assert r[("all", "top_decile_unique_items", 1)] == 1.0


@pytest.fixture(scope="module")
def published(week, spark):
    """The jobs' own outputs (in the staging area); the fallback lists also validated and published (the
    weekly chain of the `week` fixture has published the candidates)."""
    cfg, lake, world, lines = week
    out = cfg, lake, generate_candidates.run(cfg, DS, spark), fallback_candidates.run(cfg, DS, spark)
    for step in ("validate_fallback_candidates", "publish_fallback_candidates"):
        pipeline.run_task(step, DS, cfg)
    return out


def test_every_active_user_with_history_gets_k_unpurchased_candidates(published):
    cfg, lake, summary, _ = published
    cands = lake.staging().read(CANDIDATES, DS, DS)
    assert summary.model_version == champion_as_of(lake, DS)["model_version"] == model_version_for(cfg, DS)
    per_user = {r["user_id"]: r["n"] for r in cands.groupBy("user_id").agg(F.count(F.lit(1)).alias("n")).collect()}
    active = {r["user_id"] for r in lake.read(ACTIVE_USERS, DS, DS).collect()}
    assert set(per_user) <= active and len(per_user) == summary.scored > 0.9 * len(active)
    assert set(per_user.values()) == {cfg.candidates.k}   # the catalogue (1,982 items) exceeds K
    window = lake.read(EVENTS, dt.date(2026, 8, 17), DS)
    bought = window.where(F.col("event_type") == "purchase").select("user_id", "item_id").distinct()
    assert cands.join(bought, ["user_id", "item_id"]).count() == 0
    assert cands.where(F.col("rank") <= cfg.candidates.reason_ranks).where(F.col("reason_item_id").isNull()).count() == 0
    metrics = lake.read(CANDIDATE_METRICS, DS, DS).toPandas()
    segs = set(metrics["segment"])
    assert {"all", "type:buyer", "type:browser"} <= segs and any(s.startswith("device:") for s in segs)
    allm = metrics[metrics["segment"] == "all"].set_index(["metric", "k"])["value"]
    assert allm[("coverage", 10)] <= allm[("coverage", 100)] <= allm[("coverage", 1000)] <= 1.0
    assert metrics[metrics["segment"] == "all"]["users"].iloc[0] == summary.scored


def test_a_user_who_becomes_active_after_training_gets_candidates_that_night(published):
    cfg, lake, _, _ = published
    trained = {r["user_id"] for r in lake.read(INTERACTIONS, DS, DS).select("user_id").distinct().collect()}
    active_now = {r["user_id"] for r in lake.read(ACTIVE_USERS, DS, DS).collect()}
    newcomers = active_now - trained
    assert newcomers, "the simulation should have users who became active after the training cutoff"
    got = {r["user_id"] for r in lake.staging().read(CANDIDATES, DS, DS).select("user_id").distinct().collect()}
    assert len(newcomers & got) >= 0.9 * len(newcomers)


def test_without_a_champion_the_partition_is_empty_and_everyone_falls_back(published, spark):
    cfg, lake, _, _ = published
    before = "2026-11-13"   # the first champion is promoted on DS
    select_active_users.run(cfg, before, spark)
    summary = generate_candidates.run(cfg, before, spark)
    assert summary.model_version is None and summary.active > 0
    assert lake.staging().read(CANDIDATES, before, before).count() == 0


def test_fallback_lists_follow_item_popularity(published):
    cfg, lake, _, fb = published
    pop = lake.read(item_popularity_spec(cfg.item_stats.windows), DS, DS)
    segments = {r["segment"] for r in pop.select("segment").distinct().collect()}
    rows = lake.staging().read(FALLBACK_CANDIDATES, DS, DS)
    assert fb.segments == len(segments) and "global" in segments
    top = {r["item_id"] for r in pop.where((F.col("segment") == "global") & (F.col("rank") <= 5)).collect()}
    assert {r["item_id"] for r in rows.where((F.col("segment") == "global") & (F.col("rank") <= 5)).collect()} == top
    assert rows.groupBy("segment").count().where(F.col("count") > cfg.candidates.k).count() == 0


def test_published_tables_read_with_delta_rs_as_a_downstream_service_would(published):
    from deltalake import DeltaTable

    cfg, lake, summary, fallback = published
    cands = DeltaTable(lake.path(CANDIDATES)).to_pyarrow_table(
        partitions=[("as_of", "=", DS)]).to_pandas()
    assert len(cands) == summary.rows and cands["user_id"].nunique() == summary.scored
    fb = DeltaTable(lake.path(FALLBACK_CANDIDATES)).to_pyarrow_table().to_pandas()
    assert len(fb) == fallback.rows
    assert set(fb["source"]) == {"popularity"} and (fb["rank"] >= 1).all()
    user = cands["user_id"].iloc[0]
    mine = cands[cands["user_id"] == user].sort_values("rank")
    assert mine["rank"].tolist() == list(range(1, cfg.candidates.k + 1))
