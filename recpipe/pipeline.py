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
from typing import Iterator

log = logging.getLogger(__name__)

# Each chain lists its jobs in dependency order; each job is a module `jobs.<name>` with `run(cfg, ds)`.
CHAINS: dict[str, tuple[str, ...]] = {
    "nightly": ("ingest_events", "build_sessions", "build_user_features", "build_item_stats",
                "select_active_users", "generate_candidates", "fallback_candidates", "build_ranker_samples", "build_report"),
    "weekly": ("build_interactions", "train_als", "evaluate_model", "promote_model", "generate_candidates",
               "build_report"),
}


def date_range(start: str | dt.date, end: str | dt.date) -> list[str]:
    from recpipe.storage import parse_ds

    a, b = parse_ds(start), parse_ds(end)
    if b < a:
        raise ValueError(f"range end {b} is before its start {a}")
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def run_task(job: str, ds: str | None, cfg=None) -> str:
    """Run one job for one ds with the configuration from file/environment; return its summary line."""
    from recpipe.config import load_config

    if not ds:
        raise ValueError(f"{job}: no ds given; the run needs a logical date")
    if not any(job in chain for chain in CHAINS.values()):
        raise ValueError(f"unknown job {job!r}; known: {sorted({j for c in CHAINS.values() for j in c})}")
    cfg = cfg or load_config()
    module = importlib.import_module(f"jobs.{job}")
    t0 = time.perf_counter()
    summary = module.run(cfg, ds)
    line = f"{summary} [{time.perf_counter() - t0:.1f}s]"
    log.info("%s", line)
    return line


def run_chain(name: str, cfg, ds: str) -> Iterator[str]:
    if name not in CHAINS:
        raise ValueError(f"unknown chain {name!r}; known: {sorted(CHAINS)}")
    for job in CHAINS[name]:
        yield run_task(job, ds, cfg)
