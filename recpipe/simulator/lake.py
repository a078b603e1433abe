"""Write simulated days straight into the `events` table, bypassing the JSON landing files.

For tests and benchmarks of the jobs after ingest, where building millions of JSON lines first would only
measure ingest again. The rows are what ingest would accept from the same days (no defects, no lateness).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from recpipe.simulator.model import DEVICES, World
from recpipe.storage import Lake
from schemas import EVENTS


def events_frame(world: World, index: int) -> pd.DataFrame:
    ev = world.step(index)
    device = DEVICES[ev["_device"].to_numpy()]
    items = ev["_item"].to_numpy()
    session = ("s" + str(index) + "-" + pd.Series(ev["_session"].to_numpy()).astype(str)).where(device != "app", None)
    return pd.DataFrame({
        "event_id": "e" + str(index).zfill(4) + "-" + pd.Series(ev["_seq"].to_numpy()).astype(str),
        "user_id": "u" + pd.Series(ev["_user"].to_numpy()).astype(str),
        "session_id": session,
        "item_id": "i" + pd.Series(items).astype(str),
        "event_type": ev["event_type"].to_numpy(),
        "event_ts": ev["event_ts"].to_numpy().astype("datetime64[us]"),
        "dwell_seconds": ev["dwell_seconds"].to_numpy(),
        "device": device,
        "price": world.item_price[items],
        "category": np.char.add("c", world.item_category[items].astype(str)),
        "ds": world.day(index),
    })


def write_simulated_events(lake: Lake, world: World, days: range | None = None) -> int:
    """Replace the events partitions of the simulated days; returns the number of events written."""
    days = days if days is not None else range(world.spec.days)
    total = 0
    batch = []
    for i in days:
        pdf = events_frame(world, i)
        total += len(pdf)
        batch.append(pdf)
    pdf = pd.concat(batch, ignore_index=True)
    df = lake.spark.createDataFrame(pdf, schema=EVENTS.schema)
    lake.write_range(df, EVENTS, world.day(days[0]), world.day(days[-1]))
    return total
