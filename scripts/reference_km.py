#!/usr/bin/env python3
"""Reference values for tests/km_reference.rs: Kaplan-Meier time to first contact, computed
with lifelines, independently of splitmark.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install lifelines
    /tmp/venv/bin/python scripts/reference_km.py > tests/data/km_reference.json

Each case is a list of (seconds waited, contacted) pairs; leads not contacted are censored.
The quantiles are lifelines' `percentile` of the survival function (the first time S(t) is at
or below the level), `null` when never reached; `within_5_min` is 1 - S(300).
"""
import json
import math
from lifelines import KaplanMeierFitter

CASES = {
    "all contacted": [(10, True), (20, True), (30, True), (40, True)],
    "half never contacted": [(60, True), (120, True), (30, False), (3600, False), (7200, False)],
    "tie of contact and censoring": [(10, False), (10, True), (20, True)],
    "typical day": [
        (45, True), (90, True), (200, True), (240, False), (301, True), (299, True),
        (600, True), (900, False), (1800, True), (3600, True), (5400, False),
        (7200, True), (86400, False), (120, True), (130, True), (45, True),
    ],
    "slow team": [(3600 * h, h % 3 != 0) for h in range(1, 30)],
    "single uncontacted": [(500, False)],
}


def figures(pairs):
    kmf = KaplanMeierFitter()
    kmf.fit([p[0] for p in pairs], event_observed=[p[1] for p in pairs])
    sf = kmf.survival_function_["KM_estimate"]

    def quantile(p):
        level = 1.0 - p
        reached = sf[sf <= level + 1e-12]
        return None if reached.empty else float(reached.index[0])

    s300 = float(kmf.survival_function_at_times(300).iloc[0])
    return {
        "observations": [[p[0], p[1]] for p in pairs],
        "p50": quantile(0.5),
        "p90": quantile(0.9),
        "within_5_min": 1.0 - s300,
        "median_lifelines": None if math.isinf(kmf.median_survival_time_) else float(kmf.median_survival_time_),
    }


print(json.dumps({name: figures(pairs) for name, pairs in CASES.items()}, indent=2))
