"""Data-quality validation: broken partitions fail with the table, partition and expectation named, and
every outcome is recorded in dq_results."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from pyspark.sql import functions as F

from recpipe.dq import DataQualityError, validate_partition
from recpipe.storage import Lake
from schemas import CANDIDATES, DQ_RESULTS, EVENTS
from tests.jobs.helpers import ev, events_df

D = dt.date(2026, 11, 14)


def _day(day: dt.date, n: int, prefix: str):
    return [ev(f"{prefix}{i}", f"u{i % 3}", f"i{i % 5}", "view", f"{day}T10:{i:02d}:00", dwell=10.0) for i in range(n)]


def test_a_clean_partition_passes_and_every_outcome_is_recorded(spark, cfg):
    lake = Lake(spark, cfg.lake)
    lake.write_range(events_df(spark, _day(D, 12, "a")), EVENTS, D, D)
    outcomes = validate_partition(lake, cfg, EVENTS, D, run_id="r1", docs=False)
    assert outcomes and all(o.success for o in outcomes)
    rows = lake.read(DQ_RESULTS, D, D).collect()
    assert {r["expectation"] for r in rows} == {o.expectation for o in outcomes}
    assert {(r["table_name"], r["run_id"]) for r in rows} == {("events", "r1")}
    assert {"event_type_in_set", "event_id_unique", "columns_match_contract"} <= {r["expectation"] for r in rows}


def test_candidates_with_a_purchased_item_fail_and_name_the_expectation(spark, cfg):
    lake = Lake(spark, cfg.lake)
    lake.write_range(events_df(spark, [ev("p", "u1", "i2", "purchase", f"{D}T09:00:00")]), EVENTS, D, D)
    k = 3
    rows = [(D, "u1", f"i{j}", j, 1.0 / j, "als", "m1", None) for j in range(1, k + 1)]
    lake.write_partition(spark.createDataFrame(rows, CANDIDATES.schema), CANDIDATES, D)
    small = dataclasses.replace(cfg, candidates=dataclasses.replace(cfg.candidates, k=k))
    with pytest.raises(DataQualityError, match=r"table candidates, partition 2026-11-14: .*no_purchased_item_in_candidates"):
        validate_partition(lake, small, CANDIDATES, D, run_id="r2", docs=False)
    recorded = {r["expectation"]: r for r in lake.read(DQ_RESULTS, D, D).where(F.col("table_name") == "candidates")
                .collect()}
    assert recorded["no_purchased_item_in_candidates"]["success"] is False
    assert recorded["no_purchased_item_in_candidates"]["observed"] == "1"
    assert recorded["candidates_per_user_equal_k"]["success"] is True


def test_a_volume_collapse_fails_and_a_normal_day_does_not(spark, cfg):
    lake = Lake(spark, cfg.lake)
    days = [D - dt.timedelta(days=i) for i in range(7, 0, -1)]
    rows = [r for i, day in enumerate(days) for r in _day(day, 20, f"h{i}-")]
    lake.write_range(events_df(spark, rows), EVENTS, days[0], days[-1])
    lake.write_range(events_df(spark, _day(D, 19, "n")), EVENTS, D, D)
    ok = {o.expectation: o for o in validate_partition(lake, cfg, EVENTS, D, run_id="r3", docs=False)}
    assert ok["volume_within_band"].success and ok["volume_not_collapsed"].success
    lake.write_range(events_df(spark, _day(D, 1, "c")), EVENTS, D, D)
    with pytest.raises(DataQualityError, match="volume_not_collapsed"):
        validate_partition(lake, cfg, EVENTS, D, run_id="r4", docs=False)


def test_the_reference_counts_values_as_gx_bins_them_and_smooths_empty_cells(spark):
    from recpipe.dq import partition_object, reference_profile

    # Values on the edges go up a bin (x < e0 below, [e0, e1), [e1, e2] closed, x > e2 above).
    df = spark.createDataFrame([(float(v),) for v in (0, 1, 1, 2, 3, 3, 9)] + [(None,)], "x double")
    ref = reference_profile(df, ["x"], [])
    assert ref["null"] == {"x": pytest.approx(1 / 8)}
    from pyspark.sql import functions as F
    from recpipe.dq import _cells

    row = df.agg(*[F.sum(c.cast("long")).alias(str(i)) for i, c in enumerate(_cells(F.col("x"), [1.0, 2.0, 3.0]))]).first()
    assert list(row) == [1, 2, 3, 1]            # 0 | 1, 1 | 2, 3, 3 | 9
    obj = partition_object([1.0, 2.0, 3.0], [0, 2, 3, 1])
    assert sum(obj["weights"]) + sum(obj["tail_weights"]) == pytest.approx(1.0)
    assert obj["tail_weights"][0] == pytest.approx(0.5 / 8) and min(obj["weights"]) > 0


def _history(lake, spark, dwell=lambda i: 5.0 + i % 20):
    days = [D - dt.timedelta(days=i) for i in range(7, 0, -1)]
    rows = [ev(f"h{d}-{i}", f"u{i % 3}", f"i{i % 5}", "view", f"{day}T10:{i:02d}:00", dwell=dwell(i))
            for d, day in enumerate(days) for i in range(40)]
    lake.write_range(events_df(spark, rows), EVENTS, days[0], days[-1])


def test_drift_of_a_watched_column_warns_without_blocking(spark, cfg):
    lake = Lake(spark, cfg.lake)
    _history(lake, spark)
    # Same volume, but dwell jumped tenfold and a third of it is missing.
    today = [ev(f"t{i}", f"u{i % 3}", f"i{i % 5}", "view", f"{D}T10:{i:02d}:00",
                dwell=None if i % 3 == 0 else 10.0 * (5.0 + i % 20)) for i in range(40)]
    lake.write_range(events_df(spark, today), EVENTS, D, D)
    out = {o.expectation: o for o in validate_partition(lake, cfg, EVENTS, D, run_id="d1", docs=False)}
    assert out["dwell_seconds_distribution_stable"].severity == "warn"
    assert not out["dwell_seconds_distribution_stable"].success
    assert not out["dwell_seconds_null_rate_stable"].success
    assert out["price_distribution_stable"].success and out["price_null_rate_stable"].success
    # The same values as the history: no drift.
    lake.write_range(events_df(spark, [ev(f"s{i}", f"u{i % 3}", f"i{i % 5}", "view", f"{D}T10:{i:02d}:00",
                                          dwell=5.0 + i % 20) for i in range(40)]), EVENTS, D, D)
    out = {o.expectation: o for o in validate_partition(lake, cfg, EVENTS, D, run_id="d2", docs=False)}
    assert out["dwell_seconds_distribution_stable"].success and out["dwell_seconds_null_rate_stable"].success
    # The reference was binned as GX bins the partition: the same values diverge by (almost) nothing.
    assert json.loads(out["dwell_seconds_distribution_stable"].observed)["observed"] < 0.01


def test_the_reference_bins_values_on_the_edges_as_gx_does(spark, cfg):
    """A skewed, heavily tied column, the same every day: its deciles are values of the data, so counting
    a value on an edge into the wrong bin would move whole tenths of the mass and show as divergence."""
    dwell = lambda i: float([0, 0, 0, 0, 1, 1, 2, 5, 5, 30][i % 10])
    lake = Lake(spark, cfg.lake)
    _history(lake, spark, dwell=dwell)
    rows = [ev(f"t{i}", f"u{i % 3}", f"i{i % 5}", "view", f"{D}T10:{i:02d}:00", dwell=dwell(i)) for i in range(40)]
    lake.write_range(events_df(spark, rows), EVENTS, D, D)
    out = {o.expectation: o for o in validate_partition(lake, cfg, EVENTS, D, run_id="e1", docs=False)}
    assert json.loads(out["dwell_seconds_distribution_stable"].observed)["observed"] < 0.01


def test_a_severity_can_be_changed_by_configuration(spark, cfg):
    lake = Lake(spark, cfg.lake)
    _history(lake, spark)
    lake.write_range(events_df(spark, _day(D, 1, "c")), EVENTS, D, D)
    lenient = dataclasses.replace(cfg, dq=dataclasses.replace(cfg.dq, severity=("events.volume_not_collapsed=warn",)))
    out = {o.expectation: o for o in validate_partition(lake, lenient, EVENTS, D, run_id="s1", docs=False)}
    assert not out["volume_not_collapsed"].success and out["volume_not_collapsed"].severity == "warn"
    recorded = {r["expectation"]: r["severity"] for r in lake.read(DQ_RESULTS, D, D).collect()}
    assert recorded["volume_not_collapsed"] == "warn"
    bad = dataclasses.replace(cfg, dq=dataclasses.replace(cfg.dq, severity=("volume_not_collapsed=off",)))
    with pytest.raises(ValueError, match="table.expectation=error|warn"):
        validate_partition(lake, bad, EVENTS, D, run_id="s2", docs=False)


def test_publish_serves_only_a_validated_partition(spark, cfg):
    from jobs import publish

    lake = Lake(spark, cfg.lake)
    lake.write_range(events_df(spark, [ev("p", "u1", "i2", "purchase", f"{D}T09:00:00")]), EVENTS, D, D)
    small = dataclasses.replace(cfg, candidates=dataclasses.replace(cfg.candidates, k=2))
    good = [(D, "u1", "i3", 1, 0.9, "als", "m1", None), (D, "u1", "i4", 2, 0.8, "als", "m1", None)]
    lake.staging().write_partition(spark.createDataFrame(good, CANDIDATES.schema), CANDIDATES, D)
    with pytest.raises(DataQualityError, match="not validated"):
        publish.run(small, D, "candidates", spark)
    validate_partition(lake, small, CANDIDATES, D, run_id="p1", docs=False, staged=True)
    # The job rewrites the staged lists after that validation: publish still serves what was validated.
    unchecked = [(D, "u1", "i5", 1, 0.9, "als", "m1", None), (D, "u1", "i6", 2, 0.8, "als", "m1", None)]
    lake.staging().write_partition(spark.createDataFrame(unchecked, CANDIDATES.schema), CANDIDATES, D)
    assert publish.run(small, D, "candidates", spark).rows == 2
    assert sorted(r["item_id"] for r in lake.read(CANDIDATES, D, D).collect()) == ["i3", "i4"]
    # The next attempt stages a list with the purchased item: validation fails, publish refuses, and the
    # served partition keeps the validated lists.
    broken = [good[0], (D, "u1", "i2", 2, 0.8, "als", "m1", None)]
    lake.staging().write_partition(spark.createDataFrame(broken, CANDIDATES.schema), CANDIDATES, D)
    with pytest.raises(DataQualityError, match="no_purchased_item_in_candidates"):
        validate_partition(lake, small, CANDIDATES, D, run_id="p2", docs=False, staged=True)
    with pytest.raises(DataQualityError, match="not published.*no_purchased_item_in_candidates"):
        publish.run(small, D, "candidates", spark)
    assert sorted(r["item_id"] for r in lake.read(CANDIDATES, D, D).collect()) == ["i3", "i4"]


def test_checkpoint_runs_on_one_reports_root_take_turns(spark, tmp_path):
    """A second validation (another task of the same run) waits while one holds the GX store, then runs."""
    import threading

    from recpipe.dq import gx_lock, run_gx
    from schemas.expectations import checks_for

    df = events_df(spark, _day(D, 3, "t"))
    done = threading.Event()
    found = []

    def validate():
        found.extend(run_gx(df, checks_for(EVENTS), "events", str(D), tmp_path))
        done.set()

    with gx_lock(tmp_path):
        worker = threading.Thread(target=validate)
        worker.start()
        assert not done.wait(3.0)              # held out while the store is taken
    worker.join(120)
    assert done.is_set() and found and all(o.success for o in found)
    assert (tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()
