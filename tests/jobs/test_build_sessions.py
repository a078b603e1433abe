from __future__ import annotations

import datetime as dt

from jobs.build_sessions import transform
from tests.jobs.helpers import ev, events_df

D = "2026-11-02"


def _sessions(spark, rows, gap=30):
    return {(r["user_id"], r["session_id"]): r for r in transform(events_df(spark, rows), gap).collect()}


def test_source_sessions_and_gap_sessions(spark):
    rows = [
        # u1 on the web: two source sessions, interleaved in time
        ev("a1", "u1", "i1", "view", f"{D}T10:00:00", session="s1", dwell=10.0),
        ev("a2", "u1", "i2", "view", f"{D}T10:01:00", session="s2", dwell=20.0),
        ev("a3", "u1", "i3", "view", f"{D}T10:02:00", session="s1", dwell=30.0),
        # u2 in the app: no session ids; 10 minutes apart, then a 45-minute gap
        ev("b1", "u2", "i1", "view", f"{D}T08:00:00", device="app"),
        ev("b2", "u2", "i1", "view", f"{D}T08:10:00", device="app"),
        ev("b3", "u2", "i2", "view", f"{D}T08:55:00", device="app"),
    ]
    s = _sessions(spark, rows)
    assert s[("u1", "s1")]["views"] == 2 and s[("u1", "s1")]["total_dwell_seconds"] == 40.0
    assert s[("u1", "s1")]["session_origin"] == "source" and s[("u1", "s2")]["events"] == 1
    gap_sessions = sorted((k, v) for k, v in s.items() if k[0] == "u2")
    assert [v["events"] for _, v in gap_sessions] == [2, 1]
    assert all(v["session_origin"] == "gap" for _, v in gap_sessions)
    assert gap_sessions[0][1]["duration_seconds"] == 600.0
    assert {v["ds"] for v in s.values()} == {dt.date(2026, 11, 2)}

    wider = _sessions(spark, rows, gap=60)
    assert [v["events"] for k, v in wider.items() if k[0] == "u2"] == [3]


def test_consumption_path_within_a_session(spark):
    rows = [
        ev("c1", "u3", "i1", "view", f"{D}T12:00:00", session="s9", dwell=5.0, device="tablet", category="a"),
        ev("c2", "u3", "i2", "view", f"{D}T12:00:30", session="s9", dwell=7.0, device="mobile", category="b"),
        ev("c3", "u3", "i2", "add_to_cart", f"{D}T12:01:00", session="s9", device="mobile"),
        ev("c4", "u3", "i2", "view", f"{D}T12:02:00", session="s9", dwell=3.0, device="mobile", category="b"),
        ev("c5", "u3", "i2", "purchase", f"{D}T12:03:00", session="s9", device="mobile"),
        ev("c6", "u4", "i1", "view", f"{D}T12:00:00", session="s8"),
    ]
    s = _sessions(spark, rows)
    r = s[("u3", "s9")]
    assert (r["views"], r["distinct_items"], r["distinct_categories"], r["carts"], r["purchases"]) == (3, 2, 2, 1, 1)
    assert r["reached_cart"] and r["purchased"]
    assert r["views_before_first_cart"] == 2 and r["seconds_to_first_cart"] == 60.0
    assert r["duration_seconds"] == 180.0 and r["device"] == "tablet"
    no_cart = s[("u4", "s8")]
    assert not no_cart["reached_cart"] and no_cart["views_before_first_cart"] is None
    assert no_cart["seconds_to_first_cart"] is None


def test_a_multi_day_input_gives_each_day_what_a_single_day_gives(spark):
    rows = [
        ev("d1", "u5", "i1", "view", "2026-11-01T23:50:00", device="app"),
        ev("d2", "u5", "i1", "view", "2026-11-02T00:05:00", device="app"),   # lands next day: new session
        ev("d3", "u5", "i2", "view", "2026-11-02T00:15:00", device="app"),
        ev("d4", "u5", "i2", "view", "2026-11-01T23:55:00", ds="2026-11-02", device="app"),  # late arrival
    ]
    both = sorted(tuple(r) for r in transform(events_df(spark, rows), 30).collect())
    per_day = sorted(tuple(r) for d in ("2026-11-01", "2026-11-02")
                     for r in transform(events_df(spark, [x for x in rows if x[-1].isoformat() == d]), 30).collect())
    assert both == per_day
    assert [r[7] for r in both] == [1, 3]  # events per session: day 1 alone, day 2 holds the late one too
