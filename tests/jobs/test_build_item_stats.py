from __future__ import annotations

import datetime as dt

import pytest

from jobs.build_item_stats import item_popularity
from recpipe.config import ItemStatsConfig
from tests.jobs.helpers import ev, events_df

D = dt.date(2026, 11, 28)


def test_decayed_scores_trend_and_rank(spark):
    cfg = ItemStatsConfig(half_life_days=7.0)
    rows = [
        ev("1", "u1", "A", "view", "2026-11-28T12:00:00", device="mobile"),      # age 0.5 day
        ev("2", "u2", "A", "purchase", "2026-11-28T12:00:00", device="desktop"),
        ev("3", "u1", "B", "view", "2026-11-22T00:00:00", device="mobile"),      # age 7 days
        ev("4", "u3", "B", "add_to_cart", "2026-11-01T00:00:00", device="mobile"),  # age 28 days, landed day 28
        ev("5", "u3", "C", "view", "2026-10-31T00:00:00", device="mobile"),      # outside the 28-day window
    ]
    out = {(r["segment"], r["item_id"]): r for r in item_popularity(events_df(spark, rows), D, cfg).collect()}
    a, b = out[("global", "A")], out[("global", "B")]
    assert ("global", "C") not in out
    assert (a["events_1d"], a["events_7d"], a["events_28d"]) == (2, 2, 2)
    assert (b["events_1d"], b["events_7d"], b["events_28d"]) == (0, 1, 2)
    assert a["score_1d"] == pytest.approx((1.0 + 5.0) * 0.5 ** (0.5 / 7))
    assert b["score_28d"] == pytest.approx(1.0 * 0.5 ** 1 + 3.0 * 0.5 ** 4)
    assert b["score_7d"] == pytest.approx(0.5)
    assert (a["purchases_28d"], b["carts_28d"], a["users_28d"]) == (1, 1, 2)
    assert a["trending"] == pytest.approx((2 + 1) / ((2 + 1) / 28))
    assert b["trending"] == pytest.approx((0 + 1) / ((2 + 1) / 28))
    assert (a["rank"], b["rank"]) == (1, 2)
    mobile_a = out[("device:mobile", "A")]
    assert mobile_a["events_28d"] == 1 and mobile_a["score_1d"] == pytest.approx(0.5 ** (0.5 / 7))
    assert ("device:desktop", "B") not in out
    assert {r["as_of"] for r in out.values()} == {D}
