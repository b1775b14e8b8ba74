#!/usr/bin/env python3
"""Reference values for tests/stats_reference.rs, computed independently of splitmark.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scipy statsmodels numpy
    /tmp/venv/bin/python scripts/reference_stats.py > tests/data/stats_reference.json

Wilson intervals and the pooled two-proportion z-test come from statsmodels; the Bayesian
chance to beat control and the expected loss are numerical integrals with scipy's quad (a
different method from the closed-form sum splitmark uses); the sample-ratio test is scipy's
chisquare; the sample size is statsmodels' samplesize_proportions_2indep_onetail with a
two-sided alpha.
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


out = {"pairs": [], "srm": [], "sample_size": []}
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
print(json.dumps(out, indent=1))
