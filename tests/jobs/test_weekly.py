"""The weekly chain on the default simulation: first champion, truth recovery, reruns, the gate, backends."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from jobs import evaluate_model, promote_model, train_als
from recpipe import pipeline
from recpipe.als import build_matrix
from recpipe.registry import champion_as_of, model_version_for, train_window
from recpipe.truth import item_similarity_correlation
from schemas import INTERACTIONS, ITEM_FACTORS, MODEL_METRICS, MODELS, USER_FACTORS
from tests.jobs.conftest import DS


def _metrics(lake, version, role, segment="all"):
    rows = (lake.read(MODEL_METRICS, DS, DS)
            .where((F.col("challenger_version") == version) & (F.col("role") == role) & (F.col("segment") == segment))
            .collect())
    return {f"{r['metric']}@{r['k']}": r["value"] for r in rows}


def test_first_week_promotes_a_champion_that_recovers_the_simulated_truth(week):
    cfg, lake, world, lines = week
    version = model_version_for(cfg, DS)
    assert len(lines) == len(pipeline.CHAINS["weekly"])
    assert f"{version} -> champion" in next(line for line in lines if line.startswith("promote_model"))
    row = lake.read(MODELS, DS, DS).where(F.col("model_version") == version).first()
    assert row["status"] == "champion" and row["reason"].startswith("first model")
    assert champion_as_of(lake, DS)["model_version"] == version
    assert champion_as_of(lake, "2026-11-13") is None  # not known before its week
    als, pop = _metrics(lake, version, "challenger"), _metrics(lake, version, "baseline")
    assert als["ndcg@10"] >= 2 * pop["ndcg@10"], (als, pop)
    assert als["recall@1000"] > pop["recall@1000"]
    # Every metric at every k, for the challenger and the baseline, overall and per segment.
    segs = {r["segment"] for r in lake.read(MODEL_METRICS, DS, DS).select("segment").distinct().collect()}
    assert {"all", "type:buyer", "type:browser"} <= segs and any(s.startswith("device:") for s in segs)
    assert len(als) == 9 * len(cfg.evaluation.ks)
    # The learned item similarities follow the simulator's true item vectors.
    f = lake.read(ITEM_FACTORS).where(F.col("model_version") == version).toPandas()
    true = world.item_vectors[f["item_id"].str[1:].astype(int).to_numpy()]
    assert item_similarity_correlation(np.stack(f["factors"].to_numpy()), true) > 0.3


def test_rerun_of_the_week_writes_the_same_version_and_factors(week, spark):
    cfg, lake, _, _ = week
    version = model_version_for(cfg, DS)

    def snapshot():
        return [sorted((r[1], r[2], tuple(r[3])) for r in lake.read(spec).where(F.col("model_version") == version)
                       .collect()) for spec in (USER_FACTORS, ITEM_FACTORS)]

    before = snapshot()
    summary = train_als.run(cfg, DS, spark)
    assert summary.model_version == version
    assert snapshot() == before
    assert lake.read(MODELS, DS, DS).where(F.col("model_version") == version).count() == 1
    # The registry row went back to "trained" until the gate runs again; the gate then decides the same.
    assert promote_model.run(cfg, DS, spark).decision.status == "champion"


def test_a_model_trained_on_shuffled_interactions_is_not_promoted(week, spark):
    cfg, lake, _, _ = week
    champion = model_version_for(cfg, DS)
    inter = lake.read(INTERACTIONS, DS, DS).select("user_id", "item_id", "strength").toPandas()
    rng = np.random.default_rng(0)
    shuffled = build_matrix(inter["user_id"], rng.permutation(inter["item_id"].to_numpy()), inter["strength"])
    version = "shuffled-20261114"
    factors = train_als.train(shuffled, cfg.als, seed=1, backend="implicit")
    start, end = train_window(cfg, DS)
    train_als.store_model(lake, version, shuffled, factors, ds=pd.Timestamp(DS).date(), train_start=start,
                          train_end=end, params={"als": dataclasses.asdict(cfg.als)}, backend="implicit")
    evaluate_model.run(cfg, DS, spark, model_version=version)
    decision = promote_model.run(cfg, DS, spark, model_version=version).decision
    assert decision.status in ("rejected", "shadow") and decision.status != "champion"
    # It was compared with the real champion, which keeps its place.
    assert _metrics(lake, version, "champion")["ndcg@10"] > _metrics(lake, version, "challenger")["ndcg@10"]
    assert champion_as_of(lake, DS)["model_version"] == champion


def test_spark_backend_writes_the_same_tables_and_learns(week, spark):
    cfg, lake, _, _ = week
    cfg = dataclasses.replace(cfg, als=dataclasses.replace(cfg.als, backend="spark"))
    summary = train_als.run(cfg, DS, spark)
    assert summary.model_version.startswith("spark-") and summary.device == "spark"
    users = lake.read(USER_FACTORS).where(F.col("model_version") == summary.model_version)
    n_inter_users = lake.read(INTERACTIONS, DS, DS).select("user_id").distinct().count()
    assert users.count() == n_inter_users
    assert users.select(F.size("factors").alias("n")).distinct().collect()[0]["n"] == cfg.als.factors
    evaluate_model.run(cfg, DS, spark)
    spark_als = _metrics(lake, summary.model_version, "challenger")
    pop = _metrics(lake, summary.model_version, "baseline")
    assert spark_als["ndcg@10"] > pop["ndcg@10"], (spark_als, pop)


def test_tune_scores_a_setting_exactly_as_the_weekly_evaluation_does(week, spark):
    from recpipe.tune import Grid, run_tune

    cfg, lake, _, _ = week
    a = cfg.als
    w = cfg.interactions
    grid = Grid(weights=((w.weight_transact, w.weight_like, w.weight_view),), alpha=(a.alpha,),
                factors=(a.factors,), regularization=(a.regularization,))
    table = run_tune(cfg, DS, grid, progress=lambda line: None)
    als_row = table[table["model"] == "als"].iloc[0]
    pop_row = table[table["model"] == "popularity"].iloc[0]
    version = model_version_for(cfg, DS)
    # The configured setting, trained with the job's seed: the same figures the job wrote.
    assert als_row["ndcg@10"] == pytest.approx(_metrics(lake, version, "challenger")["ndcg@10"], abs=1e-6)
    assert als_row["recall@1000"] == pytest.approx(_metrics(lake, version, "challenger")["recall@1000"], abs=1e-6)
    assert pop_row["ndcg@10"] == pytest.approx(_metrics(lake, version, "baseline")["ndcg@10"], abs=1e-6)
