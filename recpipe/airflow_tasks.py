"""The task shapes every DAG uses, built from the stages in `recpipe.pipeline`.

A stage is a job's task, the validation of what it wrote and, for published tables, the publish task; each
task is one `recpipe.pipeline.run_task(step, ds)` call, and its outlets are the Assets it may emit (after
validation, or after publishing). Imported by the DAG files at parse time: only Airflow's SDK here, no
Spark, no I/O.
"""
from __future__ import annotations

from airflow.sdk import Asset, TriggerRule, task

from recpipe.pipeline import REPORT, STAGES, Step


def table_asset(table: str) -> Asset:
    return Asset(name=f"recpipe_{table}", uri=f"recpipe://lake/{table}")


def step_task(step: Step):
    """One task running `step` for the run's ds; a data-quality failure fails it without retries."""

    @task(task_id=step.name, outlets=[table_asset(t) for t in step.assets],
          trigger_rule=TriggerRule.ALL_DONE if step.always else TriggerRule.ALL_SUCCESS)
    def run_step(ds: str | None = None, run_id: str | None = None) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from recpipe.dq import DataQualityError
        from recpipe.pipeline import run_task

        try:
            return run_task(step.name, ds, run_id=run_id)
        except DataQualityError as exc:  # the data will not change on a retry
            raise AirflowFailException(str(exc)) from exc

    return run_step().operator


class Stage:
    """A job's tasks in a line (job >> validate >> publish ...), wired to other stages with `>>`."""

    def __init__(self, job: str):
        self.tasks = [step_task(s) for s in STAGES[job]]
        for a, b in zip(self.tasks, self.tasks[1:]):
            a >> b

    def __rshift__(self, other: "Stage | list[Stage]"):
        for o in other if isinstance(other, list) else [other]:
            self.tasks[-1] >> o.tasks[0]
        return other

    def __rrshift__(self, other: "list[Stage]"):
        for o in other:
            o.tasks[-1] >> self.tasks[0]
        return self


def finish(stages: list[Stage]) -> None:
    """The report after everything (also when something failed, to show it), and a watcher that fails the
    run when any task failed: a report that succeeded must not make a failed run look green."""
    report = Stage(REPORT.name)
    stages >> report

    @task(task_id="fail_run_if_a_task_failed", trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def watcher() -> None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("a task of this run failed; see its log and the run report")

    w = watcher().operator
    # Every task of the run: the report and everything upstream of it.
    seen, todo = {}, list(report.tasks)
    while todo:
        t = todo.pop()
        if t.task_id not in seen:
            seen[t.task_id] = t
            todo.extend(t.upstream_list)
    for t in seen.values():
        t >> w
