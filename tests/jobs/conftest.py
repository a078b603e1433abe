"""Shared fixtures for the job tests."""
from __future__ import annotations

import pytest

from jobs import build_item_stats, build_sessions, build_user_features, select_active_users
from recpipe import pipeline
from recpipe.config import load_config
from recpipe.registry import train_window
from recpipe.simulator import SimulationSpec
from recpipe.simulator.lake import write_simulated_events
from recpipe.simulator.model import World
from recpipe.storage import Lake

DS = "2026-11-14"


@pytest.fixture(scope="session")
def week(spark, tmp_path_factory):
    """The default simulation's 14 days in a lake with the nightly tables the weekly chain reads, and the
    weekly chain run once for DS."""
    root = tmp_path_factory.mktemp("weekly")
    cfg = load_config(overrides={"lake": str(root / "lake"), "reports": str(root / "reports"), "spark.master": "local[2]",
                                 "spark.shuffle_partitions": "2"}, environ={})
    world = World(SimulationSpec())
    lake = Lake(spark, cfg.lake)
    write_simulated_events(lake, world)
    start, end = train_window(cfg, DS)
    build_sessions.run_range(cfg, world.day(0), DS, spark)
    build_user_features.run(cfg, end, spark)
    select_active_users.run(cfg, end, spark)
    # The weekly chain ends with the day's candidates, which read the day's nightly tables.
    build_user_features.run(cfg, DS, spark)
    build_item_stats.run(cfg, DS, spark)
    select_active_users.run(cfg, DS, spark)
    lines = list(pipeline.run_chain("weekly", cfg, DS))
    return cfg, lake, world, lines


