"""The chains of jobs behind each DAG, callable without a scheduler.

The DAG tasks and `recpipe run` call the same `run_task`, so a day run by Airflow and a day run from the
command line execute identical code. Nothing here imports Spark at module level: DAG files import this
module while Airflow parses them.
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Iterator

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Step:
    """One task of a chain.

    kind "job": `jobs.<name>.run(cfg, ds)`, writing `tables` (those in PUBLISHED to the staging area);
    kind "validate": the data-quality checks of `tables` for ds (`jobs.validate`); the Assets of the
    unpublished ones are emitted here, once they passed; kind "publish": copies the validated staging
    partition of `tables[0]` into the served table (`jobs.publish`) and emits its Asset.
    `always` steps run even when an earlier step failed (the report shows the failure).
    """

    name: str
    kind: str
    tables: tuple[str, ...] = ()
    always: bool = False

    @property
    def assets(self) -> tuple[str, ...]:
        if self.kind == "publish":
            return self.tables
        if self.kind == "validate":
            return tuple(t for t in self.tables if t not in PUBLISHED)
        return ()


# Tables consumers read: written to staging by their job, served only after validation.
PUBLISHED = ("candidates", "fallback_candidates", "ranker_samples")


def stage(job: str, *tables: str) -> tuple[Step, ...]:
    """A job, the validation of the tables it writes, and the publishing of the published ones."""
    steps = [Step(job, "job", tables)]
    if tables:
        steps.append(Step(f"validate_{tables[0]}", "validate", tables))
    steps += [Step(f"publish_{t}", "publish", (t,)) for t in tables if t in PUBLISHED]
    return tuple(steps)


REPORT = Step("build_report", "job", always=True)

# Each job's stage: its step, its validation, its publishing.
STAGES: dict[str, tuple[Step, ...]] = {s[0].name: s for s in (
    stage("ingest_events", "events", "quarantine", "ingest_audit"),
    stage("build_sessions", "sessions"),
    stage("build_user_features", "user_features", "population_models"),
    stage("build_item_stats", "item_popularity"),
    stage("select_active_users", "active_users", "active_user_counts"),
    stage("generate_candidates", "candidates", "candidate_metrics"),
    stage("fallback_candidates", "fallback_candidates"),
    stage("build_ranker_samples", "ranker_samples"),
    stage("build_interactions", "interactions"),
    stage("train_als", "user_factors", "item_factors"),
    stage("evaluate_model", "model_metrics"),
    stage("promote_model", "models"),
    (REPORT,),
)}

# Each chain lists its stages in dependency order; the DAG files wire the same stages (in parallel where
# they can), and the scheduler-free chain runs them in this order.
JOBS: dict[str, tuple[str, ...]] = {
    "nightly": ("ingest_events", "build_sessions", "build_user_features", "build_item_stats",
                "select_active_users", "generate_candidates", "fallback_candidates", "build_ranker_samples",
                "build_report"),
    "weekly": ("build_interactions", "train_als", "evaluate_model", "promote_model", "generate_candidates",
               "build_report"),
}
CHAINS: dict[str, tuple[Step, ...]] = {name: tuple(s for job in jobs for s in STAGES[job])
                                       for name, jobs in JOBS.items()}
STEPS: dict[str, Step] = {s.name: s for steps in STAGES.values() for s in steps}


def date_range(start: str | dt.date, end: str | dt.date) -> list[str]:
    from recpipe.storage import parse_ds

    a, b = parse_ds(start), parse_ds(end)
    if b < a:
        raise ValueError(f"range end {b} is before its start {a}")
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def run_task(name: str, ds: str | None, cfg=None, run_id: str | None = None) -> str:
    """Run one step for one ds with the configuration from file/environment; return its summary line."""
    from recpipe.config import load_config

    if not ds:
        raise ValueError(f"{name}: no ds given; the run needs a logical date")
    step = STEPS.get(name)
    if step is None:
        raise ValueError(f"unknown step {name!r}; known: {sorted(STEPS)}")
    cfg = cfg or load_config()
    t0 = time.perf_counter()
    if step.kind == "job":
        summary = importlib.import_module(f"jobs.{name}").run(cfg, ds)
    elif step.kind == "validate":
        from jobs import validate

        summary = validate.run(cfg, ds, step.tables, run_id=run_id or f"{name}-{ds}-{uuid.uuid4().hex[:8]}")
    else:
        from jobs import publish

        summary = publish.run(cfg, ds, step.tables[0])
    line = f"{summary} [{time.perf_counter() - t0:.1f}s]"
    log.info("%s", line)
    return line


def run_chain(name: str, cfg, ds: str, run_id: str | None = None, start: str | None = None) -> Iterator[str]:
    """Run a chain's steps in order (from step `start`, to resume a failed run). After a failure only the
    `always` steps run (the report), then the failure is raised: nothing downstream of a failed check is
    published."""
    if name not in CHAINS:
        raise ValueError(f"unknown chain {name!r}; known: {sorted(CHAINS)}")
    steps = CHAINS[name]
    if start is not None:
        names = [s.name for s in steps]
        if start not in names:
            raise ValueError(f"chain {name} has no step {start!r}; its steps: {names}")
        steps = steps[names.index(start):]
    run_id = run_id or f"{name}-{ds}-{uuid.uuid4().hex[:8]}"
    failure: Exception | None = None
    for step in steps:
        if failure is not None and not step.always:
            log.warning("%s ds=%s: skipped after the failure above", step.name, ds)
            continue
        try:
            yield run_task(step.name, ds, cfg, run_id=run_id)
        except Exception as exc:  # the report still runs; the failure is raised at the end
            if failure is not None:
                raise
            log.error("%s ds=%s failed: %s", step.name, ds, exc)
            failure = exc
    if failure is not None:
        raise failure
