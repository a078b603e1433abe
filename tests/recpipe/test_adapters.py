"""Adapters on the public datasets beside the checkout (skipped with a reason where they are absent)."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import json
from collections import Counter

import pytest

from jobs import ingest_events
from recpipe.adapters import import_movielens, import_taobao, import_yoochoose

pytestmark = pytest.mark.shared_data


def _landed(out, ds):
    recs = []
    for p in sorted((out / "events" / f"ds={ds}").glob("*.jsonl.gz")):
        recs += [json.loads(ln) for ln in gzip.open(p).read().splitlines()]
    return recs


def _all_landed(out):
    return [r for d in sorted((out / "events").iterdir()) for r in _landed(out, d.name[3:])]


def test_taobao_maps_behaviours_and_ingests_cleanly(shared_data, tmp_path, spark, cfg):
    src = shared_data / "taobao-userbehavior-sample" / "UserBehavior.csv"
    with src.open() as fh:
        rows = list(csv.reader(fh))
    expected = Counter({"pv": "view", "cart": "add_to_cart", "fav": "like", "buy": "purchase"}[r[3]] for r in rows)
    days = Counter(dt.datetime.fromtimestamp(int(r[4]), dt.timezone.utc).date().isoformat() for r in rows)

    stats = import_taobao(src.parent, tmp_path)
    landed = _all_landed(tmp_path)
    assert stats["events"] == len(rows) == len(landed)
    assert Counter(r["event_type"] for r in landed) == expected
    assert {r["category"] for r in landed} == {r[2] for r in rows}

    cfg = dataclasses.replace(cfg, landing=str(tmp_path))
    [(ds, n)] = days.items()
    summary = ingest_events.run(cfg, ds, spark)
    assert summary.rows_read == n
    assert summary.rows_quarantined == 0
    exact_dups = n - len({tuple(r) for r in rows})
    assert summary.duplicates_dropped == exact_dups
    assert summary.rows_accepted == n - exact_dups


def test_movielens_writes_a_view_per_rating_and_a_like_per_high_rating(shared_data, tmp_path, spark, cfg):
    src = shared_data / "movielens-100k"
    with (src / "u.data").open() as fh:
        rows = [ln.split("\t") for ln in fh.read().splitlines()]
    stats = import_movielens(src, tmp_path)
    landed = _all_landed(tmp_path)
    kinds = Counter(r["event_type"] for r in landed)
    assert kinds["view"] == len(rows)
    assert kinds["like"] == sum(int(r[2]) >= 4 for r in rows)
    assert stats["events"] == len(landed)
    assert all(r["category"] for r in landed)
    first = min(dt.datetime.fromtimestamp(int(r[3]), dt.timezone.utc).date() for r in rows)
    assert stats["first_ds"] == first.isoformat()

    cfg = dataclasses.replace(cfg, landing=str(tmp_path))
    busiest = Counter(dt.datetime.fromtimestamp(int(r[3]), dt.timezone.utc).date().isoformat()
                      for r in rows).most_common(1)[0][0]
    summary = ingest_events.run(cfg, busiest, spark)
    assert summary.rows_quarantined == 0 and summary.duplicates_dropped == 0
    assert summary.rows_accepted == len(_landed(tmp_path, busiest))


def test_yoochoose_sessions_become_anonymous_users(shared_data, tmp_path, spark, cfg):
    folder = shared_data / "yoochoose-rsc15-100k-sample"
    rows = []
    for name in ("yoochoose-clicks-100k_train_full.txt", "yoochoose-clicks-100k_test.txt"):
        with (folder / name).open() as fh:
            rows += list(csv.DictReader(fh, delimiter="\t"))
    stats = import_yoochoose(folder, tmp_path)
    landed = _all_landed(tmp_path)
    assert stats["events"] == len(rows) == len(landed)
    assert all(r["event_type"] == "view" and r["user_id"] == "s" + r["session_id"] for r in landed)

    cfg = dataclasses.replace(cfg, landing=str(tmp_path))
    ds = stats["first_ds"]
    day_rows = [r for r in rows
                if dt.datetime.fromtimestamp(float(r["Time"]), dt.timezone.utc).date().isoformat() == ds]
    summary = ingest_events.run(cfg, ds, spark)
    exact_dups = len(day_rows) - len({(r["SessionId"], r["ItemId"], r["Time"]) for r in day_rows})
    assert summary.rows_read == len(day_rows)
    assert summary.rows_quarantined == 0
    assert summary.duplicates_dropped == exact_dups
