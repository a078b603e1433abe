"""Hand-built `events` rows for transform tests."""
from __future__ import annotations

import datetime as dt

from schemas import EVENTS


def ev(event_id, user, item, kind, ts, ds=None, session=None, dwell=None, device="mobile", category="c1", price=1.0):
    ts = ts if isinstance(ts, dt.datetime) else dt.datetime.fromisoformat(ts)
    ds = ds or ts.date()
    ds = ds if isinstance(ds, dt.date) else dt.date.fromisoformat(ds)
    return (event_id, user, session, item, kind, ts, dwell, device, price, category, ds)


def events_df(spark, rows):
    return spark.createDataFrame(rows, EVENTS.schema)
