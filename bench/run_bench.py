"""Benchmarks (`make bench`): simulator throughput and ingest throughput, written to bench_out/results.json.

    python -m bench.run_bench [--sim-events 10000000] [--ingest-events 1000000] [--only sim|ingest]

Timings come from this machine; nothing here asserts a speed, it measures and reports.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from recpipe.simulator import SimulationSpec, World, simulate_to_landing

OUT = Path("bench_out")


def users_for(events: int, days: int, items: int) -> int:
    """Users that make about ``events`` events over ``days`` days (2% head-room: the per-user rate is
    estimated on a one-day sample)."""
    probe = SimulationSpec(users=20_000, items=items, days=1, seed=1)
    rate = len(World(probe).step(0)) / probe.users
    return int(1.02 * events / (rate * days))


def bench_simulator(target_events: int, days: int = 14, items: int = 20_000) -> dict:
    users = users_for(target_events, days, items)
    spec = SimulationSpec(users=users, items=items, days=days, seed=1, defect_rate=0.02, files_per_day=4)
    out = OUT / "sim_landing"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    stats = simulate_to_landing(spec, out, progress=True)
    secs = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in out.rglob("*.gz"))
    return {"users": users, "items": items, "days": days, "events": stats["events"], "lines": stats["lines"],
            "seconds": round(secs, 1), "events_per_s": round(stats["events"] / secs),
            "landing_gz_mb": round(size / 2**20, 1)}


def bench_ingest(target_events: int, items: int = 20_000) -> dict:
    from jobs import ingest_events
    from recpipe.config import load_config
    from recpipe.spark import get_spark

    users = users_for(target_events, 1, items)
    spec = SimulationSpec(users=users, items=items, days=1, seed=2, defect_rate=0.02, files_per_day=4)
    landing, lake = OUT / "ingest_landing", OUT / "ingest_lake"
    shutil.rmtree(landing, ignore_errors=True)
    shutil.rmtree(lake, ignore_errors=True)
    simulate_to_landing(spec, landing)
    cfg = load_config(overrides={"lake": str(lake), "landing": str(landing)})
    spark = get_spark(cfg, app_name="bench-ingest")
    runs = []
    for attempt in range(2):  # the first run also creates the tables and warms the JVM
        t0 = time.perf_counter()
        summary = ingest_events.run(cfg, spec.start, spark)
        runs.append(time.perf_counter() - t0)
    return {"users": users, "lines": summary.rows_read, "accepted": summary.rows_accepted,
            "cores": os.cpu_count(), "seconds_first": round(runs[0], 1), "seconds_rerun": round(runs[1], 1),
            "lines_per_s_rerun": round(summary.rows_read / runs[1])}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sim-events", type=int, default=10_000_000)
    p.add_argument("--ingest-events", type=int, default=1_000_000)
    p.add_argument("--only", choices=["sim", "ingest"])
    args = p.parse_args()
    OUT.mkdir(exist_ok=True)
    results_path = OUT / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.only in (None, "sim"):
        results["simulator"] = bench_simulator(args.sim_events)
        print("simulator:", results["simulator"], flush=True)
    if args.only in (None, "ingest"):
        results["ingest"] = bench_ingest(args.ingest_events)
        print("ingest:", results["ingest"], flush=True)
    results_path.write_text(json.dumps(results, indent=2))
    print(f"written {results_path}")


if __name__ == "__main__":
    main()
