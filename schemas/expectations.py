"""Expectations per table, declared next to the contracts they check.

Every table gets, from its contract: its columns in order, a non-null and unique key (severity error);
`recpipe.dq` adds the schema (names, types, nullability) against the contract. Tables add their own enums and ranges below. Checks that need more than one
partition or table (volume against the trailing week, candidates per user, purchased items among
candidates, the ranker sample ratio) are computed by `recpipe.dq` and recorded the same way.
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


# Enums and ranges per table name, beyond what the contract implies.
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
        Check("view_to_cart_28d_is_a_rate", "ExpectColumnValuesToBeBetween",
              {"column": "view_to_cart_28d", "min_value": 0, "max_value": 1}),
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
# `{longest}` is the table's longest window in days.
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


def drift_columns(spec) -> list[str]:
    """The table's drift columns that its contract has (window-templated names resolved)."""
    windows = [int(c.split("_")[-1][:-1]) for c in spec.columns if c.startswith(("views_", "score_"))
               and c.endswith("d") and c.split("_")[-1][:-1].isdigit()]
    longest = max(windows) if windows else 0
    names = [c.format(longest=longest) for c in DRIFT_COLUMNS.get(spec.name, [])]
    return [c for c in names if c in spec.columns]


def contract_checks(spec) -> list[Check]:
    """Columns in order, key columns not null, key unique. Types and the other NOT NULL columns are enforced
    by the Delta table's schema on write; `recpipe.dq` also compares the partition's schema with the contract."""
    checks = [Check("columns_match_contract", "ExpectTableColumnsToMatchOrderedList",
                    {"column_list": list(spec.columns)})]
    key = [c for c in spec.key if c != spec.partition_by]
    checks += [Check(f"{c}_not_null", "ExpectColumnValuesToNotBeNull", {"column": c}) for c in key]
    if len(key) == 1:
        checks.append(Check(f"{key[0]}_unique", "ExpectColumnValuesToBeUnique", {"column": key[0]}))
    elif key:
        checks.append(Check("key_unique", "ExpectCompoundColumnsToBeUnique", {"column_list": key}))
    return checks


def _is_array(f) -> bool:
    return f.dataType.typeName() == "array"


def checks_for(spec) -> list[Check]:
    return contract_checks(spec) + TABLE_CHECKS.get(spec.name, [])
