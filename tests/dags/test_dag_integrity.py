"""DAG integrity: the files import cleanly, carry docs, tags and retries, and do no work at parse time."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    import os

    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow")))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"recpipe_nightly", "recpipe_weekly"} <= set(dagbag.dag_ids)


def test_nightly_dag_shape(dagbag):
    from recpipe.pipeline import CHAINS

    dag = dagbag.dags["recpipe_nightly"]
    assert dag.doc_md and all(job in dag.doc_md for job in CHAINS["nightly"])
    assert {"recpipe", "nightly"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup
    assert [t.task_id for t in dag.tasks][0] == "ingest_events"
    for t in dag.tasks:
        assert t.retries >= 1, t.task_id
    chain = list(CHAINS["nightly"])
    assert sorted(dag.task_ids) == sorted(chain)
    for t in dag.tasks:  # the scheduler-free chain runs every task after its upstream tasks
        assert all(chain.index(u) < chain.index(t.task_id) for u in t.upstream_task_ids), t.task_id
    assert dag.get_task("build_user_features").upstream_task_ids == {"build_sessions"}
    assert dag.get_task("build_sessions").upstream_task_ids == {"ingest_events"}
    assert [o.name for o in dag.get_task("ingest_events").outlets] == ["recpipe_events"]
    assert [o.name for o in dag.get_task("build_user_features").outlets] == ["recpipe_user_features"]


def test_weekly_dag_shape(dagbag):
    from recpipe.pipeline import CHAINS

    dag = dagbag.dags["recpipe_weekly"]
    assert dag.doc_md and all(job in dag.doc_md for job in CHAINS["weekly"])
    assert {"recpipe", "weekly"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup and all(t.retries >= 1 for t in dag.tasks)
    chain = list(CHAINS["weekly"])
    assert sorted(dag.task_ids) == sorted(chain)
    for up, down in zip(chain, chain[1:]):   # a strict line: each job needs the one before
        assert dag.get_task(down).upstream_task_ids == {up}
    assert sorted(o.name for o in dag.get_task("train_als").outlets) == ["recpipe_item_factors",
                                                                        "recpipe_user_factors"]
    assert [o.name for o in dag.get_task("promote_model").outlets] == ["recpipe_models"]


def test_dag_files_import_no_spark_and_do_no_io(tmp_path):
    code = (
        "import sys, runpy, builtins\n"
        "opened = []\n"
        "real_open = builtins.open\n"
        "def spy(f, *a, **k):\n"
        "    opened.append(str(f)); return real_open(f, *a, **k)\n"
        f"for p in {sorted(str(p) for p in DAGS.glob('*.py'))!r}:\n"
        "    builtins.open = spy\n"
        "    try: runpy.run_path(p)\n"
        "    finally: builtins.open = real_open\n"
        "print('pyspark' in sys.modules, any('lake' in f or 'landing' in f for f in opened))\n"
    )
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"
