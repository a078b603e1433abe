"""build_user_features: events and sessions of the last windows as of ds -> `user_features` for ds.

    python -m jobs.build_user_features --ds 2026-11-28

Reads only the landing days D-L+1 .. D (L = the longest window), so the cost follows the events in the
window, not the history. Per user and window it separates *browsing* (sessions, views, distinct items and
categories, dwell, views per session, session length) from *consumption* (carts, purchases, views and time
before the first cart, view->cart and cart->purchase rates).

Rates are smoothed: each is the posterior mean under a Beta prior fitted to the whole population that day
by maximum likelihood (Beta-Binomial), stored with the width of its ~95% posterior interval, so one view
and one purchase does not make a 100% converter. The private type `p_buyer` is the posterior of a
two-component mixture (recpipe.stats.TypeMixture) fitted to the population's browse/consume behaviour
over the longest window. The fitted priors and mixture are written to `population_models`.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass

import numpy as np
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from recpipe.config import Config, FeaturesConfig
from recpipe.sparkfn import exact_avg, exact_sum
from recpipe.stats import BetaPrior, TypeMixture, fit_beta_binomial, fit_type_mixture
from recpipe.storage import Lake, parse_ds
from schemas import EVENTS, POPULATION_MODELS, SESSIONS, user_features_spec
from schemas.user_features import DEVICE_SHARES

RATES = {  # name: (trials column, successes column)
    "view_to_cart": ("views", "carts"),
    "cart_to_purchase": ("carts", "purchases"),
}


@dataclass(frozen=True)
class FeaturesSummary:
    ds: str
    users: int
    buyers: int
    priors: dict
    longest: int

    def __str__(self) -> str:
        pri = ", ".join(f"{rate} ~ Beta({p.alpha:.2f}, {p.beta:.2f})" for rate in RATES
                        for p in [self.priors[f"{rate}_{self.longest}d"]])
        return (f"build_user_features ds={self.ds}: {self.users} users, {self.buyers} typed buyer; "
                f"{self.longest}d priors {pri}")


# ------------------------------------------------------------------------------------------- transform

def aggregate_events(events: DataFrame, ds: dt.date, windows: tuple[int, ...]) -> DataFrame:
    """Per-user counts over each window from events with ds in the longest window (pure)."""
    longest = max(windows)
    age = F.datediff(F.lit(ds), F.col("ds"))
    et = F.col("event_type")
    view, cart, purchase, like = (et == "view"), (et == "add_to_cart"), (et == "purchase"), (et == "like")
    aggs: list[Column] = []
    for w in windows:
        inw = age < w
        aggs += [
            F.sum((inw & view).cast("long")).alias(f"views_{w}d"),
            # Set sizes rather than countDistinct: several distinct aggregates make Spark expand every row
            # once per aggregate, while per-user sets stay small.
            F.size(F.collect_set(F.when(inw & view, F.col("item_id")))).cast("long").alias(f"distinct_items_{w}d"),
            F.size(F.collect_set(F.when(inw & view, F.col("category")))).cast("long")
            .alias(f"distinct_categories_{w}d"),
            F.coalesce(exact_sum(F.when(inw & view, F.col("dwell_seconds"))), F.lit(0.0))
            .alias(f"dwell_total_{w}d"),
            # The exact median: an approximate sketch depends on the order it is merged in.
            F.median(F.when(inw & view, F.col("dwell_seconds"))).cast("double").alias(f"dwell_median_{w}d"),
            F.sum((inw & cart).cast("long")).alias(f"carts_{w}d"),
            F.sum((inw & purchase).cast("long")).alias(f"purchases_{w}d"),
            F.sum((inw & like).cast("long")).alias(f"likes_{w}d"),
        ]
    dwell_ok = view & (age < longest) & (F.col("dwell_seconds") > 0)
    log_dwell = F.log(F.col("dwell_seconds"))
    aggs += [
        F.count(F.lit(1)).alias(f"events_{longest}d"),
        F.size(F.collect_set(F.to_date("event_ts"))).cast("long").alias(f"active_days_{longest}d"),
        F.max("event_ts").alias("last_event_ts"),
        F.sum(dwell_ok.cast("long")).alias("_dwell_n"),
        F.coalesce(exact_sum(F.when(dwell_ok, log_dwell)), F.lit(0.0)).alias("_dwell_log_sum"),
        F.coalesce(exact_sum(F.when(dwell_ok, log_dwell * log_dwell)), F.lit(0.0)).alias("_dwell_log_sq"),
        *[F.sum((F.col("device") == d).cast("long")).alias(f"_device_{d}") for d in DEVICE_SHARES],
    ]
    return events.where(age.between(0, longest - 1)).groupBy("user_id").agg(*aggs)


def aggregate_sessions(sessions: DataFrame, ds: dt.date, windows: tuple[int, ...]) -> DataFrame:
    age = F.datediff(F.lit(ds), F.col("ds"))
    aggs: list[Column] = []
    for w in windows:
        inw = age < w
        aggs += [
            F.sum(inw.cast("long")).alias(f"sessions_{w}d"),
            exact_avg(F.when(inw, F.col("duration_seconds"))).alias(f"session_duration_mean_{w}d"),
            exact_avg(F.when(inw, F.col("views_before_first_cart"))).alias(f"views_before_first_cart_{w}d"),
            exact_avg(F.when(inw, F.col("seconds_to_first_cart"))).alias(f"time_to_cart_seconds_{w}d"),
        ]
    return sessions.where(age.between(0, max(windows) - 1)).groupBy("user_id").agg(*aggs)


def combine(ev: DataFrame, se: DataFrame, windows: tuple[int, ...]) -> DataFrame:
    """Join the two aggregates; users without a session row (none built) get zero sessions."""
    df = ev.join(se, "user_id", "left")
    for w in windows:
        df = df.withColumn(f"sessions_{w}d", F.coalesce(F.col(f"sessions_{w}d"), F.lit(0)).cast("long"))
        df = df.withColumn(f"views_per_session_{w}d",
                           F.when(F.col(f"sessions_{w}d") > 0, F.col(f"views_{w}d") / F.col(f"sessions_{w}d")))
        for rate, (n, k) in RATES.items():
            df = df.withColumn(f"{rate}_raw_{w}d",
                               F.when(F.col(f"{n}_{w}d") > 0, F.col(f"{k}_{w}d") / F.col(f"{n}_{w}d")))
    return df


def smoothed(n: Column, k: Column, prior: BetaPrior) -> tuple[Column, Column]:
    """Posterior mean and ~95% interval width under the prior, as Spark expressions."""
    k = F.least(k, n).cast("double")
    a = F.lit(prior.alpha) + k
    b = F.lit(prior.beta) + n.cast("double") - k
    mean = a / (a + b)
    sd = F.sqrt(mean * (F.lit(1.0) - mean) / (a + b + F.lit(1.0)))
    return mean, F.lit(2 * 1.959964) * sd


def type_stats_columns(longest: int) -> dict[str, Column]:
    return {
        "views": F.col(f"views_{longest}d"), "carts": F.col(f"carts_{longest}d"),
        "purchases": F.col(f"purchases_{longest}d"), "sessions": F.col(f"sessions_{longest}d"),
        "dwell_n": F.col("_dwell_n"), "dwell_log_sum": F.col("_dwell_log_sum"), "dwell_log_sq": F.col("_dwell_log_sq"),
    }


def buyer_posterior_column(m: TypeMixture, longest: int) -> Column:
    """P(buyer | user) under the mixture, as a Spark expression (mirrors recpipe.stats.buyer_posterior)."""
    c = type_stats_columns(longest)
    views = c["views"].cast("double")
    carts = F.least(c["carts"], c["views"]).cast("double")
    purchases = F.least(c["purchases"], c["carts"], c["views"]).cast("double")
    sessions = F.least(c["sessions"], c["views"]).cast("double")
    eps = 1e-12

    def comp(k: int) -> Column:
        ll = sessions * float(np.log(m.q[k] + eps)) + F.greatest(views - sessions, F.lit(0.0)) * float(np.log(1 - m.q[k] + eps))
        ll += carts * float(np.log(m.p[k] + eps)) + F.greatest(views - carts, F.lit(0.0)) * float(np.log(1 - m.p[k] + eps))
        ll += purchases * float(np.log(m.r[k] + eps)) + F.greatest(carts - purchases, F.lit(0.0)) * float(np.log(1 - m.r[k] + eps))
        mu, sg = m.mu[k], m.sigma[k]
        sq = c["dwell_log_sq"] - 2 * mu * c["dwell_log_sum"] + c["dwell_n"] * mu * mu
        ll += -c["dwell_n"] * float(np.log(sg + eps)) - sq / (2 * sg * sg + eps)
        return ll + float(np.log(m.pi[k]))

    return F.lit(1.0) / (F.lit(1.0) + F.exp(F.least(comp(0) - comp(1), F.lit(700.0))))


def finalize(df: DataFrame, ds: dt.date, windows: tuple[int, ...], priors: dict[str, BetaPrior],
             mixture: TypeMixture) -> DataFrame:
    """Apply the fitted population models and shape the contract's columns (pure)."""
    longest = max(windows)
    for w in windows:
        for rate, (n, k) in RATES.items():
            mean, width = smoothed(F.col(f"{n}_{w}d"), F.col(f"{k}_{w}d"), priors[f"{rate}_{w}d"])
            df = df.withColumn(f"{rate}_{w}d", mean).withColumn(f"{rate}_ci_width_{w}d", width)
    day_end = F.lit(dt.datetime.combine(ds + dt.timedelta(days=1), dt.time())).cast("timestamp")
    total = F.col(f"events_{longest}d").cast("double")
    df = (
        df.withColumn("as_of", F.lit(ds))
        .withColumn("recency_days",
                    F.greatest(F.lit(0.0), (F.unix_micros(day_end) - F.unix_micros("last_event_ts")) / 86_400e6))
    )
    for d in DEVICE_SHARES:
        df = df.withColumn(f"device_share_{d}", F.col(f"_device_{d}") / total)
    df = df.withColumn("p_buyer", buyer_posterior_column(mixture, longest))
    return df.withColumn("user_type", F.when(F.col("p_buyer") >= 0.5, "buyer").otherwise("browser"))


# ------------------------------------------------------------------------------------------- fitting

def fit_priors(users: DataFrame, windows: tuple[int, ...]) -> dict[str, BetaPrior]:
    """One Beta prior per rate and window, from the (trials, successes) histograms of all users.

    All histograms come from one Spark job; they are small (one row per distinct pair).
    """
    names = [(f"{rate}_{w}d", f"{n}_{w}d", f"{k}_{w}d") for w in windows for rate, (n, k) in RATES.items()]
    pairs = F.explode(F.array(*[F.struct(F.lit(name).alias("model"), F.col(n).alias("n"), F.col(k).alias("k"))
                                for name, n, k in names]))
    hist = (users.select(pairs.alias("h")).select("h.*").where(F.col("n") > 0)
            .groupBy("model", "n", "k").count().orderBy("model", "n", "k").collect())
    priors = {}
    for name, _, _ in names:
        arr = np.array([(r["n"], r["k"], r["count"]) for r in hist if r["model"] == name], dtype=np.float64)
        priors[name] = (fit_beta_binomial(arr[:, 0], arr[:, 1], arr[:, 2]) if len(arr)
                        else BetaPrior(1.0, 1.0, 0, "uniform (no users)"))
    return priors


def fit_mixture(users: DataFrame, n_users: int, cfg: FeaturesConfig, longest: int) -> TypeMixture:
    cols = type_stats_columns(longest)
    sample = users
    if n_users > cfg.fit_sample_users:
        # A hash sample is the same on every rerun and on any partitioning.
        keep = cfg.fit_sample_users / n_users
        sample = users.where((F.abs(F.xxhash64("user_id")) % 1_000_000) < int(keep * 1_000_000))
    # Sorted, so the fit sees the same rows in the same order on every run.
    pdf = sample.orderBy("user_id").select(*[c.alias(k) for k, c in cols.items()]).toPandas()
    return fit_type_mixture({k: pdf[k].to_numpy() for k in cols}, iterations=cfg.type_model_iterations)


# ------------------------------------------------------------------------------------------------ run

def run(cfg: Config, ds: str | dt.date, spark: SparkSession | None = None) -> FeaturesSummary:
    from recpipe.spark import get_spark

    day = parse_ds(ds)
    spark = spark or get_spark(cfg, app_name=f"build_user_features[{day}]")
    lake = Lake(spark, cfg.lake)
    windows = tuple(cfg.features.windows)
    longest = max(windows)
    first = day - dt.timedelta(days=longest - 1)
    events = lake.read(EVENTS, first, day)
    sessions = lake.read(SESSIONS, first, day)

    users = combine(aggregate_events(events, day, windows), aggregate_sessions(sessions, day, windows), windows)
    users = users.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        n_users = users.count()
        priors = fit_priors(users, windows)
        mixture = fit_mixture(users, n_users, cfg.features, longest)
        spec = user_features_spec(windows)
        lake.write_partition(finalize(users, day, windows, priors, mixture), spec, day)
    finally:
        users.unpersist()

    models = [(day, f"beta:{name}", json.dumps(p.as_dict()), p.n_users) for name, p in priors.items()]
    models.append((day, "type_mixture", json.dumps(mixture.as_dict()), mixture.n_users))
    lake.write_partition(spark.createDataFrame(models, POPULATION_MODELS.schema), POPULATION_MODELS, day)
    written = lake.read(spec, day, day).agg(F.count(F.lit(1)).alias("n"),
                                            F.sum((F.col("user_type") == "buyer").cast("long")).alias("b")).first()
    if written["n"] != n_users:
        raise AssertionError(f"user_features as_of={day}: wrote {written['n']} rows for {n_users} users")
    return FeaturesSummary(day.isoformat(), written["n"], written["b"] or 0, priors, longest)


def main(argv: list[str] | None = None) -> int:
    from recpipe.cli import job_main

    return job_main("build_user_features", run, argv)


if __name__ == "__main__":
    sys.exit(main())
