"""Shared fixtures: one SparkSession for the whole run, and a temporary lake + landing per test."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from recpipe.config import Config, load_config

SHARED_DATA = Path(os.environ.get("RECPIPE_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


# py4j logs at INFO while the interpreter shuts down, after pytest has closed its captured streams.
logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from recpipe.spark import get_spark

    base = tmp_path_factory.mktemp("spark")
    cfg = load_config(overrides={"lake": str(base / "lake"), "spark.master": "local[2]",
                                 "spark.shuffle_partitions": "2", "spark.driver_memory": "2g",
                                 "spark.log_level": "ERROR"}, environ={})
    session = get_spark(cfg, app_name="recpipe-tests")
    yield session
    session.stop()


@pytest.fixture
def cfg(tmp_path) -> Config:
    return load_config(overrides={
        "lake": str(tmp_path / "lake"),
        "landing": str(tmp_path / "landing"),
        "reports": str(tmp_path / "reports"),
        "spark.master": "local[2]",
        "spark.shuffle_partitions": "2",
    }, environ={})


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public datasets not found at {SHARED_DATA} (set RECPIPE_SHARED_DATA)")
    return SHARED_DATA
