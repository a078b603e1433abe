"""promote_model's gate."""
from __future__ import annotations

from jobs.promote_model import decide
from recpipe.config import PromotionConfig

P = PromotionConfig(primary_metric="recall@1000", min_lift_over_baseline=0.0, primary_tolerance=0.02,
                    ndcg10_tolerance=0.05)


def m(primary, ndcg):
    return {"recall@1000": primary, "ndcg@10": ndcg}


def test_must_beat_popularity():
    d = decide(m(0.30, 0.20), m(0.30, 0.05), None, P)
    assert d.status == "rejected" and "does not beat popularity" in d.reason
    lifted = PromotionConfig(**{**P.__dict__, "min_lift_over_baseline": 0.1})
    assert decide(m(0.32, 0.2), m(0.30, 0.05), None, lifted).status == "rejected"
    assert decide(m(0.34, 0.2), m(0.30, 0.05), None, lifted).status == "champion"


def test_first_model_only_needs_to_beat_popularity():
    d = decide(m(0.31, 0.01), m(0.30, 0.05), None, P)
    assert d.status == "champion" and d.reason.startswith("first model")
    assert d.gate["baseline"]["recall@1000"] == 0.30 and "champion" not in d.gate


def test_against_the_champion_within_and_beyond_tolerance():
    champ = m(0.50, 0.20)
    assert decide(m(0.491, 0.191), m(0.3, 0.1), champ, P, "v0").status == "champion"   # within both
    d = decide(m(0.489, 0.25), m(0.3, 0.1), champ, P, "v0")
    assert d.status == "shadow" and "recall@1000" in d.reason and "ndcg" not in d.reason
    d = decide(m(0.60, 0.189), m(0.3, 0.1), champ, P, "v0")
    assert d.status == "shadow" and "ndcg@10" in d.reason
    assert d.gate["champion"]["model_version"] == "v0"
    assert decide(m(0.29, 0.3), m(0.3, 0.1), champ, P, "v0").status == "rejected"
