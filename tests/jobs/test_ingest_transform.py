"""Transform tests for ingest_events on hand-built landing lines."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import functions as F

from jobs.ingest_events import ACCEPTED, DUPLICATE, QUARANTINED, classify, to_audit, to_events, to_quarantine
from recpipe.config import IngestConfig
from schemas import QUARANTINE_REASONS

DS = dt.date(2026, 11, 2)


def good(**over) -> dict:
    rec = {"event_id": "e1", "user_id": "u1", "session_id": "s1", "item_id": "i1", "event_type": "view",
           "event_ts": "2026-11-02T10:00:00Z", "dwell_seconds": 12.5, "device": "mobile", "price": 9.99}
    rec.update(over)
    return {k: v for k, v in rec.items() if v is not _DROP}


_DROP = object()


def line(**over) -> str:
    return json.dumps(good(**over))


def raw_df(spark, lines, source="part-0.jsonl"):
    """Lines may be str or bytes; bytes travel through a binary column so invalid UTF-8 survives."""
    rows = [(ln if isinstance(ln, bytes) else ln.encode("utf-8"), source) for ln in lines]
    return (spark.createDataFrame(rows, "b binary, source_file string")
            .select(F.col("b").cast("string").alias("value"), "source_file"))


def classify_rows(spark, lines, cfg=None):
    return classify(raw_df(spark, lines), DS, cfg or IngestConfig()).collect()


DEFECTS = [
    ("invalid_utf8", b'{"event_id":"e1","user_id":"u\xff\xfe1","item_id":"i1","event_type":"view",'
                     b'"event_ts":"2026-11-02T10:00:00Z"}', None),
    ("empty_record", "   ", None),
    ("malformed_json", line()[:40], None),
    ("malformed_json", "[1, 2, 3]", None),
    ("unknown_fields", line(campaign="x", ab_bucket=3), "ab_bucket,campaign"),
    ("missing_field", line(user_id=_DROP), "user_id"),
    ("missing_field", line(item_id=""), "item_id"),
    ("missing_field", line(event_ts=None), "event_ts"),
    ("wrong_type", line(user_id={"id": 1}), "user_id="),
    ("wrong_type", line(item_id=[1, 2]), "item_id="),
    ("wrong_type", line(dwell_seconds="long"), "dwell_seconds=long"),
    ("wrong_type", line(price="cheap"), "price=cheap"),
    ("wrong_type", line(event_ts="yesterday"), "event_ts=yesterday"),
    ("unknown_event_type", line(event_type="hover"), "event_type=hover"),
    ("invalid_device", line(device="smartwatch"), "device=smartwatch"),
    ("dwell_out_of_range", line(dwell_seconds=-5), "dwell_seconds=-5.0"),
    ("dwell_out_of_range", line(dwell_seconds=1e7), "dwell_seconds="),
    ("price_out_of_range", line(price=-1), "price=-1.0"),
    ("timestamp_out_of_range", line(event_ts="2099-01-01T00:00:00Z"), "2099-01-01"),
    ("timestamp_out_of_range", line(event_ts=0), "1970-01-01"),
    ("timestamp_out_of_range", line(event_ts="2026-10-01T00:00:00Z"), "2026-10-01"),
]


@pytest.fixture(scope="module")
def classified_defects(spark):
    """All defect lines classified in one Spark job, keyed by their raw bytes."""
    rows = classify_rows(spark, [raw for _, raw, _ in DEFECTS])
    assert len(rows) == len(DEFECTS)
    return {r["value"]: r for r in rows}


def _key(raw):
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw


@pytest.mark.parametrize("reason,raw,detail", DEFECTS, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(DEFECTS)])
def test_each_defect_is_quarantined_with_its_reason(classified_defects, reason, raw, detail):
    row = classified_defects[_key(raw)]
    assert row["status"] == QUARANTINED
    assert row["reason"] == reason
    assert reason in QUARANTINE_REASONS
    if detail is not None:
        assert detail in row["detail"]


def test_a_good_record_is_accepted_with_typed_fields(spark):
    [row] = classify_rows(spark, [line()])
    assert row["status"] == ACCEPTED and row["reason"] is None
    assert row["event_id"] == "e1" and row["user_id"] == "u1" and row["session_id"] == "s1"
    assert row["event_ts"] == dt.datetime(2026, 11, 2, 10, 0, 0)
    assert row["dwell_seconds"] == 12.5 and row["price"] == 9.99 and row["device"] == "mobile"


def test_timestamp_formats_parse_to_the_same_instant(spark):
    formats = ["2026-11-02T10:00:00Z", "2026-11-02T11:00:00+01:00", "2026-11-02T05:00:00-05:00",
               "2026-11-02T10:00:00.000Z", 1793613600, 1793613600000, "1793613600", 1793613600.0]
    rows = classify_rows(spark, [line(event_id=f"e{i}", event_ts=ts) for i, ts in enumerate(formats)])
    assert len(rows) == len(formats)
    for row in rows:
        assert row["status"] == ACCEPTED, row["detail"]
        assert row["event_ts"] == dt.datetime(2026, 11, 2, 10, 0, 0), row["value"]


def test_numeric_ids_and_case_are_normalised_and_missing_device_is_unknown(spark):
    [row] = classify_rows(spark, [line(user_id=42, item_id=7, event_type=" VIEW ", device=_DROP)])
    assert row["status"] == ACCEPTED
    assert (row["user_id"], row["item_id"], row["event_type"], row["device"]) == ("42", "7", "view", "unknown")


def test_late_events_inside_tolerance_are_accepted_and_outside_rejected(spark):
    cfg = IngestConfig(late_tolerance_days=3, future_tolerance_hours=2)
    inside = [line(event_id="a", event_ts="2026-10-30T00:00:00Z"), line(event_id="b", event_ts="2026-11-03T01:59:59Z")]
    outside = [line(event_id="c", event_ts="2026-10-29T23:59:59Z"), line(event_id="d", event_ts="2026-11-03T02:00:00Z")]
    rows = {r["event_id"]: r for r in classify_rows(spark, inside + outside, cfg)}
    assert rows["a"]["status"] == rows["b"]["status"] == ACCEPTED
    assert rows["c"]["reason"] == rows["d"]["reason"] == "timestamp_out_of_range"


def test_unknown_fields_can_be_accepted_by_configuration(spark):
    [row] = classify_rows(spark, [line(campaign="x")], IngestConfig(on_unknown_fields="accept"))
    assert row["status"] == ACCEPTED


def test_exact_duplicates_are_dropped_and_counted(spark):
    rows = classify_rows(spark, [line(), line(), line()])
    assert sorted(r["status"] for r in rows) == [ACCEPTED, DUPLICATE, DUPLICATE]


def test_reserialised_copy_is_a_duplicate_not_a_conflict(spark):
    a = line()
    b = json.dumps(dict(reversed(list(good(event_ts="2026-11-02T11:00:00+01:00").items()))))
    rows = classify_rows(spark, [a, b])
    assert sorted(r["status"] for r in rows) == [ACCEPTED, DUPLICATE]


def test_conflicting_duplicate_is_quarantined_and_winner_does_not_depend_on_order(spark):
    a, b = line(item_id="i1"), line(item_id="i2")
    first = classify_rows(spark, [a, b])
    second = classify_rows(spark, [b, a])
    for rows in (first, second):
        assert sorted(r["status"] for r in rows) == [ACCEPTED, QUARANTINED]
        [bad] = [r for r in rows if r["status"] == QUARANTINED]
        assert bad["reason"] == "conflicting_duplicate" and "event_id=e1" in bad["detail"]
    winner = lambda rows: [r["item_id"] for r in rows if r["status"] == ACCEPTED][0]  # noqa: E731
    assert winner(first) == winner(second)


def test_derived_event_id_is_deterministic_and_content_based(spark):
    a = line(event_id=_DROP)
    b = json.dumps(dict(reversed(list(good(event_id=_DROP).items()))))
    c = line(event_id=_DROP, item_id="i9")
    rows = classify_rows(spark, [a, b, c])
    ids = {r["item_id"]: r["event_id"] for r in rows if r["status"] == ACCEPTED}
    assert len(ids) == 2 and ids["i1"] != ids["i9"]
    assert all(i.startswith("d-") for i in ids.values())
    assert [r["status"] for r in rows].count(DUPLICATE) == 1
    again = classify_rows(spark, [c])
    assert again[0]["event_id"] == ids["i9"]


def test_outputs_keep_raw_bytes_and_account_for_every_line(spark):
    bad_utf8 = b'{"user_id":"\xff"}'
    lines = [line(), line(), line(item_id="i2"), "nope", bad_utf8, line(event_id="e2")]
    raw = raw_df(spark, lines)
    classified = classify(raw, DS, IngestConfig())
    files = spark.createDataFrame([("part-0.jsonl",), ("empty.jsonl",)], "source_file string")
    events = to_events(classified, DS).collect()
    quarantine = to_quarantine(classified, DS).collect()
    audit = {r["source_file"]: r for r in to_audit(classified, files, DS).collect()}
    assert sorted(r["event_id"] for r in events) == ["e1", "e2"]
    assert {r["ds"] for r in events + quarantine} == {DS}
    reasons = sorted(r["reason"] for r in quarantine)
    assert reasons == ["conflicting_duplicate", "invalid_utf8", "malformed_json"]
    [utf] = [r for r in quarantine if r["reason"] == "invalid_utf8"]
    assert bytes(utf["raw_bytes"]) == bad_utf8
    a = audit["part-0.jsonl"]
    assert (a["rows_read"], a["rows_accepted"], a["rows_quarantined"], a["duplicates_dropped"],
            a["conflicting_duplicates"]) == (6, 2, 3, 1, 1)
    e = audit["empty.jsonl"]
    assert (e["rows_read"], e["rows_accepted"]) == (0, 0)


def test_invariant_check_names_what_does_not_add_up():
    from jobs.ingest_events import InvariantError, check_invariant

    audit = [{"source_file": "a.jsonl", "rows_read": 10, "rows_accepted": 7, "rows_quarantined": 2,
              "duplicates_dropped": 1}]
    check_invariant(DS, {"a.jsonl": 10}, audit, events_written=7, quarantine_written=2)
    with pytest.raises(InvariantError, match="events partition holds 6"):
        check_invariant(DS, {"a.jsonl": 10}, audit, events_written=6, quarantine_written=2)
    with pytest.raises(InvariantError, match="a.jsonl: read 11"):
        check_invariant(DS, {"a.jsonl": 11}, audit, events_written=7, quarantine_written=2)
