"""The one task shape every DAG uses: a job call for the run's ds, publishing an Asset once it has written.

Imported by the DAG files at parse time: only Airflow's SDK here, no Spark, no I/O.
"""
from __future__ import annotations

from airflow.sdk import Asset, task


def table_asset(table: str) -> Asset:
    return Asset(name=f"recpipe_{table}", uri=f"recpipe://lake/{table}")


def job_task(job: str, *tables: str):
    """One task = one `recpipe.pipeline.run_task(job, ds)` call; outlets are the tables it writes."""

    @task(task_id=job, outlets=[table_asset(t) for t in tables])
    def run_job(ds: str | None = None) -> str:
        from recpipe.pipeline import run_task

        return run_task(job, ds)

    return run_job()
