"""The demo path at small scale: simulate, run recpipe_nightly and recpipe_weekly through Airflow, compare
every table with what `recpipe run` writes without a scheduler."""
from __future__ import annotations

import dataclasses
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from recpipe import pipeline
from recpipe.simulator import SimulationSpec, simulate_to_landing
from recpipe.storage import Lake
from recpipe.registry import champion_as_of
from recpipe.summary import lake_summary
from schemas import EVENTS, TABLES

ROOT = Path(__file__).resolve().parents[1]
DAYS = ["2026-11-01", "2026-11-02"]
NEED_MORE_DAYS = {"ranker_samples", "candidates", "candidate_metrics"}
# Written by `recpipe validate`, which the DAGs do not run yet.
NOT_WRITTEN_BY_THE_DAGS = {"dq_results"}


@pytest.mark.slow
def test_dags_through_airflow_equal_the_scheduler_free_chains(tmp_path, spark, cfg):
    landing = tmp_path / "landing"
    simulate_to_landing(SimulationSpec(users=600, items=300, days=2, seed=4, defect_rate=0.02), landing)
    # A one-day holdout lets the weekly chain train on day 1 and evaluate on day 2.
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "RECPIPE_SPARK_MASTER": "local[2]",
           "RECPIPE_SPARK_SHUFFLE_PARTITIONS": "2", "RECPIPE_EVALUATION__HOLDOUT_DAYS": "1"}
    bindir = Path(sys.executable).parent
    subprocess.run([str(bindir / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    af_lake = tmp_path / "lake_airflow"
    run = subprocess.run(
        [sys.executable, "-m", "recpipe.cli", "airflow-test", "recpipe_nightly", "--ds", DAYS[0], "--end", DAYS[-1],
         "--lake", str(af_lake), "--landing", str(landing), "--reports", str(tmp_path / "reports_airflow")],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"[2/2] recpipe_nightly ds={DAYS[1]} success" in run.stderr
    weekly = subprocess.run(
        [sys.executable, "-m", "recpipe.cli", "airflow-test", "recpipe_weekly", "--ds", DAYS[-1],
         "--lake", str(af_lake), "--landing", str(landing), "--reports", str(tmp_path / "reports_airflow")],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert weekly.returncode == 0, weekly.stdout[-3000:] + weekly.stderr[-3000:]
    assert f"[1/1] recpipe_weekly ds={DAYS[-1]} success" in weekly.stderr
    reports = tmp_path / "reports_airflow"
    assert all((reports / d / "index.html").exists() for d in DAYS) and (reports / "index.html").exists()

    with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as db:
        states = db.execute("select state from dag_run where dag_id='recpipe_nightly'").fetchall()
        tasks = db.execute("select task_id, state from task_instance where dag_id='recpipe_nightly'").fetchall()
    assert sorted(s for (s,) in states) == ["success", "success"]
    assert sorted(tasks) == sorted([(job, "success") for job in pipeline.CHAINS["nightly"]] * 2)

    with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as db:
        tasks = db.execute("select task_id, state from task_instance where dag_id='recpipe_weekly'").fetchall()
    assert sorted(tasks) == sorted((job, "success") for job in pipeline.CHAINS["weekly"])

    cli_cfg = dataclasses.replace(cfg, lake=str(tmp_path / "lake_cli"), landing=str(landing),
                                  evaluation=dataclasses.replace(cfg.evaluation, holdout_days=1))
    for ds in DAYS:
        lines = list(pipeline.run_chain("nightly", cli_cfg, ds))
        assert len(lines) == len(pipeline.CHAINS["nightly"])
    assert len(list(pipeline.run_chain("weekly", cli_cfg, DAYS[-1]))) == len(pipeline.CHAINS["weekly"])

    a, b = Lake(spark, af_lake), Lake(spark, cli_cfg.lake)
    promoted = champion_as_of(a, DAYS[-1]) is not None
    for spec in TABLES.values():
        if spec.name in NOT_WRITTEN_BY_THE_DAGS:
            assert not a.exists(spec) and not b.exists(spec), spec.name
            continue
        # raw_bytes is binary (not sortable as a tuple); train_seconds is a wall-clock measurement.
        cols = [c for c in spec.columns if c not in ("raw_bytes", "train_seconds")]
        rows_a = sorted(tuple(r) for r in a.read(spec).select(*cols).collect())
        rows_b = sorted(tuple(r) for r in b.read(spec).select(*cols).collect())
        assert rows_a == rows_b, spec.name
        # Two days are too few for samples (they need the previous night's candidates); candidates and their
        # metrics exist only if the week's model was promoted.
        if spec.name not in NEED_MORE_DAYS or (promoted and spec.name != "ranker_samples"):
            assert rows_a, spec.name

    text = lake_summary(dataclasses.replace(cfg, lake=str(af_lake)), spark)
    assert "quarantine by reason" in text and DAYS[1] in text and "model registry" in text
    n_events = a.read(EVENTS).count()
    assert re.search(rf"^total\s+{n_events}\s", text, re.M), text
