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
    ingested >> job_task("build_sessions", "sessions") >> job_task("build_user_features", "user_features")
    ingested >> job_task("build_item_stats", "item_popularity")
    ingested >> job_task("select_active_users", "active_users")


recpipe_nightly()
