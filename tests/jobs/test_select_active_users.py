from __future__ import annotations

import dataclasses
import datetime as dt

from jobs import select_active_users
from jobs.select_active_users import select_active, user_activity
from recpipe.config import ActiveUsersConfig
from recpipe.storage import Lake
from schemas import ACTIVE_USER_COUNTS, ACTIVE_USERS, EVENTS
from tests.jobs.helpers import ev, events_df

D = dt.date(2026, 11, 28)


def _rows():
    rows = []
    for i in range(10):   # u1: exactly 10 interactions inside the window, over two days
        rows.append(ev(f"a{i}", "u1", "i1", "view", f"2026-11-{27 + i % 2}T10:{i:02d}:00"))
    for i in range(9):    # u2: 9 inside, 5 more outside the 10-day lookback
        rows.append(ev(f"b{i}", "u2", "i1", "view", f"2026-11-19T10:{i:02d}:00"))
    for i in range(5):
        rows.append(ev(f"c{i}", "u2", "i1", "view", f"2026-11-18T10:{i:02d}:00"))
    rows.append(ev("d0", "u3", "i1", "view", "2026-11-29T10:00:00"))   # after D
    return rows


def test_threshold_and_lookback(spark):
    act = user_activity(events_df(spark, _rows()), D, 10)
    counts = {r["user_id"]: r["interactions"] for r in act.collect()}
    assert counts == {"u1": 10, "u2": 9}
    active = select_active(act, D, ActiveUsersConfig(min_interactions=10, lookback_days=10)).collect()
    assert [(r["user_id"], r["interactions"], r["active_days"]) for r in active] == [("u1", 10, 2)]
    wider = select_active(user_activity(events_df(spark, _rows()), D, 11), D, ActiveUsersConfig(10, 11)).collect()
    assert sorted(r["user_id"] for r in wider) == ["u1", "u2"]


def test_job_records_count_and_share(spark, cfg):
    lake = Lake(spark, cfg.lake)
    lake.write_range(events_df(spark, _rows()), EVENTS, "2026-11-18", "2026-11-29")
    summary = select_active_users.run(cfg, D, spark)
    assert (summary.active, summary.users) == (1, 2)
    [c] = lake.read(ACTIVE_USER_COUNTS, D, D).collect()
    assert (c["active_users"], c["users_in_lookback"], c["active_share"]) == (1, 2, 0.5)
    assert [r["user_id"] for r in lake.read(ACTIVE_USERS, D, D).collect()] == ["u1"]
    lowered = dataclasses.replace(cfg, active_users=ActiveUsersConfig(min_interactions=9, lookback_days=10))
    assert select_active_users.run(lowered, D, spark).active == 2
