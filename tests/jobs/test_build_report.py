"""The run report rendered by a real browser (headless Chromium): charts laid out, tables filled."""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jobs import build_report
from tests.jobs.conftest import DS

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on PATH (.ci/run installs Debian's chromium)")


def test_report_renders_in_headless_chromium(week, spark, tmp_path):
    cfg, lake, _, _ = week
    browser = _chromium()
    cfg = dataclasses.replace(cfg, reports=str(tmp_path / "reports"))
    page = Path(build_report.run(cfg, DS, spark).path)
    assert page == tmp_path / "reports" / DS / "index.html" and (tmp_path / "reports" / "index.html").exists()
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--allow-file-access-from-files"]
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    charts = int(re.search(r'data-rendered-charts="(\d+)"', dom.stdout).group(1))
    rows = int(re.search(r'data-tables="(\d+)"', dom.stdout).group(1))
    # events, active users, p_buyer, browse vs buy, coverage, Gini: drawn with a non-empty layout box
    assert charts >= 6, charts
    assert rows >= 3, rows          # model metrics (challenger + baseline) and the registry
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report.png"
    shot.unlink(missing_ok=True)
    run = subprocess.run([browser, *flags, "--window-size=1400,2600", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and shot.exists() and shot.stat().st_size > 20_000, run.stderr[-2000:]
