"""The declared suites: every expectation names columns its table has, under any window configuration, and
every table has the contract's checks with a severity."""
from __future__ import annotations

import pytest

from recpipe.config import load_config
from recpipe.dq import severity_overrides, table_spec
from schemas import TABLES
from schemas.expectations import ERROR, WARN, checks_for, suite


def _columns_named(check) -> list[str]:
    kw = check.kwargs
    return [kw["column"]] if "column" in kw else list(kw.get("column_list", []))


@pytest.mark.parametrize("windows", ["1,7,28", "1,14"])
def test_every_expectation_names_columns_of_its_table(windows):
    cfg = load_config(overrides={"features.windows": windows, "item_stats.windows": windows}, environ={})
    for name in TABLES:
        spec = table_spec(cfg, name)
        for check in checks_for(spec):
            missing = [c for c in _columns_named(check) if c not in spec.columns]
            assert not missing, (name, check.name, missing)
        declared = suite(spec)
        assert set(declared.values()) <= {ERROR, WARN}
        assert declared["schema_matches_contract"] == ERROR and declared["columns_match_contract"] == ERROR
    longest = windows.split(",")[-1]
    assert f"view_to_cart_{longest}d_is_a_rate" in suite(table_spec(cfg, "user_features"))


def test_the_checks_the_served_tables_need_block_publishing():
    cfg = load_config(environ={})
    candidates = suite(table_spec(cfg, "candidates"))
    assert candidates["candidates_per_user_equal_k"] == ERROR
    assert candidates["no_purchased_item_in_candidates"] == ERROR
    assert suite(table_spec(cfg, "events"))["volume_not_collapsed"] == ERROR


def test_a_severity_override_must_name_a_declared_expectation():
    cfg = load_config(environ={})
    assert severity_overrides(("events.volume_within_band=error",), cfg) == {"events.volume_within_band": "error"}
    with pytest.raises(ValueError, match="declares no expectation 'volume_not_colapsed'"):
        severity_overrides(("events.volume_not_colapsed=warn",), cfg)
    with pytest.raises(ValueError, match="unknown table 'event'"):
        severity_overrides(("event.volume_within_band=warn",), cfg)
