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
* **build_report** — the day's static HTML report under `reports/<ds>/index.html`.
* **build_ranker_samples** — the day's positives of users who were served candidates (published the night
  before) with 4 sampled negatives each (hard, popularity, uniform), joined with features as of ds - 1.

Every task is one job call with `ds` taken from the run's logical date; a task reads only partitions
`ds <= D` and writes only its own, so reruns and backfills (`airflow backfill create --dag-id
recpipe_nightly --from-date ... --to-date ...`) give the tables the daily runs gave.
Configuration comes from `RECPIPE_*` variables or the file named by `RECPIPE_CONFIG`.
"""
from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import dag

from recpipe.airflow_tasks import job_task


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
    ingested = job_task("ingest_events", "events")
    features = ingested >> job_task("build_sessions", "sessions") >> job_task("build_user_features", "user_features")
    stats = ingested >> job_task("build_item_stats", "item_popularity")
    active = ingested >> job_task("select_active_users", "active_users")
    candidates = active >> job_task("generate_candidates", "candidates")
    fallback = stats >> job_task("fallback_candidates", "fallback_candidates")
    # Labels from ds for the candidates published the night before; features as of ds - 1.
    samples = ingested >> job_task("build_ranker_samples", "ranker_samples")
    [features, candidates, fallback, samples] >> job_task("build_report")


recpipe_nightly()
