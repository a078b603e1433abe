"""`recpipe` command line: simulate, import, run the nightly chain, fetch the Delta jars, summarise."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from recpipe.config import Config, ConfigError, load_config, parse_set


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("py4j", "pyspark"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML configuration file")
    p.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", default=[],
                   help="override one configuration value (repeatable)")
    p.add_argument("--lake", help="lake root (RECPIPE_LAKE)")
    p.add_argument("--landing", help="landing root (RECPIPE_LANDING)")
    p.add_argument("--master", help="Spark master (RECPIPE_SPARK_MASTER)")
    p.add_argument("-v", "--verbose", action="store_true")


def config_from_args(args: argparse.Namespace) -> Config:
    overrides = parse_set(args.set)
    for name, key in (("lake", "lake"), ("landing", "landing"), ("master", "spark.master")):
        if getattr(args, name, None):
            overrides[key] = getattr(args, name)
    return load_config(args.config, overrides)


def job_main(name: str, run: Callable, argv: Sequence[str] | None = None) -> int:
    """Entry point shared by every job module: `python -m jobs.<name> --ds D` or spark-submit."""
    p = argparse.ArgumentParser(prog=f"jobs.{name}", description=f"run {name} for one ds")
    p.add_argument("--ds", required=True, help="logical date YYYY-MM-DD")
    add_config_args(p)
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    try:
        cfg = config_from_args(args)
    except ConfigError as exc:
        p.error(str(exc))
    print(run(cfg, args.ds))
    return 0


def _cmd_simulate(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe.simulator import SimulationSpec, simulate_to_landing

    sim = cfg.simulate
    spec = SimulationSpec(
        users=args.users or sim.users,
        items=args.items or sim.items,
        days=args.days or sim.days,
        start=args.start or sim.start,
        seed=sim.seed if args.seed is None else args.seed,
        defect_rate=sim.defect_rate if args.defect_rate is None else args.defect_rate,
        files_per_day=args.files_per_day or sim.files_per_day,
    )
    out = args.out or cfg.landing
    t0 = time.perf_counter()
    stats = simulate_to_landing(spec, out, progress=True)
    secs = time.perf_counter() - t0
    print(f"simulated {stats['events']} events ({stats['lines']} lines with defects) over {spec.days} days "
          f"for {spec.users} users x {spec.items} items in {secs:.1f}s "
          f"({stats['events'] / max(secs, 1e-9):,.0f} events/s) -> {out}")
    return 0


def _cmd_import(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe.adapters import ADAPTERS

    adapter = ADAPTERS[args.dataset]
    stats = adapter(args.path, args.out or cfg.landing)
    print(f"imported {args.dataset}: {stats['events']} events over {stats['days']} days "
          f"({stats['first_ds']} .. {stats['last_ds']}) -> {args.out or cfg.landing}")
    return 0


def _cmd_run(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe import pipeline

    days = pipeline.date_range(args.ds, args.end or args.ds)
    for i, ds in enumerate(days, 1):
        print(f"[{i}/{len(days)}] {args.dag} ds={ds}", flush=True)
        for line in pipeline.run_chain(args.dag, cfg, ds):
            print(f"  {line}", flush=True)
    return 0


def _cmd_airflow_days(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe import pipeline
    from recpipe.orchestration import run_dag_for_days

    # Tasks read their configuration from the environment, as they do under a scheduler.
    os.environ["RECPIPE_LAKE"] = str(Path(cfg.lake).resolve())
    os.environ["RECPIPE_LANDING"] = str(Path(cfg.landing).resolve())
    run_dag_for_days(args.dag_id, pipeline.date_range(args.ds, args.end or args.ds))
    return 0


def _cmd_fetch_jars(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe.spark import fetch_delta_jars

    for p in fetch_delta_jars(cfg.spark):
        print(p)
    return 0


def _cmd_truth_check(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe.truth import truth_check

    r = truth_check(cfg, args.ds, args.truth)
    print(f"user model vs simulator ground truth as of {args.ds} ({r['users']} users, "
          f"{r['true_buyer_share']:.0%} true buyers):")
    print(f"  type posterior AUC {r['type_auc']:.3f}, accuracy at 0.5 {r['type_accuracy']:.3f}")
    print(f"  view->cart correlation with the true rate: smoothed {r['view_to_cart_corr_smoothed']:.3f}, "
          f"raw {r['view_to_cart_corr_raw']:.3f}")
    return 0


def _cmd_summary(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe.summary import print_summary

    print_summary(cfg)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="recpipe", description="batch pipeline from session logs to "
                                                          "user models and candidate tables")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("simulate", help="generate synthetic session logs into the landing layout")
    s.add_argument("--users", type=int)
    s.add_argument("--items", type=int)
    s.add_argument("--days", type=int)
    s.add_argument("--start", help="first day YYYY-MM-DD")
    s.add_argument("--seed", type=int)
    s.add_argument("--defect-rate", type=float)
    s.add_argument("--files-per-day", type=int)
    s.add_argument("--out", help="landing root to write (default: the configured landing root)")
    s.set_defaults(func=_cmd_simulate)

    i = sub.add_parser("import", help="convert a public dataset into the landing layout")
    i.add_argument("dataset", choices=["taobao", "movielens", "yoochoose"])
    i.add_argument("--path", required=True, help="the dataset's folder (or file)")
    i.add_argument("--out", help="landing root to write")
    i.set_defaults(func=_cmd_import)

    r = sub.add_parser("run", help="run a DAG's chain of jobs for one day or a range, without a scheduler")
    r.add_argument("dag", choices=["nightly"])
    r.add_argument("--ds", required=True, help="logical date YYYY-MM-DD (first day of a range)")
    r.add_argument("--end", help="last day of a range, inclusive")
    r.set_defaults(func=_cmd_run)

    f = sub.add_parser("fetch-jars", help="download the Delta Lake jars once (make setup does this)")
    f.set_defaults(func=_cmd_fetch_jars)

    a = sub.add_parser("airflow-test", help="run a DAG through Airflow (dag.test) for each day of a range")
    a.add_argument("dag_id")
    a.add_argument("--ds", required=True)
    a.add_argument("--end")
    a.set_defaults(func=_cmd_airflow_days)

    t = sub.add_parser("truth-check", help="compare user features with the simulator's ground truth")
    t.add_argument("--ds", required=True)
    t.add_argument("--truth", help="ground_truth folder (default: <landing>/ground_truth)")
    t.set_defaults(func=_cmd_truth_check)

    m = sub.add_parser("summary", help="rows per table and day, quarantine counts by reason")
    m.set_defaults(func=_cmd_summary)

    for sp in (s, i, r, a, f, t, m):
        add_config_args(sp)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(getattr(args, "verbose", False))
    try:
        cfg = config_from_args(args)
    except ConfigError as exc:
        parser.error(str(exc))
    return args.func(args, cfg)


if __name__ == "__main__":
    sys.exit(main())
