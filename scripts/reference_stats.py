#!/usr/bin/env python3
"""Reference values for tests/stats_reference.rs, computed independently of splitmark.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scipy statsmodels numpy
    /tmp/venv/bin/python scripts/reference_stats.py > tests/data/stats_reference.json

Wilson intervals and the pooled two-proportion z-test come from statsmodels; the Bayesian
chance to beat control and the expected loss are numerical integrals with scipy's quad (a
different method from the closed-form sum splitmark uses); the sample-ratio test is scipy's
chisquare; the sample size is statsmodels' samplesize_proportions_2indep_onetail with a
two-sided alpha.

Per-visitor means (revenue per exposed visitor, 0 for visitors who bought nothing): Welch's
t-test is scipy's ttest_ind(equal_var=False), the mean's interval scipy's t.interval with the
standard error from stats.sem; the relative lift of two means and its interval are the delta
method computed here with numpy from the formula of Deng, Knoblich and Lu, "Applying the Delta
Method in Metric Analytics" (KDD 2018), eq. 4: Var(m_B/m_A) ~ Var(m_B)/m_A^2 +
m_B^2 Var(m_A)/m_A^4. Capping is numpy's percentile (linear) over the non-zero values of both
variants, then np.minimum. The "funnel" case is one experiment end to end (counts per stage
and the customers' values), which tests/experiment_outcomes.rs stores and reads back through
the API.
"""
import json
import numpy as np
from scipy import stats, integrate
from statsmodels.stats.proportion import proportion_confint, proportions_ztest, samplesize_proportions_2indep_onetail

CASES = [
    ("typical", 10, 100, 15, 100),
    ("small counts", 1, 3, 2, 3),
    ("zero conversions both", 0, 50, 0, 50),
    ("zero conversions control", 0, 100, 5, 100),
    ("equal rates", 50, 1000, 50, 1000),
    ("all conversions", 20, 20, 10, 20),
    ("large", 500, 10000, 560, 10000),
    ("huge", 50000, 1000000, 51000, 1000000),
]


def chance(aa, ba, ab, bb):
    f = lambda x: stats.beta.pdf(x, ab, bb) * stats.beta.cdf(x, aa, ba)
    lo, hi = stats.beta.ppf([1e-12, 1 - 1e-12], ab, bb)
    return integrate.quad(f, lo, hi, limit=500, epsabs=1e-13, epsrel=1e-11)[0]


def loss(aa, ba, ab, bb):
    # E[max(A - B, 0)] = ∫ f_A(a) (a F_B(a) - E[B] F_B'(a)) da, B' ~ Beta(ab + 1, bb)
    mb = ab / (ab + bb)
    f = lambda a: stats.beta.pdf(a, aa, ba) * (a * stats.beta.cdf(a, ab, bb) - mb * stats.beta.cdf(a, ab + 1, bb))
    lo, hi = stats.beta.ppf([1e-12, 1 - 1e-12], aa, ba)
    return integrate.quad(f, lo, hi, limit=500, epsabs=1e-14, epsrel=1e-10)[0]


out = {"pairs": [], "srm": [], "sample_size": [], "means": []}
for name, c1, n1, c2, n2 in CASES:
    w1 = proportion_confint(c1, n1, alpha=0.05, method="wilson")
    w2 = proportion_confint(c2, n2, alpha=0.05, method="wilson")
    if (c1 + c2) in (0, n1 + n2):
        p = 1.0
    else:
        p = float(proportions_ztest([c2, c1], [n2, n1])[1])
    aa, ba, ab, bb = 1 + c1, 1 + n1 - c1, 1 + c2, 1 + n2 - c2
    out["pairs"].append({
        "name": name, "c1": c1, "n1": n1, "c2": c2, "n2": n2,
        "wilson1": list(map(float, w1)), "wilson2": list(map(float, w2)),
        "p_value": p, "chance_to_beat": chance(aa, ba, ab, bb), "expected_loss": loss(aa, ba, ab, bb),
    })
for observed, weights in [([5000, 5000], [0.5, 0.5]), ([5200, 4800], [0.5, 0.5]), ([100, 100, 130], [1, 1, 1]), ([250, 750], [0.25, 0.75]), ([10, 2], [0.5, 0.5])]:
    total = sum(observed)
    expected = [total * w / sum(weights) for w in weights]
    out["srm"].append({"observed": observed, "weights": weights, "p_value": float(stats.chisquare(observed, expected).pvalue)})
for baseline, mde in [(0.05, 0.10), (0.10, 0.20), (0.02, 0.15), (0.30, 0.05)]:
    n = samplesize_proportions_2indep_onetail(baseline * mde, baseline, 0.8, ratio=1, alpha=0.05, alternative="two-sided")
    out["sample_size"].append({"baseline": baseline, "mde": mde, "n": float(n)})


def binomial(c1, n1, c2, n2):
    """Wilson intervals, the pooled z-test and the exact chance to beat control."""
    w1 = proportion_confint(c1, n1, alpha=0.05, method="wilson")
    w2 = proportion_confint(c2, n2, alpha=0.05, method="wilson")
    p = 1.0 if (c1 + c2) in (0, n1 + n2) else float(proportions_ztest([c2, c1], [n2, n1])[1])
    aa, ba, ab, bb = 1 + c1, 1 + n1 - c1, 1 + c2, 1 + n2 - c2
    return {"wilson1": list(map(float, w1)), "wilson2": list(map(float, w2)), "p_value": p,
            "chance_to_beat": chance(aa, ba, ab, bb)}


def with_zeros(n, values):
    return np.concatenate([np.asarray(values, dtype=float), np.zeros(n - len(values))])


def mean_figures(n1, v1, n2, v2):
    a, b = with_zeros(n1, v1), with_zeros(n2, v2)
    out = {}
    for key, x in (("a", a), ("b", b)):
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        out[key] = {"mean": float(x.mean()), "total": float(x.sum()), "ci": [float(lo), float(hi)]}
    t = stats.ttest_ind(b, a, equal_var=False)
    out["welch"] = {"t": float(t.statistic), "df": float(t.df), "p_value": float(t.pvalue)}
    ma, mb = a.mean(), b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    var = vb / ma**2 + mb**2 * va / ma**4
    z = stats.norm.ppf(0.975)
    lift = mb / ma - 1
    out["lift"] = [float(lift), float(lift - z * np.sqrt(var)), float(lift + z * np.sqrt(var))]
    return out


def capped(v1, v2, q):
    limit = float(np.percentile(np.concatenate([v1, v2]), q))
    return limit, list(np.minimum(v1, limit)), list(np.minimum(v2, limit))


rng = np.random.RandomState(16)
for name, n1, k1, n2, k2, q in [("revenue", 400, 30, 420, 38, 90.0), ("one whale", 1000, 12, 1000, 11, 95.0), ("small", 20, 3, 25, 5, 50.0)]:
    v1 = list(np.round(rng.lognormal(5, 1, k1), 2))
    v2 = list(np.round(rng.lognormal(5.2, 1, k2), 2))
    if name == "one whale":
        v2[0] = 250000.0
    limit, c1, c2 = capped(v1, v2, q)
    out["means"].append({"name": name, "n1": n1, "values1": [float(x) for x in v1], "n2": n2, "values2": [float(x) for x in v2],
                         "plain": mean_figures(n1, v1, n2, v2), "cap_percentile": q, "cap": limit,
                         "capped": mean_figures(n1, c1, n2, c2)})

# One experiment end to end: visitors per variant, how many reached each step within the
# window, and the customers' values in cents (EUR).
STEPS = ["leads", "qualified", "confirmed", "sales_qualified", "opportunities", "customers"]
funnel = {"visitors": [600, 580], "counts": {"leads": [60, 75], "qualified": [30, 45], "confirmed": [50, 62],
          "sales_qualified": [20, 30], "opportunities": [12, 20], "customers": [6, 11]},
          "cap_percentile": 80.0, "metrics": {}}
funnel["revenue_cents"] = [[int(x) for x in rng.randint(20000, 400000, 6)], [int(x) for x in rng.randint(20000, 400000, 11)]]
for step in STEPS:
    (c1, c2), (n1, n2) = funnel["counts"][step], funnel["visitors"]
    funnel["metrics"][step] = binomial(c1, n1, c2, n2)
v1 = [c / 100 for c in funnel["revenue_cents"][0]]
v2 = [c / 100 for c in funnel["revenue_cents"][1]]
n1, n2 = funnel["visitors"]
funnel["revenue"] = mean_figures(n1, v1, n2, v2)
limit, c1, c2 = capped(v1, v2, funnel["cap_percentile"])
funnel["cap"] = limit
funnel["revenue_capped"] = mean_figures(n1, c1, n2, c2)
out["funnel"] = funnel
print(json.dumps(out, indent=1))
