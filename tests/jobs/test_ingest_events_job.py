"""Job tests for ingest_events on a temporary lake with simulated landing files."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import ingest_events
from recpipe.simulator import DEFECT_KINDS, SimulationSpec, simulate_to_landing
from recpipe.storage import Lake
from schemas import EVENTS, INGEST_AUDIT, QUARANTINE

START = "2026-11-01"


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    simulate_to_landing(SimulationSpec(users=1500, items=800, days=2, start=START, seed=11, defect_rate=0.05,
                                       files_per_day=3), out)
    return out


def _cfg(cfg, landing):
    import dataclasses

    return dataclasses.replace(cfg, landing=str(landing))


def _snapshot(lake: Lake, spec, ds):
    cols = [c for c in spec.columns if c != "raw_bytes"]
    return sorted(tuple(r) for r in lake.read(spec, ds, ds).select(*cols).collect())


def test_invariants_hold_and_every_defect_kind_lands_with_its_reason(spark, cfg, landing):
    cfg = _cfg(cfg, landing)
    day = "2026-11-02"
    summary = ingest_events.run(cfg, day, spark)
    manifest = json.loads((landing / "ground_truth" / "defects" / f"ds={day}.json").read_text())
    lines = sum(len(gzip.open(p).read().splitlines()) for p in (landing / "events" / f"ds={day}").glob("*.gz"))

    assert summary.rows_read == lines == manifest["lines"]
    assert summary.rows_read == summary.rows_accepted + summary.rows_quarantined + summary.duplicates_dropped

    lake = Lake(spark, cfg.lake)
    by_reason = {r["reason"]: r["count"] for r in lake.read(QUARANTINE, day, day).groupBy("reason").count().collect()}
    expected = {}
    for kind, n in manifest["defects"].items():
        if DEFECT_KINDS[kind] is not None and n:
            expected[DEFECT_KINDS[kind]] = expected.get(DEFECT_KINDS[kind], 0) + n
    assert by_reason == expected
    assert summary.duplicates_dropped == manifest["defects"]["exact_duplicate"]
    assert summary.conflicting_duplicates == manifest["defects"]["conflicting_duplicate"]

    audit = lake.read(INGEST_AUDIT, day, day).collect()
    assert len(audit) == 3
    for a in audit:
        assert a["rows_read"] == a["rows_accepted"] + a["rows_quarantined"] + a["duplicates_dropped"] > 0

    events = lake.read(EVENTS, day, day)
    assert events.count() == summary.rows_accepted
    assert events.select("event_id").distinct().count() == summary.rows_accepted
    assert events.where(F.col("event_ts").isNull() | F.col("user_id").isNull()).count() == 0


def test_rerun_is_idempotent_and_leaves_other_partitions_alone(spark, cfg, landing):
    cfg = _cfg(cfg, landing)
    lake = Lake(spark, cfg.lake)
    ingest_events.run(cfg, "2026-11-01", spark)
    ingest_events.run(cfg, "2026-11-02", spark)
    before = {(s.name, d): _snapshot(lake, s, d) for s in (EVENTS, QUARANTINE, INGEST_AUDIT)
              for d in ("2026-11-01", "2026-11-02")}
    ingest_events.run(cfg, "2026-11-02", spark)
    after = {(s.name, d): _snapshot(lake, s, d) for s in (EVENTS, QUARANTINE, INGEST_AUDIT)
             for d in ("2026-11-01", "2026-11-02")}
    assert before == after
    assert all(len(v) > 0 for v in after.values())


def test_a_failed_write_leaves_the_previous_partition_in_place(spark, cfg, landing, monkeypatch):
    cfg = _cfg(cfg, landing)
    lake = Lake(spark, cfg.lake)
    day = "2026-11-01"
    ingest_events.run(cfg, day, spark)
    before = _snapshot(lake, EVENTS, day)

    real_to_events = ingest_events.to_events

    def exploding_to_events(classified, ds):
        # Fails inside the executors halfway through the write, after some rows were produced.
        boom = F.udf(lambda eid: (_ for _ in ()).throw(RuntimeError("disk on fire")) if eid.endswith("7") else eid)
        return real_to_events(classified, ds).withColumn("event_id", boom("event_id"))

    monkeypatch.setattr(ingest_events, "to_events", exploding_to_events)
    with pytest.raises(Exception, match="disk on fire"):
        ingest_events.run(cfg, day, spark)
    assert _snapshot(lake, EVENTS, day) == before


def test_missing_landing_folder_is_a_clear_error(spark, cfg):
    with pytest.raises(FileNotFoundError, match=r"landing folder not found: .*events/ds=2026-01-01"):
        ingest_events.run(cfg, "2026-01-01", spark)


def test_empty_landing_folder_writes_empty_partitions(spark, cfg, caplog):
    (Path(cfg.landing) / "events" / "ds=2026-02-01").mkdir(parents=True)
    summary = ingest_events.run(cfg, "2026-02-01", spark)
    assert (summary.files, summary.rows_read, summary.rows_accepted) == (0, 0, 0)
    assert "has no files" in caplog.text
    lake = Lake(spark, cfg.lake)
    assert lake.read(EVENTS, "2026-02-01", "2026-02-01").count() == 0
    assert lake.read(EVENTS).schema == EVENTS.schema


def test_bad_ds_is_rejected(spark, cfg):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ingest_events.run(cfg, "11/02/2026", spark)
