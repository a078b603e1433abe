"""The scheduler-free chains: stage layout, and what runs after a failure."""
from __future__ import annotations

import pytest

from recpipe import pipeline
from recpipe.dq import DataQualityError


def test_every_job_is_validated_and_served_tables_are_published_after_their_validation():
    for chain in pipeline.CHAINS.values():
        names = [s.name for s in chain]
        for step in chain:
            if step.kind == "job" and step.tables:
                assert names[names.index(step.name) + 1] == f"validate_{step.tables[0]}"
            if step.kind == "publish":
                (table,) = step.tables
                assert table in pipeline.PUBLISHED
                validate = next(s for s in chain if s.kind == "validate" and table in s.tables)
                assert names.index(validate.name) < names.index(step.name)
        assert chain[-1] is pipeline.REPORT and chain[-1].always
    staged = {t for c in pipeline.CHAINS.values() for s in c if s.kind == "job" for t in s.tables
              if t in pipeline.PUBLISHED}
    assert staged == set(pipeline.PUBLISHED)
    # Assets: a validation emits its unpublished tables, a publish step its table, a job none.
    v = pipeline.STEPS["validate_candidates"]
    assert v.assets == ("candidate_metrics",) and pipeline.STEPS["publish_candidates"].assets == ("candidates",)
    assert pipeline.STEPS["generate_candidates"].assets == ()


def test_after_a_failure_only_the_report_runs_then_the_failure_is_raised(monkeypatch):
    calls = []

    def fake(name, ds, cfg=None, run_id=None):
        calls.append((name, run_id))
        if name == "validate_candidates":
            raise DataQualityError("table candidates, partition 2026-11-14: error-level expectations failed: x")
        return name

    monkeypatch.setattr(pipeline, "run_task", fake)
    with pytest.raises(DataQualityError, match="table candidates"):
        list(pipeline.run_chain("nightly", None, "2026-11-14", run_id="r1"))
    names = [n for n, _ in calls]
    assert names[-2:] == ["validate_candidates", "build_report"]
    assert "publish_candidates" not in names and "fallback_candidates" not in names
    assert {r for _, r in calls} == {"r1"}     # one run id for every step of the run

    calls.clear()
    assert list(pipeline.run_chain("weekly", None, "2026-11-14", start="publish_candidates")) == [
        "publish_candidates", "build_report"]
    with pytest.raises(ValueError, match="no step 'nope'"):
        list(pipeline.run_chain("weekly", None, "2026-11-14", start="nope"))
