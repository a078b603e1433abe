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


WATCHER = "fail_run_if_a_task_failed"


def _chain(name):
    from recpipe.pipeline import CHAINS

    return [s.name for s in CHAINS[name]]


def test_nightly_dag_shape(dagbag):
    from recpipe.pipeline import JOBS

    dag = dagbag.dags["recpipe_nightly"]
    assert dag.doc_md and all(job in dag.doc_md for job in JOBS["nightly"])
    assert {"recpipe", "nightly"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup
    assert [t.task_id for t in dag.tasks][0] == "ingest_events"
    for t in dag.tasks:
        assert t.retries >= 1 or t.task_id == WATCHER, t.task_id
    chain = _chain("nightly")
    assert sorted(dag.task_ids) == sorted(chain + [WATCHER])
    for t in dag.tasks:  # the scheduler-free chain runs every task after its upstream tasks
        if t.task_id != WATCHER:
            assert all(chain.index(u) < chain.index(t.task_id) for u in t.upstream_task_ids), t.task_id
    # Every job is validated before anything downstream runs; its tables' Assets come from the validation.
    assert dag.get_task("validate_events").upstream_task_ids == {"ingest_events"}
    assert dag.get_task("build_sessions").upstream_task_ids == {"validate_events"}
    assert dag.get_task("build_user_features").upstream_task_ids == {"validate_sessions"}
    assert dag.get_task("ingest_events").outlets == []
    assert sorted(o.name for o in dag.get_task("validate_events").outlets) == [
        "recpipe_events", "recpipe_ingest_audit", "recpipe_quarantine"]
    # Published tables: staged by the job, validated, then served with their Asset.
    assert dag.get_task("publish_candidates").upstream_task_ids == {"validate_candidates"}
    assert [o.name for o in dag.get_task("validate_candidates").outlets] == ["recpipe_candidate_metrics"]
    assert [o.name for o in dag.get_task("publish_candidates").outlets] == ["recpipe_candidates"]
    _report_and_watcher(dag)


def _report_and_watcher(dag):
    from airflow.sdk import TriggerRule

    report, watcher = dag.get_task("build_report"), dag.get_task(WATCHER)
    assert report.trigger_rule == TriggerRule.ALL_DONE       # the report shows a failed run too
    assert watcher.trigger_rule == TriggerRule.ONE_FAILED and watcher.retries == 0
    assert watcher.upstream_task_ids == set(dag.task_ids) - {WATCHER} and not watcher.downstream_task_ids
    assert all(t.trigger_rule == TriggerRule.ALL_SUCCESS for t in dag.tasks if t.task_id not in (report.task_id, WATCHER))


def test_weekly_dag_shape(dagbag):
    from recpipe.pipeline import JOBS

    dag = dagbag.dags["recpipe_weekly"]
    assert dag.doc_md and all(job in dag.doc_md for job in JOBS["weekly"])
    assert {"recpipe", "weekly"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup and all(t.retries >= 1 for t in dag.tasks if t.task_id != WATCHER)
    chain = _chain("weekly")
    assert sorted(dag.task_ids) == sorted(chain + [WATCHER])
    for up, down in zip(chain, chain[1:]):   # a strict line: each step needs the one before
        assert dag.get_task(down).upstream_task_ids == {up}
    assert sorted(o.name for o in dag.get_task("validate_user_factors").outlets) == ["recpipe_item_factors",
                                                                                    "recpipe_user_factors"]
    assert [o.name for o in dag.get_task("validate_models").outlets] == ["recpipe_models"]
    _report_and_watcher(dag)


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
