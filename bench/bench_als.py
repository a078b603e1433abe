"""ALS benchmarks: training time of implicit vs Spark MLlib on the same matrix, and MovieLens-100k quality.

    python -m bench.bench_als [--users 50000] [--items 20000] [--days 28] [--factors 64] [--iterations 15]

Both backends get the same strength matrix (built from a simulation the way build_interactions weights
signals, without decay), the same factors and iterations, in one run. Results -> bench_out/als.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.run_bench import OUT
from recpipe.als import build_matrix, train_implicit
from recpipe.config import load_config
from recpipe.simulator import SimulationSpec, World

SHARED = Path(os.environ.get("RECPIPE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def simulated_matrix(users: int, items: int, days: int, seed: int = 3):
    world = World(SimulationSpec(users=users, items=items, days=days, seed=seed))
    frames = [world.step(i)[["_user", "_item", "event_type", "dwell_seconds"]] for i in range(days)]
    ev = pd.concat(frames, ignore_index=True)
    w = np.where(ev["event_type"].isin(["add_to_cart", "purchase"]), 4.0,
                 np.where(ev["event_type"] == "like", 2.0, np.log1p(ev["dwell_seconds"].fillna(30.0) / 30.0)))
    return build_matrix(ev["_user"].to_numpy(), ev["_item"].to_numpy(), w), len(ev)


def bench_speed(spark, cfg, users: int, items: int, days: int, factors: int, iterations: int) -> dict:
    from jobs.train_als import train_spark

    t0 = time.perf_counter()
    matrix, events = simulated_matrix(users, items, days)
    print(f"matrix {matrix.shape[0]} x {matrix.shape[1]}, {matrix.values.nnz} pairs from {events} events "
          f"in {time.perf_counter() - t0:.1f}s", flush=True)
    als = dataclasses.replace(cfg.als, factors=factors, iterations=iterations)
    imp = train_implicit(matrix.values, factors=factors, regularization=als.regularization, alpha=als.alpha,
                         iterations=iterations, seed=1)
    print(f"implicit: {imp.seconds:.1f}s on {imp.device}", flush=True)
    t0 = time.perf_counter()
    sp = train_spark(spark, matrix, als, seed=1)
    total = time.perf_counter() - t0
    print(f"spark mllib: fit + collect {sp.seconds:.1f}s ({total:.1f}s with the DataFrame built)", flush=True)
    return {"users": int(matrix.shape[0]), "items": int(matrix.shape[1]), "pairs": int(matrix.values.nnz),
            "factors": factors, "iterations": iterations, "cores": os.cpu_count(),
            "implicit_s": round(imp.seconds, 2), "implicit_device": imp.device,
            "spark_mllib_s": round(sp.seconds, 2), "spark_over_implicit": round(sp.seconds / imp.seconds, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=50_000)
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--days", type=int, default=28)
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--iterations", type=int, default=15)
    args = p.parse_args(argv)
    from recpipe.quality import movielens_quality
    from recpipe.spark import get_spark

    cfg = load_config()
    spark = get_spark(cfg, app_name="bench-als")
    results = {"speed": bench_speed(spark, cfg, args.users, args.items, args.days, args.factors, args.iterations)}
    ml = SHARED / "movielens-100k"
    if ml.is_dir():
        results["movielens_100k"] = movielens_quality(ml, spark)
        print("movielens-100k:", json.dumps(results["movielens_100k"]), flush=True)
    else:
        print(f"movielens-100k not found at {ml}; quality skipped", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "als.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
