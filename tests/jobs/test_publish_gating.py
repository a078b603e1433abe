"""Publish gating on the default simulation's week: a broken candidates partition fails validation, is not
published (the served lists stay as they were), and the day's report shows the failure."""
from __future__ import annotations

import dataclasses
import re
import shutil
from urllib.parse import unquote

import pytest
from pyspark.sql import functions as F

from recpipe import pipeline
from recpipe.dq import DataQualityError, latest_outcomes
from recpipe.storage import Lake
from schemas import CANDIDATES, DQ_RESULTS, EVENTS
from tests.jobs.conftest import DS


def _fingerprint(df):
    row = df.agg(F.count(F.lit(1)).alias("n"),
                 F.sum(F.xxhash64("user_id", "item_id", "rank").cast("decimal(38,0)")).alias("h")).first()
    return row["n"], row["h"]


def test_a_broken_candidates_partition_is_not_published_and_the_report_shows_it(week, spark, tmp_path):
    cfg, lake, _, _ = week
    # A copy of the fixture's lake (its weekly chain validated and published the candidates of DS).
    cfg = dataclasses.replace(cfg, lake=str(tmp_path / "lake"), reports=str(tmp_path / "reports"))
    shutil.copytree(lake.root, cfg.lake)
    lake = Lake(spark, cfg.lake)
    served = _fingerprint(lake.read(CANDIDATES, DS, DS))
    assert served[0] > 0

    # The staged lists of the day get one purchased item: the first list of a user who bought something.
    staged = lake.staging().read(CANDIDATES, DS, DS).localCheckpoint()
    bought = (lake.read(EVENTS, ds_max=DS).where(F.col("event_type") == "purchase")
              .select("user_id", F.col("item_id").alias("bought")).distinct())
    user, item = staged.select("user_id").distinct().join(bought, "user_id").orderBy("user_id", "bought").first()
    broken = staged.withColumn("item_id", F.when((F.col("user_id") == user) & (F.col("rank") == 1), F.lit(item))
                               .otherwise(F.col("item_id")))
    lake.staging().write_partition(broken, CANDIDATES, DS)

    with pytest.raises(DataQualityError,
                       match=rf"table candidates, partition {DS}: error-level .*no_purchased_item_in_candidates"):
        list(pipeline.run_chain("weekly", cfg, DS, start="validate_candidates"))

    assert _fingerprint(lake.read(CANDIDATES, DS, DS)) == served          # yesterday's publication stands
    assert _fingerprint(lake.staging().read(CANDIDATES, DS, DS)) != served
    failed = {r["expectation"]: r for r in latest_outcomes(lake, DS, DS)
              .where((F.col("table_name") == "candidates") & ~F.col("success")).collect()}
    assert set(failed) == {"no_purchased_item_in_candidates"} and failed["no_purchased_item_in_candidates"]["observed"] == "1"
    # The log keeps the weekly chain's passing validation of the same partition.
    runs = sorted((r["attempt"], r["success"]) for r in lake.read(DQ_RESULTS, DS, DS).where(
        (F.col("table_name") == "candidates") & (F.col("expectation") == "no_purchased_item_in_candidates")).collect())
    assert runs == [(1, True), (2, False)]
    page = (tmp_path / "reports" / DS / "index.html").read_text()
    status = page.split("id='dq_status'")[1].split("</p>")[0]
    assert "status fail" in status and "candidates.no_purchased_item_in_candidates" in status
    failures = page.split('data-table="dq_failures"')[1].split("</section>")[0]
    assert "no_purchased_item_in_candidates" in failures.split('<tr class="highlight">')[1].split("</tr>")[0]
    # Data Docs were written by the checkpoint and the report links them.
    assert (tmp_path / "reports" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()
    assert "gx/uncommitted/data_docs/local_site/index.html" in status
    # ... and the day's validation pages, the candidates' one being the failed run's.
    pages = dict(re.findall(r'<a href="([^"]+)">([a-z_]+)</a>', page.split("id='dq_pages'")[1].split("</p>")[0]))
    candidates = next(href for href, table in pages.items() if table == "candidates")
    text = " ".join(re.sub(r"<[^>]+>", " ", (tmp_path / "reports" / DS / unquote(candidates)).read_text()).split())
    assert "Status: Failed" in text and "No candidate is an item its user purchased" in text
