"""
### recpipe_nightly

Turns one day of raw session logs into the lake's daily partitions.

* **ingest_events** — reads `landing/events/ds={{ ds }}`, validates every record against the `events`
  contract, quarantines rejected rows with a reason, drops duplicates, and replaces the `events`,
  `quarantine` and `ingest_audit` partitions for the day atomically.
* **build_sessions** — sessionizes the day's events (source session ids, else a 30-minute gap).
* **build_user_features** — browsing vs consumption features over 1/7/28 days, Beta-smoothed rates with
  priors fitted to the population, and the browser/buyer posterior `p_buyer`.
* **build_item_stats** — decayed item popularity and trend per segment (global, per device).
* **select_active_users** — users with 10+ interactions in the last 10 days, and the day's count/share.
* **generate_candidates** — top-1000 items per active user from the champion model, every active user
  folded in from today's history, purchased items excluded, a reason item for the first 10.
* **fallback_candidates** — popularity lists per segment for users without personal candidates.
* **build_ranker_samples** — the day's positives of users who were served candidates (published the night
  before) with 4 sampled negatives each (hard, popularity, uniform), joined with features as of ds - 1.
* **validate_&lt;table&gt;** after every job — the tables' expectations (Great Expectations checkpoint,
  volume, drift, candidate and sample checks) -> `dq_results` and Data Docs under `reports/gx`. An
  error-level failure fails the task (no retry) and nothing downstream runs; the Assets of the job's tables
  are emitted here, once they passed.
* **publish_candidates**, **publish_fallback_candidates**, **publish_ranker_samples** — the served tables
  are written to a staging area by their jobs and copied into place only after validation, so a broken
  partition never replaces what readers see.
* **build_report** — the day's static HTML report under `reports/<ds>/index.html`; runs also after a
  failure, to show it. **fail_run_if_a_task_failed** keeps such a run marked failed.

Every task is one job call with `ds` taken from the run's logical date; a task reads only partitions
`ds <= D` and writes only its own, so reruns and backfills (`airflow backfill create --dag-id
recpipe_nightly --from-date ... --to-date ...`) give the tables the daily runs gave.
Configuration comes from `RECPIPE_*` variables or the file named by `RECPIPE_CONFIG`.
"""
from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import dag

from recpipe.airflow_tasks import Stage, finish


@dag(
    dag_id="recpipe_nightly",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5), "owner": "recpipe"},
    tags=["recpipe", "nightly"],
    doc_md=__doc__,
)
def recpipe_nightly():
    ingested = Stage("ingest_events")
    features = ingested >> Stage("build_sessions") >> Stage("build_user_features")
    stats = ingested >> Stage("build_item_stats")
    active = ingested >> Stage("select_active_users")
    candidates = active >> Stage("generate_candidates")
    fallback = stats >> Stage("fallback_candidates")
    # Labels from ds for the candidates published the night before; features as of ds - 1.
    samples = ingested >> Stage("build_ranker_samples")
    finish([features, candidates, fallback, samples])


recpipe_nightly()
