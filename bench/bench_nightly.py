"""One night's user-model jobs at several sizes of the 28-day window (`make bench` runs it).

    python -m bench.bench_nightly [--sizes 1000000,3000000,10000000]

For each size: 28 simulated days go straight into a fresh lake with the sessions of the first 27 days
(not timed); then the night of day 28 is timed job by job: build_sessions, build_user_features,
build_item_stats, select_active_users, each followed by its validation step (`validate_<table>`: the
Great Expectations checkpoint, volume and drift against the trailing week, Data Docs), timed apart. If
cost follows the events in the window, seconds per million events stays flat as the window grows.
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from bench.run_bench import users_for
from recpipe.simulator import SimulationSpec, World

OUT = Path("bench_out")
NIGHTLY_JOBS = ("build_sessions", "build_user_features", "build_item_stats", "select_active_users")


def bench_size(target: int, spark, days: int = 28, items: int = 20_000) -> dict:
    import importlib

    from jobs import build_sessions, validate
    from recpipe.config import load_config
    from recpipe.pipeline import STAGES
    from recpipe.simulator.lake import write_simulated_events
    from recpipe.storage import Lake

    lake_dir = OUT / f"nightly_lake_{target}"
    shutil.rmtree(lake_dir, ignore_errors=True)
    cfg = load_config(overrides={"lake": str(lake_dir), "reports": str(lake_dir / "reports")})
    world = World(SimulationSpec(users=users_for(target, days, items), items=items, days=days, seed=5))
    lake = Lake(spark, cfg.lake)
    events = 0
    for lo in range(0, days, 7):  # bounded driver memory: a week at a time
        events += write_simulated_events(lake, world, range(lo, min(lo + 7, days)))
    build_sessions.run_range(cfg, world.day(0), world.day(days - 2), spark)
    ds = world.day(days - 1)
    timings, checks = {}, {}
    # The day's events as ingest would leave them for validate_events (its quarantine and audit tables are
    # not simulated here).
    t0 = time.perf_counter()
    summary = validate.run(cfg, ds, ("events",), run_id="bench", spark=spark)
    checks["validate_events"] = {"seconds": round(time.perf_counter() - t0, 1), "checks": sum(summary.checks.values())}
    for job in NIGHTLY_JOBS:
        t0 = time.perf_counter()
        importlib.import_module(f"jobs.{job}").run(cfg, ds, spark)
        timings[job] = round(time.perf_counter() - t0, 1)
        step = STAGES[job][1]
        t0 = time.perf_counter()
        summary = validate.run(cfg, ds, step.tables, run_id="bench", spark=spark)
        checks[step.name] = {"seconds": round(time.perf_counter() - t0, 1), "checks": sum(summary.checks.values())}
    total = sum(timings.values())
    validation = sum(c["seconds"] for c in checks.values())
    shutil.rmtree(lake_dir, ignore_errors=True)
    return {"events_in_window": events, "users": world.spec.users, "seconds": timings,
            "total_seconds": round(total, 1), "seconds_per_million_events": round(total / (events / 1e6), 1),
            "validation": checks, "validation_seconds": round(validation, 1)}


def main() -> None:
    from recpipe.config import load_config
    from recpipe.spark import get_spark

    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1000000,3000000,10000000")
    args = p.parse_args()
    OUT.mkdir(exist_ok=True)
    spark = get_spark(load_config(), app_name="bench-nightly")
    results_path = OUT / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["nightly_user_model"] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        r = bench_size(size, spark)
        results["nightly_user_model"][str(size)] = r
        print(f"nightly user model, {r['events_in_window']:,} events in the window: {r['seconds']} "
              f"-> {r['total_seconds']}s ({r['seconds_per_million_events']} s per 1M events); validation "
              f"{ {k: v['seconds'] for k, v in r['validation'].items()} } -> {r['validation_seconds']}s", flush=True)
        results_path.write_text(json.dumps(results, indent=2))
    print(f"written {results_path}")


if __name__ == "__main__":
    main()
