"""Candidate scoring benchmark: exact top-1000 by dot product, ours vs implicit and Spark, same factors.

    python -m bench.bench_candidates [--skip-spark]

Sizes: 20k users x 20k items and 100k users x 50k items at rank 64. Reported per size: seconds, the
effective FLOP rate (2·users·items·rank / seconds) as a fraction of the machine's float32 matrix-multiply
rate measured by numpy in the same run; at the smaller size also implicit's batched `recommend(N=1000)`
and Spark MLlib's `recommendForAllUsers(1000)` on the same factors. Results -> bench_out/candidates.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

import numpy as np

from bench.run_bench import OUT
from recpipe.als import top_k

K, RANK = 1000, 64


def factors(users: int, items: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(users, RANK)).astype(np.float32), rng.normal(size=(items, RANK)).astype(np.float32))


def matmul_rate(U, V, block: int = 2048) -> float:
    """numpy's float32 product rate on this shape, all cores, in row blocks (as scoring runs it; one
    20k x 20k product would measure the memory writes of a 1.6 GB result more than the arithmetic)."""
    vt = np.ascontiguousarray(V.T)
    U[:block].dot(vt)  # warm up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for lo in range(0, U.shape[0], block):
            U[lo:lo + block].dot(vt)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * U.shape[0] * V.shape[0] * RANK / best


def bench_ours(U, V, rate) -> dict:
    t0 = time.perf_counter()
    items, _ = top_k(U, V, K)
    secs = time.perf_counter() - t0
    flops = 2.0 * U.shape[0] * V.shape[0] * RANK
    return {"users": U.shape[0], "items": V.shape[0], "seconds": round(secs, 2),
            "effective_gflops": round(flops / secs / 1e9, 1), "fraction_of_matmul_rate": round(flops / secs / rate, 3),
            "first_row": items[0, :5].tolist()}


def bench_implicit(U, V) -> dict:
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy import sparse

    model = AlternatingLeastSquares(factors=RANK)
    model.user_factors, model.item_factors = U, V
    empty = sparse.csr_matrix((U.shape[0], V.shape[0]), dtype=np.float32)
    t0 = time.perf_counter()
    ids, _ = model.recommend(np.arange(U.shape[0]), empty, N=K, filter_already_liked_items=False)
    return {"seconds": round(time.perf_counter() - t0, 2), "first_row": ids[0, :5].tolist()}


def bench_spark(U, V) -> dict:
    """recommendForAllUsers on an ALSModel carrying exactly these factors (saved, factors swapped, loaded)."""
    import pandas as pd
    from pyspark.ml.recommendation import ALS, ALSModel

    from recpipe.config import load_config
    from recpipe.spark import get_spark

    spark = get_spark(load_config(), app_name="bench-candidates")
    tmp = tempfile.mkdtemp(prefix="recpipe-bench-als-")
    try:
        tiny = spark.createDataFrame([(0, 0, 1.0), (1, 1, 1.0)], "user int, item int, rating float")
        ALS(rank=RANK, maxIter=1, implicitPrefs=True, userCol="user", itemCol="item").fit(tiny).write().overwrite() \
            .save(tmp)
        for name, mat in (("userFactors", U), ("itemFactors", V)):
            pdf = pd.DataFrame({"id": np.arange(len(mat), dtype=np.int32), "features": list(mat)})
            spark.createDataFrame(pdf, "id int, features array<float>").write.mode("overwrite") \
                .parquet(os.path.join(tmp, name + "_new"))
            shutil.rmtree(os.path.join(tmp, name))
            os.rename(os.path.join(tmp, name + "_new"), os.path.join(tmp, name))
        model = ALSModel.load(tmp)
        t0 = time.perf_counter()
        recs = model.recommendForAllUsers(K)
        recs.write.format("noop").mode("overwrite").save()
        secs = time.perf_counter() - t0
        first = recs.where("user = 0").first()["recommendations"][:5]
        return {"seconds": round(secs, 2), "first_row": [r["item"] for r in first]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skip-spark", action="store_true")
    args = p.parse_args(argv)
    out = {"k": K, "rank": RANK, "cores": os.cpu_count()}
    U, V = factors(20_000, 20_000)
    out["matmul_gflops"] = round(matmul_rate(U, V) / 1e9, 1)
    rate = out["matmul_gflops"] * 1e9
    print(f"numpy float32 matmul: {out['matmul_gflops']} GFLOP/s", flush=True)
    out["small"] = {"ours": bench_ours(U, V, rate)}
    print("20k x 20k ours:", out["small"]["ours"], flush=True)
    out["small"]["implicit_recommend"] = bench_implicit(U, V)
    print("20k x 20k implicit:", out["small"]["implicit_recommend"], flush=True)
    if not args.skip_spark:
        out["small"]["spark_recommend_for_all_users"] = bench_spark(U, V)
        print("20k x 20k spark:", out["small"]["spark_recommend_for_all_users"], flush=True)
    s = out["small"]
    s["speedup_vs_implicit"] = round(s["implicit_recommend"]["seconds"] / s["ours"]["seconds"], 2)
    if "spark_recommend_for_all_users" in s:
        s["speedup_vs_spark"] = round(s["spark_recommend_for_all_users"]["seconds"] / s["ours"]["seconds"], 1)
    U, V = factors(100_000, 50_000, seed=1)
    out["large"] = {"ours": bench_ours(U, V, rate)}
    print("100k x 50k ours:", out["large"]["ours"], flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "candidates.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
