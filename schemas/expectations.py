"""Expectations per table, declared next to the contracts they check, each with its severity.

A table's suite (`suite(spec)`, name -> severity) has three parts:
* from its contract: its columns in order, a non-null and unique key, and its schema (names, types,
  nullability) as read against the contract;
* its own enums and ranges (`TABLE_CHECKS`);
* checks that need more than the partition, computed by `recpipe.dq` beside the Great Expectations
  checkpoint and recorded the same way (`COMPUTED`): volume against the trailing week, null-rate and
  distribution drift of key columns, candidates per user, purchased items among candidates, the ranker
  sample ratio, the quarantined share of the rows read.

`error` blocks publishing, `warn` is recorded and reported; `dq.severity` in the configuration changes a
declared severity, and names only expectations declared here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from schemas.events import DEVICES, EVENT_TYPES
from schemas.models import MODEL_STATUSES
from schemas.ranker_samples import SAMPLE_KINDS

ERROR, WARN = "error", "warn"


@dataclass(frozen=True)
class Check:
    """One expectation: a Great Expectations class name, its keyword arguments and a severity."""

    name: str
    expectation: str
    kwargs: dict = field(default_factory=dict)
    severity: str = ERROR


# Enums and ranges per table name, beyond what the contract implies. `{longest}` in a name or column is the
# table's longest window in days (`features.windows`, `item_stats.windows`).
TABLE_CHECKS: dict[str, list[Check]] = {
    "events": [
        Check("event_type_in_set", "ExpectColumnValuesToBeInSet", {"column": "event_type", "value_set": list(EVENT_TYPES)}),
        Check("device_in_set", "ExpectColumnValuesToBeInSet", {"column": "device", "value_set": list(DEVICES)}),
        Check("dwell_non_negative", "ExpectColumnValuesToBeBetween", {"column": "dwell_seconds", "min_value": 0}),
        Check("price_non_negative", "ExpectColumnValuesToBeBetween", {"column": "price", "min_value": 0}),
    ],
    "user_features": [
        Check("p_buyer_is_a_probability", "ExpectColumnValuesToBeBetween",
              {"column": "p_buyer", "min_value": 0, "max_value": 1}),
        Check("user_type_in_set", "ExpectColumnValuesToBeInSet", {"column": "user_type", "value_set": ["buyer", "browser"]}),
        Check("view_to_cart_{longest}d_is_a_rate", "ExpectColumnValuesToBeBetween",
              {"column": "view_to_cart_{longest}d", "min_value": 0, "max_value": 1}),
    ],
    "active_users": [
        Check("interactions_at_least_one", "ExpectColumnValuesToBeBetween", {"column": "interactions", "min_value": 1}),
    ],
    "item_popularity": [
        Check("rank_positive", "ExpectColumnValuesToBeBetween", {"column": "rank", "min_value": 1}),
    ],
    "candidates": [
        Check("rank_positive", "ExpectColumnValuesToBeBetween", {"column": "rank", "min_value": 1}),
        Check("source_in_set", "ExpectColumnValuesToBeInSet", {"column": "source", "value_set": ["als"]}),
    ],
    "fallback_candidates": [
        Check("rank_positive", "ExpectColumnValuesToBeBetween", {"column": "rank", "min_value": 1}),
    ],
    "ranker_samples": [
        Check("label_binary", "ExpectColumnValuesToBeInSet", {"column": "label", "value_set": [0, 1]}),
        Check("sample_kind_in_set", "ExpectColumnValuesToBeInSet",
              {"column": "sample_kind", "value_set": list(SAMPLE_KINDS)}),
    ],
    "models": [
        Check("status_in_set", "ExpectColumnValuesToBeInSet", {"column": "status", "value_set": list(MODEL_STATUSES)}),
    ],
}

# Columns watched for drift against the trailing week of partitions (severity warn): the null rate, and for
# numeric columns the distribution (population stability index over the reference's deciles).
DRIFT_COLUMNS: dict[str, list[str]] = {
    "events": ["dwell_seconds", "price", "session_id"],
    "user_features": ["p_buyer", "views_{longest}d", "dwell_median_{longest}d", "view_to_cart_{longest}d",
                      "time_to_cart_seconds_{longest}d"],
    "item_popularity": ["score_{longest}d"],
    "candidates": ["score"],
}


# Tables whose row count per partition is a volume signal (checked against the trailing week). Others have
# a fixed or meaningless size (one row a day, a row per source file, per model), or, like quarantine, are
# better when smaller: its share of the rows read is checked instead (quarantine_share_below_limit).
VOLUME_TABLES = frozenset({"events", "sessions", "user_features", "item_popularity", "active_users",
                           "interactions", "candidates", "ranker_samples"})

# Checks computed by `recpipe.dq` beside the checkpoint, with their severities. `{column}` stands for each
# of the table's drift columns (the distribution check for the numeric ones only).
COMPUTED: dict[str, str] = {
    "row_count": WARN,                          # recorded for every partition, empty ones too; never fails
    "schema_matches_contract": ERROR,
    "volume_within_band": WARN,                 # within ±dq.volume_band_warn of the trailing mean
    "volume_not_collapsed": ERROR,              # above (1 - dq.volume_band_error) of the trailing mean
    "{column}_null_rate_stable": WARN,          # |null rate - trailing null rate| <= dq.null_rate_drift
    "{column}_distribution_stable": WARN,       # PSI over the trailing deciles <= dq.psi_warn
    "candidates_per_user_equal_k": ERROR,
    "no_purchased_item_in_candidates": ERROR,
    "negatives_per_positive": WARN,             # within [0.8, 1] x ranker_samples.negatives_per_positive
    "quarantine_share_below_limit": WARN,       # quarantined / read <= dq.max_quarantine_share
}
COMPUTED_FOR_TABLE: dict[str, tuple[str, ...]] = {
    "candidates": ("candidates_per_user_equal_k", "no_purchased_item_in_candidates"),
    "ranker_samples": ("negatives_per_positive",),
    "quarantine": ("quarantine_share_below_limit",),
}
VOLUME_CHECKS = ("volume_within_band", "volume_not_collapsed")


def longest_window(spec) -> int:
    """The longest window (days) of a table with windowed columns (`views_28d`, `score_7d`), else 0."""
    windows = [int(c.split("_")[-1][:-1]) for c in spec.columns if c.startswith(("views_", "score_"))
               and c.endswith("d") and c.split("_")[-1][:-1].isdigit()]
    return max(windows) if windows else 0


def drift_columns(spec) -> list[str]:
    """The table's drift columns that its contract has (window-templated names resolved)."""
    names = [c.format(longest=longest_window(spec)) for c in DRIFT_COLUMNS.get(spec.name, [])]
    return [c for c in names if c in spec.columns]


def numeric_drift_columns(spec) -> list[str]:
    from pyspark.sql.types import NumericType

    return [c for c in drift_columns(spec) if isinstance(spec.schema[c].dataType, NumericType)]


def contract_checks(spec) -> list[Check]:
    """Columns in order, key columns not null, key unique. Types and the other NOT NULL columns are enforced
    by the Delta table's schema on write; `schema_matches_contract` compares the partition's schema too."""
    checks = [Check("columns_match_contract", "ExpectTableColumnsToMatchOrderedList",
                    {"column_list": list(spec.columns)})]
    key = [c for c in spec.key if c != spec.partition_by]
    checks += [Check(f"{c}_not_null", "ExpectColumnValuesToNotBeNull", {"column": c}) for c in key]
    if len(key) == 1:
        checks.append(Check(f"{key[0]}_unique", "ExpectColumnValuesToBeUnique", {"column": key[0]}))
    elif key:
        checks.append(Check("key_unique", "ExpectCompoundColumnsToBeUnique", {"column_list": key}))
    return checks


def checks_for(spec) -> list[Check]:
    """The table's checkpoint expectations (`{longest}` in names and columns resolved to its longest window)."""
    longest = longest_window(spec)
    own = [Check(c.name.format(longest=longest), c.expectation,
                 {k: v.format(longest=longest) if isinstance(v, str) else v for k, v in c.kwargs.items()},
                 c.severity) for c in TABLE_CHECKS.get(spec.name, [])]
    return contract_checks(spec) + own


def suite(spec) -> dict[str, str]:
    """Every expectation a partition of the table is checked against: name -> declared severity."""
    out = {c.name: c.severity for c in checks_for(spec)}
    computed = ["row_count", "schema_matches_contract"]
    computed += list(VOLUME_CHECKS) if spec.name in VOLUME_TABLES else []
    computed += list(COMPUTED_FOR_TABLE.get(spec.name, ()))
    out.update({name: COMPUTED[name] for name in computed})
    out.update({f"{c}_null_rate_stable": COMPUTED["{column}_null_rate_stable"] for c in drift_columns(spec)})
    out.update({f"{c}_distribution_stable": COMPUTED["{column}_distribution_stable"]
                for c in numeric_drift_columns(spec)})
    return out
