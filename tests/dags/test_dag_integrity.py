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
    assert "recpipe_nightly" in dagbag.dag_ids


def test_nightly_dag_shape(dagbag):
    dag = dagbag.dags["recpipe_nightly"]
    assert dag.doc_md and "ingest_events" in dag.doc_md
    assert {"recpipe", "nightly"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup
    assert [t.task_id for t in dag.tasks][0] == "ingest_events"
    for t in dag.tasks:
        assert t.retries >= 1, t.task_id
    from recpipe.pipeline import CHAINS

    assert [t.task_id for t in dag.topological_sort()] == list(CHAINS["nightly"])
    ingest = dag.get_task("ingest_events")
    assert [o.name for o in ingest.outlets] == ["recpipe_events"]


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
