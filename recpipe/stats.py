"""Population models fitted every day: Beta priors for rates and the browser/buyer mixture.

Pure numpy/scipy on per-user sufficient statistics; the jobs apply the fitted parameters as Spark column
expressions, so fitting looks at a bounded sample while scoring covers every user.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, special
from scipy.stats import rankdata

_LOG_BOUNDS = (-6.0, 12.0)  # alpha, beta in [e^-6, e^12]: a near-degenerate population stays finite


@dataclass(frozen=True)
class BetaPrior:
    alpha: float
    beta: float
    n_users: int
    method: str

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def as_dict(self) -> dict:
        return asdict(self)


def fit_beta_binomial(trials: np.ndarray, successes: np.ndarray, weights: np.ndarray | None = None) -> BetaPrior:
    """Maximum-likelihood Beta(alpha, beta) prior for per-user rates successes/trials (Beta-Binomial).

    ``weights`` counts how many users share each (trials, successes) pair (default 1 each). Users with no
    trials carry no information and are ignored. Starts from the method-of-moments estimate; with fewer
    than 3 informative users it returns the uniform prior Beta(1, 1).
    """
    n = np.asarray(trials, dtype=np.float64)
    k = np.minimum(np.asarray(successes, dtype=np.float64), n)
    wts = np.ones_like(n) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = (n > 0) & (wts > 0)
    n, k, wts = n[keep], k[keep], wts[keep]
    n_users = int(wts.sum())
    if n_users < 3:
        return BetaPrior(1.0, 1.0, n_users, "uniform (too few users)")
    # The likelihood only depends on how many users share each (n, k) pair.
    pairs, inverse = np.unique(np.stack([n, k], axis=1), axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=wts)
    pn, pk = pairs[:, 0], pairs[:, 1]

    a0, b0 = _method_of_moments(pn, pk, counts)

    def nll(theta):
        a, b = np.exp(theta)
        ll = special.betaln(pk + a, pn - pk + b) - special.betaln(a, b)
        return -(counts * ll).sum()

    def grad(theta):
        a, b = np.exp(theta)
        dig_ab = special.digamma(a + b)
        da = special.digamma(pk + a) - special.digamma(pn + a + b) - special.digamma(a) + dig_ab
        db = special.digamma(pn - pk + b) - special.digamma(pn + a + b) - special.digamma(b) + dig_ab
        return -np.array([(counts * da).sum() * a, (counts * db).sum() * b])

    res = optimize.minimize(nll, np.log([a0, b0]), jac=grad, method="L-BFGS-B",
                            bounds=[_LOG_BOUNDS, _LOG_BOUNDS])
    a, b = np.exp(res.x)
    return BetaPrior(float(a), float(b), n_users, "beta-binomial ML")


def _method_of_moments(n: np.ndarray, k: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    p = k / n
    m = float(np.clip(np.average(p, weights=w), 1e-4, 1 - 1e-4))
    v = float(np.average((p - m) ** 2, weights=w))
    # Binomial noise inflates the variance of the raw rates; remove its expected share.
    noise = float(np.average(m * (1 - m) / n, weights=w))
    v_true = max(v - noise, 1e-6)
    conc = max(m * (1 - m) / v_true - 1.0, 1e-2)
    return float(np.clip(m * conc, *np.exp(_LOG_BOUNDS))), float(np.clip((1 - m) * conc, *np.exp(_LOG_BOUNDS)))


def beta_posterior(trials, successes, prior: BetaPrior):
    """Posterior mean and ~95% interval width (normal approximation) of each user's rate (numpy)."""
    n = np.asarray(trials, dtype=np.float64)
    k = np.minimum(np.asarray(successes, dtype=np.float64), n)
    a, b = prior.alpha + k, prior.beta + n - k
    mean = a / (a + b)
    sd = np.sqrt(mean * (1 - mean) / (a + b + 1))
    return mean, 2 * 1.959964 * sd


# --------------------------------------------------------------------------------- browser/buyer mixture

TYPE_STATS = ("views", "carts", "purchases", "sessions", "dwell_n", "dwell_log_sum", "dwell_log_sq")


@dataclass(frozen=True)
class TypeMixture:
    """Two latent user types, each with its own behaviour:

    * views per session ~ Geometric(q_k) (mean 1/q_k),
    * carts | views ~ Binomial(views, p_k), purchases | carts ~ Binomial(carts, r_k),
    * log dwell per view ~ Normal(mu_k, sigma_k^2),

    and prior weight pi_k. Component 1 is the buyer (the higher view->cart rate).
    """

    pi: tuple[float, float]
    q: tuple[float, float]
    p: tuple[float, float]
    r: tuple[float, float]
    mu: tuple[float, float]
    sigma: tuple[float, float]
    n_users: int
    iterations: int
    log_likelihood: float

    def as_dict(self) -> dict:
        return asdict(self)


def _component_loglik(s: dict, q, p, r, mu, sigma) -> np.ndarray:
    eps = 1e-12
    ll = s["sessions"] * np.log(q + eps) + (s["views"] - s["sessions"]).clip(0) * np.log(1 - q + eps)
    ll += s["carts"] * np.log(p + eps) + (s["views"] - s["carts"]).clip(0) * np.log(1 - p + eps)
    ll += s["purchases"] * np.log(r + eps) + (s["carts"] - s["purchases"]).clip(0) * np.log(1 - r + eps)
    sq = s["dwell_log_sq"] - 2 * mu * s["dwell_log_sum"] + s["dwell_n"] * mu * mu
    ll += -s["dwell_n"] * np.log(sigma + eps) - sq / (2 * sigma * sigma + eps)
    return ll


def _clean(stats: dict) -> dict:
    s = {k: np.asarray(stats[k], dtype=np.float64) for k in TYPE_STATS}
    s["carts"] = np.minimum(s["carts"], s["views"])
    s["purchases"] = np.minimum(s["purchases"], s["carts"])
    s["sessions"] = np.minimum(s["sessions"], np.maximum(s["views"], 0))
    return s


def fit_type_mixture(stats: dict, iterations: int = 200, tol: float = 1e-7) -> TypeMixture:
    """EM for the two-component mixture on per-user sufficient statistics (arrays keyed by TYPE_STATS)."""
    s = _clean(stats)
    n = len(s["views"])
    if n < 2:
        return TypeMixture((0.5, 0.5), (0.2, 0.2), (0.05, 0.05), (0.3, 0.3), (3.0, 3.0), (1.0, 1.0), n, 0, 0.0)
    # Start by splitting at the median raw view->cart rate: the two types differ most in it.
    rate = (s["carts"] + 0.5) / (s["views"] + 1.0)
    resp = (rate > np.median(rate)).astype(np.float64) * 0.8 + 0.1
    prev = -np.inf
    ll_total = 0.0
    it = 0
    for it in range(1, iterations + 1):
        g = np.stack([1 - resp, resp])                      # [2, n]
        w = g.sum(axis=1) + 1e-9
        pi = w / w.sum()
        tot = lambda key: (g * s[key]).sum(axis=1)  # noqa: E731
        q = np.clip(tot("sessions") / np.maximum(tot("views"), 1e-9), 1e-4, 1.0 - 1e-4)
        p = np.clip(tot("carts") / np.maximum(tot("views"), 1e-9), 1e-5, 1 - 1e-5)
        r = np.clip(tot("purchases") / np.maximum(tot("carts"), 1e-9), 1e-5, 1 - 1e-5)
        dn = np.maximum(tot("dwell_n"), 1e-9)
        mu = tot("dwell_log_sum") / dn
        var = tot("dwell_log_sq") / dn - mu * mu
        sigma = np.sqrt(np.clip(var, 1e-4, None))
        ll = np.stack([np.log(pi[k]) + _component_loglik(s, q[k], p[k], r[k], mu[k], sigma[k]) for k in (0, 1)])
        mx = ll.max(axis=0)
        lse = mx + np.log(np.exp(ll - mx).sum(axis=0))
        resp = np.exp(ll[1] - lse)
        ll_total = float(lse.sum())
        if abs(ll_total - prev) < tol * max(1.0, abs(ll_total)):
            break
        prev = ll_total
    if p[0] > p[1]:  # component 1 is the buyer
        pi, q, p, r, mu, sigma = (x[::-1] for x in (pi, q, p, r, mu, sigma))
    as_t = lambda x: (float(x[0]), float(x[1]))  # noqa: E731
    return TypeMixture(as_t(pi), as_t(q), as_t(p), as_t(r), as_t(mu), as_t(sigma), n, it, ll_total)


def buyer_posterior(stats: dict, m: TypeMixture) -> np.ndarray:
    """P(buyer | a user's statistics) under the fitted mixture (numpy)."""
    s = _clean(stats)
    l0 = np.log(m.pi[0]) + _component_loglik(s, m.q[0], m.p[0], m.r[0], m.mu[0], m.sigma[0])
    l1 = np.log(m.pi[1]) + _component_loglik(s, m.q[1], m.p[1], m.r[1], m.mu[1], m.sigma[1])
    return special.expit(l1 - l0)


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve (ties count half), without sklearn."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both classes")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))

