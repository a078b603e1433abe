"""Population models on hand-built populations with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from recpipe.stats import (BetaPrior, beta_posterior, buyer_posterior, fit_beta_binomial, fit_type_mixture,
                           roc_auc)


def test_beta_binomial_fit_recovers_a_known_prior():
    rng = np.random.default_rng(0)
    p = rng.beta(2.0, 18.0, size=20_000)
    n = rng.poisson(30, size=p.size) + 1
    k = rng.binomial(n, p)
    prior = fit_beta_binomial(n, k)
    assert prior.mean == pytest.approx(0.1, abs=0.005)
    assert prior.alpha + prior.beta == pytest.approx(20.0, rel=0.2)
    assert prior.n_users == 20_000 and prior.method == "beta-binomial ML"


def test_weights_are_the_same_as_repeated_users():
    n = np.array([5, 10, 3, 8])
    k = np.array([1, 2, 0, 4])
    w = np.array([3, 1, 2, 5])
    a = fit_beta_binomial(n, k, w)
    b = fit_beta_binomial(np.repeat(n, w), np.repeat(k, w))
    assert a.alpha == pytest.approx(b.alpha, rel=1e-4) and a.beta == pytest.approx(b.beta, rel=1e-4)


def test_users_without_trials_are_ignored_and_tiny_populations_get_a_uniform_prior():
    assert fit_beta_binomial(np.array([0, 0, 4]), np.array([0, 0, 1])).method.startswith("uniform")
    prior = fit_beta_binomial(np.array([0, 10, 10, 10, 20]), np.array([0, 1, 2, 1, 3]))
    assert prior.n_users == 4


def test_posterior_shrinks_small_samples_towards_the_prior():
    prior = BetaPrior(2.0, 18.0, 1000, "test")
    mean, width = beta_posterior([1, 1000], [1, 300], prior)
    assert mean[0] == pytest.approx(3 / 21)           # one view, one cart: not 100%
    assert mean[1] == pytest.approx(302 / 1020)        # lots of evidence: close to the raw 30%
    assert width[0] > 5 * width[1]


def _population(rng, n, buyer_share=0.35):
    buyer = rng.random(n) < buyer_share
    sessions = rng.poisson(4, n) + 1
    q = np.where(buyer, 0.25, 0.09)
    views = np.array([rng.geometric(qi, s).sum() for qi, s in zip(q, sessions)])
    carts = rng.binomial(views, np.where(buyer, 0.2, 0.03))
    purchases = rng.binomial(carts, np.where(buyer, 0.55, 0.15))
    mu = np.where(buyer, 2.7, 3.6)
    logd = [rng.normal(m, 0.6, v) for m, v in zip(mu, views)]
    stats = {
        "views": views, "carts": carts, "purchases": purchases, "sessions": sessions,
        "dwell_n": views, "dwell_log_sum": np.array([x.sum() for x in logd]),
        "dwell_log_sq": np.array([(x * x).sum() for x in logd]),
    }
    return stats, buyer


def test_type_mixture_recovers_known_components_and_separates_types():
    rng = np.random.default_rng(1)
    stats, buyer = _population(rng, 4000)
    m = fit_type_mixture(stats)
    assert m.p[1] > m.p[0]                             # component 1 is the buyer
    assert m.p[1] == pytest.approx(0.2, abs=0.02) and m.p[0] == pytest.approx(0.03, abs=0.01)
    assert m.q[1] == pytest.approx(0.25, abs=0.03) and m.q[0] == pytest.approx(0.09, abs=0.01)
    assert m.mu[0] == pytest.approx(3.6, abs=0.05) and m.mu[1] == pytest.approx(2.7, abs=0.05)
    assert m.pi[1] == pytest.approx(0.35, abs=0.03)
    post = buyer_posterior(stats, m)
    assert roc_auc(post, buyer) > 0.97


def test_a_user_without_evidence_gets_the_prior_share():
    rng = np.random.default_rng(2)
    stats, _ = _population(rng, 2000)
    m = fit_type_mixture(stats)
    empty = {k: np.zeros(1) for k in stats}
    assert buyer_posterior(empty, m)[0] == pytest.approx(m.pi[1])


def test_roc_auc_on_a_hand_computed_example():
    # pairs (pos, neg): (0.35 vs 0.1) win, (0.35 vs 0.4) lose, (0.8 vs both) win -> 3 of 4
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert roc_auc([0.5, 0.5], [0, 1]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        roc_auc([0.1, 0.2], [1, 1])
