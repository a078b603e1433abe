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
    for noisy in ("py4j", "pyspark", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML configuration file")
    p.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", default=[],
                   help="override one configuration value (repeatable)")
    p.add_argument("--lake", help="lake root (RECPIPE_LAKE)")
    p.add_argument("--landing", help="landing root (RECPIPE_LANDING)")
    p.add_argument("--reports", help="reports root (RECPIPE_REPORTS)")
    p.add_argument("--master", help="Spark master (RECPIPE_SPARK_MASTER)")
    p.add_argument("-v", "--verbose", action="store_true")


def config_from_args(args: argparse.Namespace) -> Config:
    overrides = parse_set(args.set)
    if getattr(args, "backend", None):
        overrides["als.backend"] = args.backend
    for name, key in (("lake", "lake"), ("landing", "landing"), ("reports", "reports"), ("master", "spark.master")):
        if getattr(args, name, None):
            overrides[key] = getattr(args, name)
    return load_config(args.config, overrides)


def job_main(name: str, run: Callable, argv: Sequence[str] | None = None,
             aliases: dict[str, str] | None = None, options: dict[str, dict] | None = None) -> int:
    """Entry point shared by every job module: `python -m jobs.<name> --ds D` or spark-submit.

    `aliases` maps extra flags to configuration keys (`--backend` -> `als.backend`); `options` are extra
    arguments of `run` (flag -> argparse keywords, passed as `run(cfg, ds, <dest>=value)`). A data-quality
    failure prints its message and exits 1.
    """
    from recpipe.dq import DataQualityError

    p = argparse.ArgumentParser(prog=f"jobs.{name}", description=f"run {name} for one ds")
    p.add_argument("--ds", required=True, help="logical date YYYY-MM-DD")
    add_config_args(p)
    for flag, key in (aliases or {}).items():
        p.add_argument(flag, dest=f"alias_{flag.lstrip('-')}", help=f"sets {key}")
    dests = {flag: p.add_argument(flag, **kw).dest for flag, kw in (options or {}).items()}
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    for flag, key in (aliases or {}).items():
        value = getattr(args, f"alias_{flag.lstrip('-')}")
        if value is not None:
            args.set.append(f"{key}={value}")
    try:
        cfg = config_from_args(args)
    except ConfigError as exc:
        p.error(str(exc))
    try:
        print(run(cfg, args.ds, **{d: getattr(args, d) for d in dests.values()}))
    except DataQualityError as exc:
        print(f"FAILED {exc}", file=sys.stderr)
        return 1
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

    # A weekly range runs the weeks ending at --ds, --ds + 7, ... up to --end.
    days = pipeline.date_range(args.ds, args.end or args.ds)[::7 if args.dag == "weekly" else 1]
    from recpipe.dq import DataQualityError

    for i, ds in enumerate(days, 1):
        print(f"[{i}/{len(days)}] {args.dag} ds={ds}", flush=True)
        try:
            for line in pipeline.run_chain(args.dag, cfg, ds, start=args.start):
                print(f"  {line}", flush=True)
        except DataQualityError as exc:
            print(f"FAILED {args.dag} ds={ds}: {exc}", flush=True)
            return 1
    return 0


def _cmd_airflow_days(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe import pipeline
    from recpipe.orchestration import run_dag_for_days

    # Tasks read their configuration from the environment, as they do under a scheduler.
    os.environ["RECPIPE_LAKE"] = str(Path(cfg.lake).resolve())
    os.environ["RECPIPE_LANDING"] = str(Path(cfg.landing).resolve())
    os.environ["RECPIPE_REPORTS"] = str(Path(cfg.reports).resolve())
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
    if args.model:
        from recpipe.truth import model_truth_check

        m = model_truth_check(cfg, args.ds, args.truth)
        print(f"ALS {m['model_version']} vs the simulator ({m['items']} items):")
        print(f"  NDCG@10 {m['ndcg10_als']:.4f} vs popularity {m['ndcg10_popularity']:.4f} "
              f"({m['ndcg10_ratio']:.2f}x)")
        print(f"  item similarity correlation with the true item vectors {m['item_similarity_corr']:.3f}")
    return 0


def _cmd_tune(args: argparse.Namespace, cfg: Config) -> int:
    import pandas as pd

    from recpipe.tune import Grid, parse_weights, run_tune

    def floats(text):
        return tuple(float(x) for x in text.split(","))

    d = Grid()
    grid = Grid(weights=parse_weights(args.weights) if args.weights else d.weights,
                alpha=floats(args.alpha) if args.alpha else d.alpha,
                factors=tuple(int(x) for x in args.factors.split(",")) if args.factors else d.factors,
                regularization=floats(args.reg) if args.reg else d.regularization)
    table = run_tune(cfg, args.ds, grid, progress=lambda line: print(line, file=sys.stderr, flush=True))
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


def _cmd_validate(args: argparse.Namespace, cfg: Config) -> int:
    from jobs import validate
    from recpipe.dq import DataQualityError, table_spec
    from recpipe.spark import get_spark
    from schemas import TABLES

    names = args.table or [n for n in TABLES if n != "dq_results"]
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise SystemExit(f"unknown tables {unknown}; known: {sorted(TABLES)}")
    if args.list:
        from schemas.expectations import suite

        for name in names:
            for expectation, severity in suite(table_spec(cfg, name)).items():
                print(f"{name:22} {expectation:44} {severity}")
        return 0
    if not args.ds:
        raise SystemExit("recpipe validate: --ds is required (or --list)")
    spark = get_spark(cfg, app_name="recpipe-validate")
    found = validate.existing(cfg, names, spark)
    for name in sorted(set(names) - set(found)):
        print(f"{name}: no table, skipped")
    if not found:
        return 0
    try:
        print(validate.run(cfg, args.ds, found, spark=spark))
    except DataQualityError as exc:
        print(f"FAILED {exc}")
        return 1
    return 0


def _cmd_report(args: argparse.Namespace, cfg: Config) -> int:
    from recpipe.pipeline import run_task

    print(run_task("build_report", args.ds, cfg))
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
    r.add_argument("dag", choices=["nightly", "weekly"])
    r.add_argument("--ds", required=True, help="logical date YYYY-MM-DD (first day of a range)")
    r.add_argument("--end", help="last day of a range, inclusive")
    r.add_argument("--backend", choices=["implicit", "spark"], help="ALS backend for the weekly chain (als.backend)")
    r.add_argument("--from", dest="start", metavar="STEP",
                   help="start at this step of the chain (resume a failed run, e.g. validate_candidates)")
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
    t.add_argument("--model", action="store_true", help="also check the week's ALS model (recpipe run weekly)")
    t.set_defaults(func=_cmd_truth_check)

    u = sub.add_parser("tune", help="grid search of interaction weights and ALS parameters on a week's holdout")
    u.add_argument("--ds", required=True, help="the week (its interactions must exist: recpipe run weekly)")
    u.add_argument("--weights", help='transact,like,view weight settings, e.g. "4,2,1;1,1,1"')
    u.add_argument("--alpha", help="comma-separated alphas")
    u.add_argument("--factors", help="comma-separated factor counts")
    u.add_argument("--reg", help="comma-separated regularisations")
    u.add_argument("--out", help="also write the table as CSV")
    u.set_defaults(func=_cmd_tune)

    v = sub.add_parser("validate", help="run the data-quality expectations on a day's partitions")
    v.add_argument("--ds", help="the partition to validate")
    v.add_argument("--table", action="append", help="a table to validate (repeatable; default: all)")
    v.add_argument("--list", action="store_true",
                   help="print each table's expectations and severities (the names dq.severity takes)")
    v.set_defaults(func=_cmd_validate)

    rp = sub.add_parser("report", help="write the day's static HTML report (reports/<ds>/index.html)")
    rp.add_argument("--ds", required=True)
    rp.set_defaults(func=_cmd_report)

    m = sub.add_parser("summary", help="rows per table and day, quarantine counts by reason")
    m.set_defaults(func=_cmd_summary)

    for sp in (s, i, r, a, f, t, u, v, rp, m):
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
