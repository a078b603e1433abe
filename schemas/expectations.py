"""Expectations per table, declared next to the contracts they check, each with its severity.

A table's suite (`suite(spec)`, name -> severity) has three parts, all run in one Great Expectations
checkpoint per partition (so the Data Docs show every one of them):
* from its contract: its columns in order, a non-null and unique key (`contract_checks`);
* its own enums and ranges (`TABLE_CHECKS`);
* expectations whose bounds come from other partitions or tables (`DERIVED`): volume against the trailing
  week, null-rate and distribution drift of key columns, candidates per user, purchased items among
  candidates, the ranker sample ratio, the quarantined share of the rows read. `recpipe.dq` computes
  their parameters (the trailing mean, the reference distribution, the day's purchases as a view) and
  GX evaluates them on the partition.
Beside the checkpoint, `recpipe.dq` records facts of every partition (`RECORDED`): its row count, the
Delta version of the table that was validated, and its schema (names, types, nullability) against the
contract.

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
    # Shown with the expectation in the Data Docs.
    description: str | None = None


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
# numeric columns the distribution (KL divergence over the reference's deciles).
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

# Facts `recpipe.dq` records of every partition beside the checkpoint, empty ones too.
RECORDED: dict[str, str] = {
    "row_count": WARN,                  # never fails: the size, also of an empty partition
    "validated_version": WARN,          # never fails: the Delta version validated (`publish` copies exactly it)
    "schema_matches_contract": ERROR,   # names, types and nullability as read
}

# Spark SQL of the relational expectations (`UnexpectedRowsExpectation`: a row returned is a violation).
# `{{batch}}` is the partition; the other fields are filled in by `recpipe.dq`.
CANDIDATES_PER_USER_SQL = (
    "SELECT user_id, count(*) AS candidates FROM {{batch}} GROUP BY user_id "
    "HAVING count(*) > {k} OR (count(*) < {k} AND (SELECT count(DISTINCT item_id) FROM {{batch}}) >= {k})")
PURCHASED_CANDIDATES_SQL = (
    "SELECT c.user_id, c.item_id, c.rank FROM {{batch}} c "
    "JOIN {purchases} p ON c.user_id = p.user_id AND c.item_id = p.item_id")
SAMPLE_RATIO_SQL = (
    "SELECT positives, negatives, negatives / positives AS negatives_per_positive FROM ("
    "SELECT sum(CASE WHEN label = 1 THEN 1 ELSE 0 END) AS positives, "
    "sum(CASE WHEN label = 0 THEN 1 ELSE 0 END) AS negatives FROM {{batch}}) "
    "WHERE positives > 0 AND (negatives < {lo} * positives OR negatives > {hi} * positives)")

# Expectations whose parameters come from other partitions or tables, with their severities; `recpipe.dq`
# fills in the parameters. `{column}` stands for each drift column (the distribution for numeric ones).
DERIVED: dict[str, Check] = {c.name: c for c in (
    Check("volume_within_band", "ExpectTableRowCountToBeBetween", severity=WARN,
          description="Rows within ±dq.volume_band_warn of the trailing 7 partitions' mean"),
    Check("volume_not_collapsed", "ExpectTableRowCountToBeBetween", severity=ERROR,
          description="Rows at least (1 - dq.volume_band_error) x the trailing 7 partitions' mean"),
    Check("{column}_null_rate_stable", "ExpectColumnProportionOfNonNullValuesToBeBetween", severity=WARN,
          description="Null rate within ±dq.null_rate_drift of the trailing partitions' null rate"),
    Check("{column}_distribution_stable", "ExpectColumnKLDivergenceToBeLessThan", severity=WARN,
          description="KL divergence from the trailing partitions' distribution (over their deciles) at most "
                      "dq.kl_warn"),
    Check("candidates_per_user_equal_k", "UnexpectedRowsExpectation", severity=ERROR,
          kwargs={"unexpected_rows_query": CANDIDATES_PER_USER_SQL},
          description="Every user has K candidates (fewer only when the catalogue has fewer than K items)"),
    Check("no_purchased_item_in_candidates", "UnexpectedRowsExpectation", severity=ERROR,
          kwargs={"unexpected_rows_query": PURCHASED_CANDIDATES_SQL},
          description="No candidate is an item its user purchased within the interaction window"),
    Check("negatives_per_positive", "UnexpectedRowsExpectation", severity=WARN,
          kwargs={"unexpected_rows_query": SAMPLE_RATIO_SQL},
          description="Negatives per positive within [0.8, 1] x ranker_samples.negatives_per_positive"),
    Check("quarantine_share_below_limit", "ExpectTableRowCountToBeBetween", severity=WARN,
          description="Quarantined rows at most dq.max_quarantine_share of the rows read that day"),
)}
VOLUME_CHECKS = ("volume_within_band", "volume_not_collapsed")
DRIFT_CHECKS = ("{column}_null_rate_stable", "{column}_distribution_stable")
DERIVED_FOR_TABLE: dict[str, tuple[str, ...]] = {
    "candidates": ("candidates_per_user_equal_k", "no_purchased_item_in_candidates"),
    "ranker_samples": ("negatives_per_positive",),
    "quarantine": ("quarantine_share_below_limit",),
}


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
    out.update(RECORDED)
    derived = list(VOLUME_CHECKS) if spec.name in VOLUME_TABLES else []
    derived += list(DERIVED_FOR_TABLE.get(spec.name, ()))
    out.update({name: DERIVED[name].severity for name in derived})
    null_rate, distribution = (DERIVED[name] for name in DRIFT_CHECKS)
    out.update({null_rate.name.format(column=c): null_rate.severity for c in drift_columns(spec)})
    out.update({distribution.name.format(column=c): distribution.severity for c in numeric_drift_columns(spec)})
    return out
