"""`user_features` (partition as_of): browsing vs consumption behaviour per user over several windows.

Columns are generated from the feature windows (default 1, 7, 28 days) so the contract is declared once
for any window set; ``USER_FEATURES`` is the contract for the defaults.
"""
from __future__ import annotations

from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType, TimestampType

from schemas.base import TableSpec

DEFAULT_WINDOWS = (1, 7, 28)

# (name, type, nullable, description) per window; `{w}` is replaced by the window's day count.
WINDOW_FEATURES = [
    # browsing: the information hunt
    ("sessions_{w}d", LongType(), False, "sessions"),
    ("views_{w}d", LongType(), False, "view events"),
    ("distinct_items_{w}d", LongType(), False, "distinct items viewed"),
    ("distinct_categories_{w}d", LongType(), False, "distinct categories viewed"),
    ("dwell_total_{w}d", DoubleType(), False, "seconds of dwell over views"),
    ("dwell_median_{w}d", DoubleType(), True, "median dwell per view (null without dwell)"),
    ("views_per_session_{w}d", DoubleType(), True, "views / sessions"),
    ("session_duration_mean_{w}d", DoubleType(), True, "mean session duration, seconds"),
    # consumption: the decision
    ("carts_{w}d", LongType(), False, "add_to_cart events"),
    ("purchases_{w}d", LongType(), False, "purchase events"),
    ("likes_{w}d", LongType(), False, "like events"),
    ("views_before_first_cart_{w}d", DoubleType(), True, "mean views before a session's first cart"),
    ("time_to_cart_seconds_{w}d", DoubleType(), True, "mean seconds from session start to first cart"),
    ("view_to_cart_raw_{w}d", DoubleType(), True, "carts / views"),
    ("view_to_cart_{w}d", DoubleType(), False, "posterior mean of the view->cart rate (Beta prior)"),
    ("view_to_cart_ci_width_{w}d", DoubleType(), False, "width of its ~95% posterior interval"),
    ("cart_to_purchase_raw_{w}d", DoubleType(), True, "purchases / carts"),
    ("cart_to_purchase_{w}d", DoubleType(), False, "posterior mean of the cart->purchase rate"),
    ("cart_to_purchase_ci_width_{w}d", DoubleType(), False, "width of its ~95% posterior interval"),
]

DEVICE_SHARES = ("mobile", "desktop", "tablet", "app", "unknown")


def user_features_schema(windows=DEFAULT_WINDOWS) -> StructType:
    longest = max(windows)
    fields = [
        StructField("as_of", DateType(), False),
        StructField("user_id", StringType(), False),
    ]
    for w in windows:
        fields += [StructField(name.format(w=w), typ, nullable) for name, typ, nullable, _ in WINDOW_FEATURES]
    fields += [
        StructField(f"events_{longest}d", LongType(), False),
        StructField(f"active_days_{longest}d", LongType(), False),
        StructField("last_event_ts", TimestampType(), False),
        StructField("recency_days", DoubleType(), False),
        *[StructField(f"device_share_{d}", DoubleType(), False) for d in DEVICE_SHARES],
        StructField("p_buyer", DoubleType(), False),
        StructField("user_type", StringType(), False),
    ]
    return StructType(fields)


def user_features_spec(windows=DEFAULT_WINDOWS) -> TableSpec:
    return TableSpec(
        name="user_features",
        schema=user_features_schema(tuple(windows)),
        partition_by="as_of",
        key=("as_of", "user_id"),
        description="One row per user with an event in the longest window as of as_of.",
    )


USER_FEATURES = user_features_spec()
