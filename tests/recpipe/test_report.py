"""The run report's page: charts carry one mark per data point, tables one row per record."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from recpipe.report import dq_status, render, write_index

D = dt.date(2026, 11, 3)


def _data():
    days = [dt.date(2026, 11, d) for d in (1, 2, 3)]
    events = pd.DataFrame([(d, t, n) for d in days for t, n in (("view", 100), ("purchase", 5))],
                          columns=["ds", "event_type", "count"])
    return {
        "events": events,
        "quarantine": pd.DataFrame({"ds": [days[0], days[2], days[2]],
                                    "reason": ["malformed_json", "malformed_json", "missing_field"],
                                    "count": [7, 2, 3]}),
        "active": pd.DataFrame({"as_of": days, "active_users": [10, 20, 30]}),
        "models": pd.DataFrame({"as_of": [D, D], "model_version": ["m1", "m2"], "status": ["champion", "shadow"],
                                "reason": ["first model", "worse"]}),
        "model_metrics": pd.DataFrame({"as_of": [D - dt.timedelta(days=7), D, D, D],
                                       "model_version": ["m0", "m1", "m2", "popularity"],
                                       "role": ["challenger", "challenger", "challenger", "baseline"],
                                       "metric": ["ndcg"] * 4, "k": [10] * 4, "value": [0.15, 0.2, 0.1, 0.05]}),
        "dq": pd.DataFrame({"ds": [D, D], "table_name": ["events", "events"], "expectation": ["a", "b"],
                            "severity": ["error", "warn"], "success": [True, False], "observed": ["0", "9"],
                            "run_id": ["r1", "r1"]}),
    }


def test_charts_have_a_mark_per_point_and_the_champion_is_highlighted():
    page = render(D, _data())
    events = page.split('data-chart="events_per_day"')[1].split("</figure>")[0]
    assert events.count('class="mark"') == 3 * 2          # three days x two event types
    active = page.split('data-chart="active_users"')[1].split("</figure>")[0]
    assert active.count("<circle") == 3
    quarantine = page.split('data-chart="quarantine_by_reason"')[1].split("</figure>")[0]
    assert "malformed_json" in quarantine and quarantine.count('class="mark"') == 2 * 2   # 2 days x 2 reasons
    today = page.split('data-table="quarantine_today"')[1].split("</section>")[0]
    assert [r.split("</td>")[0] for r in today.split("<tr><td>")[1:]] == ["missing_field", "malformed_json"]
    trend = page.split('data-chart="model_ndcg_at_10"')[1].split("</figure>")[0]
    # two weeks of challengers (the better of D's two), one week of the baseline
    assert trend.count("<circle") == 3 and "<title>challenger</title>" in trend
    assert 'text-anchor="end">0.2</text>' in trend             # the axis tops at the best challenger
    models = page.split('data-table="model_metrics"')[1].split("</section>")[0]
    assert models.count("<tr class=\"highlight\">") == 1 and "m1" in models.split('class="highlight"')[1].split("</tr>")[0]
    failures = page.split('data-table="dq_failures"')[1].split("</section>")[0]
    assert failures.split("<tbody>")[1].count("<tr>") == 1 and ">b<" in failures
    assert 'data-chart="candidate_coverage"' in page and "no data up to this day" in page
    assert "http://" not in page and "https://" not in page   # self-contained


def test_index_lists_every_report_with_its_verdict(tmp_path):
    dq = _dq([(dt.date(2026, 11, 2), "events", "volume_not_collapsed", "error", False, "{}", "r0")])
    for d in ("2026-11-01", "2026-11-02"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "index.html").write_text(render(dt.date.fromisoformat(d), {"dq": dq}))
    text = write_index(tmp_path).read_text()
    assert text.index("2026-11-02") < text.index("2026-11-01") and 'href="2026-11-01/index.html"' in text
    rows = {r.split('">')[1].split("<")[0]: r for r in text.split("<tr><td><a href=")[1:]}
    assert 'class="fail"' in rows["2026-11-02"] and "not validated" in rows["2026-11-01"]


def _dq(rows):
    return pd.DataFrame(rows, columns=["ds", "table_name", "expectation", "severity", "success", "observed", "run_id"])


def test_the_status_names_the_blocking_failures_of_the_day_only():
    yesterday = D - dt.timedelta(days=1)
    dq = _dq([(yesterday, "events", "volume_not_collapsed", "error", False, "{}", "r0"),
              (D, "events", "event_id_unique", "error", True, "0", "r1"),
              (D, "candidates", "no_purchased_item_in_candidates", "error", False, "3", "r1"),
              (D, "candidates", "score_null_rate_stable", "warn", False, "{}", "r1")])
    status = dq_status(D, dq, None)
    assert "class='status fail'" in status and "candidates.no_purchased_item_in_candidates" in status
    assert "volume_not_collapsed" not in status and "score_null_rate_stable" not in status
    assert "class='status warn'" in dq_status(D, dq[dq["expectation"] != "no_purchased_item_in_candidates"], None)
    assert "class='status pass'" in dq_status(D, dq[dq["success"]], None)
    assert "class='status none'" in dq_status(D + dt.timedelta(days=1), dq, None)
    page = render(D, {"dq": dq})
    failures = page.split('data-table="dq_failures"')[1].split("</section>")[0]
    assert failures.count('<tr class="highlight">') == 2     # the two error-level failures, both days
    today = page.split('data-chart="dq_outcomes"')[1].split("</figure>")[0]
    assert today.count('class="mark"') == 2 * 3               # two tables on D x pass/warn/fail
    # failures are drawn in the failure colour whatever the series order
    fails = [m for m in today.split('class="mark"')[1:] if " fail: " in m.split("</title>")[0]]
    assert len(fails) == 2 and all('fill="#e15759"' in m for m in fails)
