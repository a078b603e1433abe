"""
### recpipe_nightly

Turns one day of raw session logs into the lake's daily partitions.

* **ingest_events** — reads `landing/events/ds={{ ds }}`, validates every record against the `events`
  contract, quarantines rejected rows with a reason, drops duplicates, and replaces the `events`,
  `quarantine` and `ingest_audit` partitions for the day atomically.

Every task is one job call with `ds` taken from the run's logical date; a task reads only partitions
`ds <= D` and writes only its own, so reruns and backfills (`airflow backfill create --dag-id
recpipe_nightly --from-date ... --to-date ...`) give the tables the daily runs gave.
Configuration comes from `RECPIPE_*` variables or the file named by `RECPIPE_CONFIG`.
"""
from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Asset, dag, task

EVENTS = Asset(name="recpipe_events", uri="recpipe://lake/events")


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
    @task(outlets=[EVENTS])
    def ingest_events(ds: str | None = None) -> str:
        from recpipe.pipeline import run_task

        return run_task("ingest_events", ds)

    ingest_events()


recpipe_nightly()
