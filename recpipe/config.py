"""One typed configuration for the CLI, the jobs and the DAGs.

Precedence, lowest first: defaults < TOML file (``--config`` or ``RECPIPE_CONFIG``) <
environment (``RECPIPE_*``) < command line (``--set section.field=value``).

Environment names: ``RECPIPE_<SECTION>__<FIELD>`` for any field (``RECPIPE_INGEST__MAX_DWELL_SECONDS=3600``)
plus the short aliases in ``ENV_ALIASES`` (``RECPIPE_LAKE``, ``RECPIPE_LANDING``, ``RECPIPE_SPARK_MASTER``, ...).
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


@dataclass(frozen=True)
class SparkConfig:
    master: str = "local[*]"
    driver_memory: str = "4g"
    # 0 means "size for the machine": 2 x the cores Spark can use locally.
    shuffle_partitions: int = 0
    # Folder holding the Delta Lake jars fetched by `make setup` (see recpipe.spark).
    jars_dir: str = ".jars"
    delta_version: str = "4.4.0"
    delta_artifact: str = "delta-spark_4.1_2.13"
    maven_repo: str = "https://repo1.maven.org/maven2"
    ui_enabled: bool = False
    log_level: str = "WARN"
    app_name: str = "recpipe"


@dataclass(frozen=True)
class IngestConfig:
    # Events may arrive late: an event_ts up to this many days before ds is accepted (and counted on ds).
    late_tolerance_days: int = 3
    # Clock skew allowed past the end of ds.
    future_tolerance_hours: int = 2
    max_dwell_seconds: float = 4 * 3600.0
    max_price: float = 1_000_000.0
    # "quarantine" rejects records with fields outside the contract; "accept" ignores the extra fields.
    on_unknown_fields: str = "quarantine"


@dataclass(frozen=True)
class FeaturesConfig:
    # Feature windows in days, counted in landing days ds (D-w+1 .. D).
    windows: tuple[int, ...] = (1, 7, 28)
    session_gap_minutes: int = 30
    type_model_iterations: int = 200
    # Users sampled (deterministically, by user_id hash) to fit the population models; all are scored.
    fit_sample_users: int = 200_000


@dataclass(frozen=True)
class ItemStatsConfig:
    windows: tuple[int, ...] = (1, 7, 28)
    half_life_days: float = 7.0
    weight_view: float = 1.0
    weight_like: float = 2.0
    weight_add_to_cart: float = 3.0
    weight_purchase: float = 5.0


@dataclass(frozen=True)
class ActiveUsersConfig:
    min_interactions: int = 10
    lookback_days: int = 10


@dataclass(frozen=True)
class InteractionsConfig:
    """User-item strength for ALS: r = w_transact*T + w_like*L + w_view*V over `window_days` landing days
    ending at the training cutoff, each event decayed by 0.5 ** (age_days / half_life_days):
    T counts carts and purchases, L likes, V views weighted by log1p(dwell / dwell_ref_seconds) (a view
    without dwell counts as log(2)). ALS confidence is c = 1 + alpha * r. Defaults chosen by `recpipe tune`."""

    window_days: int = 90
    half_life_days: float = 30.0
    weight_transact: float = 4.0
    weight_like: float = 2.0
    weight_view: float = 1.0
    dwell_ref_seconds: float = 30.0
    # Items need this many distinct active users in the window to enter the catalogue.
    min_item_users: int = 2


@dataclass(frozen=True)
class ALSConfig:
    # "implicit" (one machine, CPU or GPU) or "spark" (Spark MLlib ALS, implicit preferences).
    backend: str = "implicit"
    factors: int = 64
    regularization: float = 200.0
    alpha: float = 10.0
    iterations: int = 15
    # Spark MLlib scales its regParam by each row's number of ratings (ALS-WR), so it has its own value.
    spark_regularization: float = 5.0
    # "auto" uses implicit's CUDA build when a GPU is visible; "true" requires one; "false" never uses it.
    use_gpu: str = "auto"
    # implicit's own threads (0 = all cores); BLAS is limited to one thread as implicit requires.
    num_threads: int = 0


@dataclass(frozen=True)
class EvaluationConfig:
    # Train on interactions up to ds - holdout_days, test on the positives of the holdout_days after.
    holdout_days: int = 7
    positive_types: tuple[str, ...] = ("like", "add_to_cart", "purchase")
    ks: tuple[int, ...] = (10, 100, 1000)
    # Evaluation users are sampled (by user_id hash) down to this many.
    max_users: int = 20_000
    # Items making up the most popular `head_share` of the catalogue are the head; the rest is the long tail.
    head_share: float = 0.2


@dataclass(frozen=True)
class PromotionConfig:
    primary_metric: str = "recall@1000"
    # The challenger must beat the baseline's primary metric by this relative margin.
    min_lift_over_baseline: float = 0.0
    # Relative tolerances against the champion.
    primary_tolerance: float = 0.02
    ndcg10_tolerance: float = 0.05


@dataclass(frozen=True)
class CandidatesConfig:
    # Candidates per active user (and per fallback segment).
    k: int = 1000
    # Leave out what the user "purchased" in the champion's history window, or everything "seen" there.
    exclude: str = "purchased"
    # Ranks that get a reason_item_id.
    reason_ranks: int = 10
    # Users scored per block: bounds the (block x items) score matrix in memory.
    block_users: int = 2048
    # Warn when a coverage or diversity figure of the published lists falls by more than this share
    # from the day before.
    drop_warning: float = 0.2


@dataclass(frozen=True)
class RankerSamplesConfig:
    positive_types: tuple[str, ...] = ("like", "add_to_cart", "purchase")
    negatives_per_positive: int = 4
    # The j-th negative of a positive is of kind negative_kinds[j % len(negative_kinds)].
    negative_kinds: tuple[str, ...] = ("hard", "popularity", "uniform")


@dataclass(frozen=True)
class DQConfig:
    # A partition's rows against the trailing 7 partitions' mean: outside ±volume_band_warn warns,
    # below (1 - volume_band_error) x the mean is an error (a collapse).
    volume_band_warn: float = 0.5
    volume_band_error: float = 0.9
    # Volume and drift checks need at least this many trailing partitions (of the last 7 days).
    min_history: int = 3
    # Drift of a watched column against the trailing partitions (warn): null rate moved by more than
    # null_rate_drift (absolute), or a KL divergence (nats) from their distribution over their deciles
    # above kl_warn (0.125, about a population stability index of 0.25: a large shift).
    null_rate_drift: float = 0.1
    kl_warn: float = 0.125
    # Quarantined rows above this share of the rows read in a day warn.
    max_quarantine_share: float = 0.05
    # Change a declared severity: entries "table.expectation=error|warn", e.g. "events.volume_within_band=error".
    severity: tuple[str, ...] = ()


@dataclass(frozen=True)
class SimulateConfig:
    users: int = 3000
    items: int = 2000
    days: int = 14
    start: str = "2026-11-01"
    seed: int = 7
    defect_rate: float = 0.0
    files_per_day: int = 2


@dataclass(frozen=True)
class Config:
    lake: str = "lake"
    landing: str = "landing"
    reports: str = "reports"
    seed: int = 7
    spark: SparkConfig = field(default_factory=SparkConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    item_stats: ItemStatsConfig = field(default_factory=ItemStatsConfig)
    active_users: ActiveUsersConfig = field(default_factory=ActiveUsersConfig)
    interactions: InteractionsConfig = field(default_factory=InteractionsConfig)
    als: ALSConfig = field(default_factory=ALSConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    candidates: CandidatesConfig = field(default_factory=CandidatesConfig)
    ranker_samples: RankerSamplesConfig = field(default_factory=RankerSamplesConfig)
    dq: DQConfig = field(default_factory=DQConfig)
    simulate: SimulateConfig = field(default_factory=SimulateConfig)

    def validate(self) -> "Config":
        ing = self.ingest
        if ing.on_unknown_fields not in ("quarantine", "accept"):
            raise ConfigError(
                f"ingest.on_unknown_fields must be 'quarantine' or 'accept', got {ing.on_unknown_fields!r}"
            )
        for name in ("late_tolerance_days", "future_tolerance_hours"):
            if getattr(ing, name) < 0:
                raise ConfigError(f"ingest.{name} must be >= 0, got {getattr(ing, name)}")
        if ing.max_dwell_seconds <= 0:
            raise ConfigError(f"ingest.max_dwell_seconds must be > 0, got {ing.max_dwell_seconds}")
        if not 0.0 <= self.simulate.defect_rate < 1.0:
            raise ConfigError(f"simulate.defect_rate must be in [0, 1), got {self.simulate.defect_rate}")
        for name, windows in (("features.windows", self.features.windows),
                              ("item_stats.windows", self.item_stats.windows)):
            if not windows or any(w < 1 for w in windows) or list(windows) != sorted(set(windows)):
                raise ConfigError(f"{name} must be increasing positive day counts, got {windows}")
        if self.features.session_gap_minutes < 1:
            raise ConfigError(f"features.session_gap_minutes must be >= 1, got {self.features.session_gap_minutes}")
        if self.item_stats.half_life_days <= 0:
            raise ConfigError(f"item_stats.half_life_days must be > 0, got {self.item_stats.half_life_days}")
        au = self.active_users
        if au.min_interactions < 1 or au.lookback_days < 1:
            raise ConfigError(f"active_users.min_interactions and lookback_days must be >= 1, got {au}")
        it = self.interactions
        if it.window_days < 1 or it.half_life_days <= 0 or it.dwell_ref_seconds <= 0 or it.min_item_users < 1:
            raise ConfigError(f"interactions: window_days, min_item_users >= 1 and half_life_days, "
                              f"dwell_ref_seconds > 0 required, got {it}")
        if min(it.weight_transact, it.weight_like, it.weight_view) < 0:
            raise ConfigError(f"interactions weights must be >= 0, got {it}")
        als = self.als
        if als.backend not in ("implicit", "spark"):
            raise ConfigError(f"als.backend must be 'implicit' or 'spark', got {als.backend!r}")
        if als.use_gpu not in ("auto", "true", "false"):
            raise ConfigError(f"als.use_gpu must be 'auto', 'true' or 'false', got {als.use_gpu!r}")
        if als.factors < 1 or als.iterations < 1 or als.regularization < 0 or als.alpha <= 0:
            raise ConfigError(f"als: factors, iterations >= 1, regularization >= 0, alpha > 0 required, got {als}")
        ev = self.evaluation
        if ev.holdout_days < 1 or not ev.ks or min(ev.ks) < 1 or ev.max_users < 1 or not 0 < ev.head_share < 1:
            raise ConfigError(f"evaluation: holdout_days, ks, max_users >= 1 and 0 < head_share < 1 required, "
                              f"got {ev}")
        from schemas.events import EVENT_TYPES

        bad = [t for t in ev.positive_types if t not in EVENT_TYPES]
        if bad or not ev.positive_types:
            raise ConfigError(f"evaluation.positive_types must be among {EVENT_TYPES}, got {ev.positive_types}")
        pm = self.promotion
        metric, _, k = pm.primary_metric.partition("@")
        if metric not in ("ndcg", "recall", "precision", "map", "hit_rate") or not k.isdigit() \
                or int(k) not in ev.ks:
            raise ConfigError(f"promotion.primary_metric must be <ndcg|recall|precision|map|hit_rate>@k with k in "
                              f"evaluation.ks {ev.ks}, got {pm.primary_metric!r}")
        if 10 not in ev.ks:
            raise ConfigError(f"evaluation.ks must include 10 (the promotion gate checks ndcg@10), got {ev.ks}")
        cc = self.candidates
        if cc.exclude not in ("purchased", "seen"):
            raise ConfigError(f"candidates.exclude must be 'purchased' or 'seen', got {cc.exclude!r}")
        if cc.k < 1 or cc.reason_ranks < 0 or cc.block_users < 1:
            raise ConfigError(f"candidates: k, block_users >= 1 and reason_ranks >= 0 required, got {cc}")
        rs = self.ranker_samples
        bad_kinds = [k for k in rs.negative_kinds if k not in ("hard", "popularity", "uniform")]
        if bad_kinds or not rs.negative_kinds or rs.negatives_per_positive < 0:
            raise ConfigError(f"ranker_samples: negative_kinds among hard, popularity, uniform and "
                              f"negatives_per_positive >= 0 required, got {rs}")
        if not rs.positive_types or any(t not in EVENT_TYPES for t in rs.positive_types):
            raise ConfigError(f"ranker_samples.positive_types must be among {EVENT_TYPES}, got {rs.positive_types}")
        if self.spark.shuffle_partitions < 0:
            raise ConfigError(f"spark.shuffle_partitions must be >= 0, got {self.spark.shuffle_partitions}")
        return self


ENV_ALIASES: dict[str, str] = {
    "RECPIPE_LAKE": "lake",
    "RECPIPE_LANDING": "landing",
    "RECPIPE_REPORTS": "reports",
    "RECPIPE_SEED": "seed",
    "RECPIPE_SPARK_MASTER": "spark.master",
    "RECPIPE_SPARK_DRIVER_MEMORY": "spark.driver_memory",
    "RECPIPE_SPARK_SHUFFLE_PARTITIONS": "spark.shuffle_partitions",
    "RECPIPE_JARS_DIR": "spark.jars_dir",
}


def _coerce(value: Any, typ: Any, key: str) -> Any:
    if typing.get_origin(typ) is tuple:
        (inner, *_rest) = typing.get_args(typ)
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(v.strip() if isinstance(v, str) else v, inner, key) for v in items)
    if isinstance(typ, str):
        typ = {"str": str, "int": int, "float": float, "bool": bool}[typ]
    if typ is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected a boolean, got {value!r}")
    try:
        if typ is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return typ(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected {typ.__name__}, got {value!r}") from None


def _section_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _apply(cfg: Config, key: str, value: Any) -> Config:
    parts = key.split(".")
    top = _section_types(Config)
    if len(parts) == 1:
        name = parts[0]
        if name not in top or dataclasses.is_dataclass(top[name]):
            raise ConfigError(f"unknown configuration key {key!r}")
        return dataclasses.replace(cfg, **{name: _coerce(value, top[name], key)})
    if len(parts) != 2 or parts[0] not in top or not dataclasses.is_dataclass(top[parts[0]]):
        raise ConfigError(f"unknown configuration key {key!r}")
    section_name, name = parts
    section = getattr(cfg, section_name)
    types = _section_types(type(section))
    if name not in types:
        raise ConfigError(f"unknown configuration key {key!r}; {section_name} has {sorted(types)}")
    new_section = dataclasses.replace(section, **{name: _coerce(value, types[name], key)})
    return dataclasses.replace(cfg, **{section_name: new_section})


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in mapping.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in environ.items():
        if name in ENV_ALIASES:
            out[ENV_ALIASES[name]] = value
        elif name.startswith("RECPIPE_") and "__" in name:
            section, _, fld = name[len("RECPIPE_"):].partition("__")
            out[f"{section.lower()}.{fld.lower()}"] = value
    return out


def parse_set(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects section.field=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def load_config(
    path: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the configuration: defaults < file < environment < overrides (the command line)."""
    environ = os.environ if environ is None else environ
    cfg = Config()
    path = path or environ.get("RECPIPE_CONFIG")
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"configuration file not found: {p}")
        with p.open("rb") as fh:
            for key, value in _flatten(tomllib.load(fh)).items():
                cfg = _apply(cfg, key, value)
    for key, value in env_overrides(environ).items():
        cfg = _apply(cfg, key, value)
    for key, value in (overrides or {}).items():
        cfg = _apply(cfg, key, value)
    return cfg.validate()


def as_dict(cfg: Config) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
