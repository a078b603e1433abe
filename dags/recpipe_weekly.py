"""
### recpipe_weekly

Retrains the ALS embeddings for the week ending at the run's logical date and gates the new model.

* **build_interactions** — user-item strengths of the active users over the training window (90 landing
  days ending 7 days before ds; the last 7 days are the holdout): decayed carts/purchases, likes and
  dwell-weighted views.
* **train_als** — `implicit` ALS (its GPU build when a GPU is present; `als.backend=spark` for Spark
  MLlib) -> `user_factors`, `item_factors` and a `models` row for the week's model version.
* **evaluate_model** — NDCG, recall, precision, MAP, hit rate at 10/100/1000, coverage, exposure Gini,
  popularity bias, per segment, for the challenger, the popularity baseline and the champion, on the
  holdout -> `model_metrics`.
* **promote_model** — the gate: beat popularity on recall@1000 and hold up against the champion (recall@1000
  and NDCG@10 within tolerances) -> `models` status champion, shadow or rejected, with the reason.

* **generate_candidates** — the day's candidates again, from the champion as of ds (the new one if it was
  promoted).

* **validate_&lt;table&gt;** after every job, **publish_candidates** after the candidates' validation, the
  report also after a failure, and **fail_run_if_a_task_failed**, as in recpipe_nightly.

* **build_report** — the day's report again, now with the week's model metrics.

The chain reads only what was known at ds; a rerun of a week writes the same model version and factors.
`recpipe run weekly --ds D` runs the same chain without a scheduler. Needs the nightly partitions up to ds.
"""
from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import dag

from recpipe.airflow_tasks import Stage, finish


@dag(
    dag_id="recpipe_weekly",
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=10), "owner": "recpipe"},
    tags=["recpipe", "weekly", "model"],
    doc_md=__doc__,
)
def recpipe_weekly():
    model = (Stage("build_interactions") >> Stage("train_als") >> Stage("evaluate_model") >> Stage("promote_model")
             >> Stage("generate_candidates"))
    finish([model])


recpipe_weekly()
