//! Conversion statistics: pure functions from counts to results.
//!
//! Every function here is table-tested against reference values computed with scipy and
//! statsmodels (`scripts/reference_stats.py` regenerates them). Distributions come from
//! `statrs`; only the formulas are written here.
//!
//! The always-valid p-value is the mixture sequential probability ratio test (mSPRT) of
//! Johari, Pekelis and Walsh, "Always Valid Inference" (2017), as used by Optimizely's stats
//! engine: a normal mixture N(0, τ²) over the difference of conversion rates, with the
//! difference's variance estimated from the current counts. τ is set from the experiment's
//! minimum detectable effect (τ = mde × baseline rate), the effect size the test is tuned to
//! detect. `p = min(1, 1/Λ)`; over a series of looks it is the running minimum, which stays
//! valid however often a team looks.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use statrs::function::beta::{beta_reg, ln_beta};

mod means;
pub use means::{
    cap, mean_ci, mean_lift, msprt_means_p_value, percentile, welch, MeanInterval, MeanLift,
    Moments, Welch,
};

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

fn normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal")
}

/// A conversion rate with its 95% Wilson score interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// conversions / visitors
    pub rate: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Rate and 95% Wilson interval; `None` without visitors.
pub fn wilson(conversions: u64, visitors: u64) -> Option<Rate> {
    if visitors == 0 {
        return None;
    }
    let n = visitors as f64;
    let p = conversions.min(visitors) as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Some(Rate {
        rate: p,
        low: (center - half).max(0.0),
        high: (center + half).min(1.0),
    })
}

/// Two-sided p-value of the pooled two-proportion z-test; `None` without visitors on a side.
pub fn z_test_p(c1: u64, n1: u64, c2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (p1, p2) = (c1 as f64 / n1 as f64, c2 as f64 / n2 as f64);
    let pooled = (c1 + c2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    if se == 0.0 {
        // Both rates are 0 or both are 1: no evidence of a difference.
        return Some(1.0);
    }
    let z = ((p2 - p1) / se).abs();
    Some((2.0 * normal().sf(z)).min(1.0))
}

/// Relative lift of B over A with a 95% interval (delta method on the ratio of rates).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lift {
    /// p_B - p_A
    pub absolute: f64,
    /// p_B / p_A - 1
    pub relative: f64,
    /// Lower bound of the relative lift.
    pub low: f64,
    /// Upper bound of the relative lift.
    pub high: f64,
}

/// Lift of B over A; `None` when A has no conversions (the ratio is undefined).
pub fn lift(c1: u64, n1: u64, c2: u64, n2: u64) -> Option<Lift> {
    if n1 == 0 || n2 == 0 || c1 == 0 {
        return None;
    }
    let (p1, p2) = (c1 as f64 / n1 as f64, c2 as f64 / n2 as f64);
    let ratio = p2 / p1;
    // Var(p2/p1) ≈ (p2/p1)² (Var p2 / p2² + Var p1 / p1²), with Var p = p(1-p)/n.
    let var_rel = ratio
        * ratio
        * ((1.0 - p2) / (n2 as f64 * p2.max(f64::MIN_POSITIVE)) + (1.0 - p1) / (n1 as f64 * p1));
    let var = if c2 == 0 {
        ratio * ratio * (1.0 - p1) / (n1 as f64 * p1)
    } else {
        var_rel
    };
    let half = Z95 * var.sqrt();
    Some(Lift {
        absolute: p2 - p1,
        relative: ratio - 1.0,
        low: ratio - 1.0 - half,
        high: ratio - 1.0 + half,
    })
}

/// P(X_b > X_a) for X ~ Beta(a_*, b_*), exactly.
///
/// Evan Miller's closed form sums over one Beta's first parameter; it is exact but linear in
/// that parameter, so very large counts switch to numerical integration of
/// ∫ f_b(x) F_a(x) dx (Simpson's rule over ±12 standard deviations, where all mass lies).
pub fn prob_b_beats_a(aa: f64, ba: f64, ab: f64, bb: f64) -> f64 {
    const SUM_LIMIT: f64 = 50_000.0;
    if ab.min(aa) <= SUM_LIMIT {
        if ab <= aa {
            return miller_sum(aa, ba, ab, bb);
        }
        return 1.0 - miller_sum(ab, bb, aa, ba);
    }
    integrate(aa, ba, ab, bb)
}

fn miller_sum(aa: f64, ba: f64, ab: f64, bb: f64) -> f64 {
    let base = ln_beta(aa, ba);
    let mut total = 0.0;
    let mut i = 0.0;
    while i < ab {
        total += (ln_beta(aa + i, ba + bb) - (bb + i).ln() - ln_beta(1.0 + i, bb) - base).exp();
        i += 1.0;
    }
    total.clamp(0.0, 1.0)
}

fn integrate(aa: f64, ba: f64, ab: f64, bb: f64) -> f64 {
    let mean = ab / (ab + bb);
    let sd = (ab * bb / ((ab + bb).powi(2) * (ab + bb + 1.0))).sqrt();
    let (lo, hi) = ((mean - 12.0 * sd).max(0.0), (mean + 12.0 * sd).min(1.0));
    let steps = 4000;
    let h = (hi - lo) / steps as f64;
    let lnb = ln_beta(ab, bb);
    let f = |x: f64| {
        if x <= 0.0 || x >= 1.0 {
            return 0.0;
        }
        let pdf = ((ab - 1.0) * x.ln() + (bb - 1.0) * (1.0 - x).ln() - lnb).exp();
        pdf * beta_reg(aa, ba, x)
    };
    let mut s = f(lo) + f(hi);
    for k in 1..steps {
        s += f(lo + k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
    }
    (s * h / 3.0).clamp(0.0, 1.0)
}

/// Bayesian comparison of B with A under Beta(1,1) priors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bayes {
    /// P(rate_B > rate_A).
    pub chance_to_beat: f64,
    /// E[max(rate_A - rate_B, 0)]: what choosing B costs if it is worse.
    pub expected_loss: f64,
}

/// Chance that B beats A and the expected loss of choosing B.
pub fn bayes(c1: u64, n1: u64, c2: u64, n2: u64) -> Bayes {
    let (aa, ba) = (1.0 + c1 as f64, 1.0 + n1.saturating_sub(c1) as f64);
    let (ab, bb) = (1.0 + c2 as f64, 1.0 + n2.saturating_sub(c2) as f64);
    let chance = prob_b_beats_a(aa, ba, ab, bb);
    // E[A·1(A>B)] = E[A]·P(A' > B) with A' ~ Beta(aa+1, ba), and likewise for B.
    let e_a_wins = aa / (aa + ba) * prob_b_beats_a(ab, bb, aa + 1.0, ba);
    let e_b_loses = ab / (ab + bb) * prob_b_beats_a(ab + 1.0, bb, aa, ba);
    Bayes {
        chance_to_beat: chance,
        expected_loss: (e_a_wins - e_b_loses).max(0.0),
    }
}

/// Chi-square goodness-of-fit p-value of observed visitors against configured weights.
pub fn srm_p_value(observed: &[u64], weights: &[f64]) -> Option<f64> {
    let total: u64 = observed.iter().sum();
    let wsum: f64 = weights.iter().sum();
    if total == 0 || observed.len() < 2 || observed.len() != weights.len() || wsum <= 0.0 {
        return None;
    }
    let stat: f64 = observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let e = total as f64 * w / wsum;
            (o as f64 - e).powi(2) / e
        })
        .sum();
    let dist = ChiSquared::new((observed.len() - 1) as f64).ok()?;
    Some(dist.sf(stat))
}

/// Whether the split is off: p < 0.001 with at least 8 visitors in every variant.
pub fn srm_warning(observed: &[u64], weights: &[f64]) -> bool {
    observed.iter().all(|&o| o >= 8) && srm_p_value(observed, weights).is_some_and(|p| p < 0.001)
}

/// Visitors per variant needed to detect a relative effect `mde` on `baseline` (two-sided
/// alpha 0.05, power 0.8); `None` when the baseline is 0 or 1.
pub fn sample_size_per_variant(baseline: f64, mde: f64) -> Option<u64> {
    let p1 = baseline;
    let p2 = p1 * (1.0 + mde);
    let in_unit = |p: f64| p > 0.0 && p < 1.0;
    if !(in_unit(p1) && in_unit(p2)) || mde == 0.0 {
        return None;
    }
    let n = normal();
    let za = n.inverse_cdf(1.0 - 0.05 / 2.0);
    let zb = n.inverse_cdf(0.8);
    let pbar = (p1 + p2) / 2.0;
    let num =
        za * (2.0 * pbar * (1.0 - pbar)).sqrt() + zb * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    Some((num * num / (p2 - p1).powi(2)).ceil() as u64)
}

/// Always-valid (mSPRT) p-value from current counts; see the module documentation.
pub fn msprt_p_value(c1: u64, n1: u64, c2: u64, n2: u64, mde: f64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (p1, p2) = (c1 as f64 / n1 as f64, c2 as f64 / n2 as f64);
    let var = p1 * (1.0 - p1) / n1 as f64 + p2 * (1.0 - p2) / n2 as f64;
    if var == 0.0 {
        return Some(1.0);
    }
    let pooled = (c1 + c2) as f64 / (n1 + n2) as f64;
    let tau2 = (mde * pooled).powi(2).max(1e-12);
    Some(msprt_from_estimate(p2 - p1, var, tau2))
}

/// The mSPRT p-value `min(1, 1/Λ)` of an estimated difference `theta` with variance `var`
/// under a N(0, `tau2`) mixture; a zero variance (no spread yet) gives 1.
pub fn msprt_from_estimate(theta: f64, var: f64, tau2: f64) -> f64 {
    if var <= 0.0 {
        return 1.0;
    }
    let ln_lambda =
        0.5 * (var / (var + tau2)).ln() + tau2 * theta * theta / (2.0 * var * (var + tau2));
    (-ln_lambda).exp().min(1.0)
}

/// The always-valid p-value over a series of looks: the running minimum.
pub fn msprt_running(looks: &[(u64, u64, u64, u64)], mde: f64) -> Option<f64> {
    looks
        .iter()
        .filter_map(|&(c1, n1, c2, n2)| msprt_p_value(c1, n1, c2, n2, mde))
        .reduce(f64::min)
}
