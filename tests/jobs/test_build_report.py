"""The run report rendered by a real browser (headless Chromium): charts laid out, tables filled."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jobs import build_report
from recpipe.storage import Lake
from schemas import INGEST_AUDIT, QUARANTINE
from tests.jobs.conftest import DS

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# As the machine's Chromium wants it headless: no sandbox as root, and no background connections (the
# page needs no network, and a closed network makes Chromium retry many at a time).
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
         "--allow-file-access-from-files"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on PATH (.ci/run installs Debian's chromium)")


def _ingest_tables(spark, lake: Lake) -> None:
    """The day's quarantine and ingest audit, as ingest_events writes them (the fixture's events were
    written straight into the lake)."""
    day = dt.date.fromisoformat(DS)
    rows = [(f'{{"event_id": "q{i}"', f'{{"event_id": "q{i}"'.encode(), reason, None, None, "part-0.jsonl.gz", day)
            for i, reason in enumerate(["malformed_json"] * 3 + ["missing_field"] * 2)]
    lake.write_partition(spark.createDataFrame(rows, QUARANTINE.schema), QUARANTINE, day)
    audit = [(day, "part-0.jsonl.gz", 1005, 999, 5, 1, 0)]
    lake.write_partition(spark.createDataFrame(audit, INGEST_AUDIT.schema), INGEST_AUDIT, day)


def test_report_renders_in_headless_chromium(week, spark, tmp_path):
    cfg, lake, _, _ = week
    browser = _chromium()
    cfg = dataclasses.replace(cfg, lake=str(tmp_path / "lake"), reports=str(tmp_path / "reports"))
    shutil.copytree(lake.root, cfg.lake)
    _ingest_tables(spark, Lake(spark, cfg.lake))
    page = Path(build_report.run(cfg, DS, spark).path)
    assert page == tmp_path / "reports" / DS / "index.html" and (tmp_path / "reports" / "index.html").exists()
    dom = subprocess.run([browser, *FLAGS, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = set(filter(None, re.search(r'data-rendered-charts="([^"]*)"', dom.stdout).group(1).split(",")))
    tables = dict(t.split(":") for t in re.search(r'data-rendered-tables="([^"]*)"', dom.stdout).group(1).split(",") if t)
    # Every chart the page holds data for was laid out by the browser with a non-empty box and its marks.
    with_data = set(re.findall(r'<figure class="chart" data-chart="([^"]+)"', page.read_text()))
    assert rendered == with_data
    assert {"events_per_day", "quarantine_by_reason", "dq_outcomes", "dq_trend", "active_users",
            "p_buyer_distribution", "browse_vs_buy", "model_ndcg_at_10", "model_recall_at_1000",
            "candidate_coverage", "exposure_gini"} <= rendered
    # The day's audit and quarantine counts, the challenger and the baseline, and the registry's champion.
    assert tables["ingest_audit"] == "1" and tables["quarantine_today"] == "2"
    assert int(tables["model_metrics"]) >= 2 and int(tables["registry"]) >= 1
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report.png"
    shot.unlink(missing_ok=True)
    run = subprocess.run([browser, *FLAGS, "--window-size=1400,3000", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and shot.exists() and shot.stat().st_size > 20_000, run.stderr[-2000:]
