//! Statistics of per-visitor values (revenue per exposed visitor): Welch's t-test, the mean
//! with its interval, the relative lift of two means by the delta method, and percentile
//! capping.
//!
//! Every visitor counts, with 0 for those who bought nothing, so a [`Moments`] is built from
//! the non-zero values and the number of visitors. The delta-method interval follows Deng,
//! Knoblich and Lu, "Applying the Delta Method in Metric Analytics" (KDD 2018), eq. 4.

use super::Z95;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Count, mean and sample variance (n - 1 in the denominator) of a metric over visitors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// Visitors, including those whose value is 0.
    pub n: u64,
    /// Mean per visitor.
    pub mean: f64,
    /// Sample variance (0 with fewer than two visitors).
    pub variance: f64,
}

impl Moments {
    /// From `n` visitors of whom those listed in `nonzero` have a value; the rest have 0.
    /// Two passes (mean, then squared deviations), so large totals lose no precision.
    pub fn from_values(n: u64, nonzero: &[f64]) -> Moments {
        let n = n.max(nonzero.len() as u64);
        if n == 0 {
            return Moments {
                n: 0,
                mean: 0.0,
                variance: 0.0,
            };
        }
        let mean = nonzero.iter().sum::<f64>() / n as f64;
        let zeros = (n - nonzero.len() as u64) as f64;
        let ss: f64 = nonzero.iter().map(|x| (x - mean).powi(2)).sum::<f64>() + zeros * mean * mean;
        Moments {
            n,
            mean,
            variance: if n > 1 { ss / (n - 1) as f64 } else { 0.0 },
        }
    }

    /// Variance of the mean, s²/n.
    fn var_of_mean(&self) -> f64 {
        self.variance / self.n as f64
    }
}

/// The mean per visitor with its 95% interval (Student's t with n - 1 degrees of freedom).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanInterval {
    /// Mean per visitor.
    pub mean: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The mean and its 95% t interval; `None` with fewer than two visitors.
pub fn mean_ci(m: &Moments) -> Option<MeanInterval> {
    if m.n < 2 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, (m.n - 1) as f64)
        .ok()?
        .inverse_cdf(0.975);
    let half = t * m.var_of_mean().sqrt();
    Some(MeanInterval {
        mean: m.mean,
        low: m.mean - half,
        high: m.mean + half,
    })
}

/// Welch's unequal-variance t-test of B against A.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welch {
    /// t statistic of mean_B - mean_A.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Welch's t-test; `None` with fewer than two visitors on a side. Two constant samples with
/// equal means give p = 1 (no evidence), with different means p = 0.
pub fn welch(a: &Moments, b: &Moments) -> Option<Welch> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (va, vb) = (a.var_of_mean(), b.var_of_mean());
    let se2 = va + vb;
    let diff = b.mean - a.mean;
    if se2 == 0.0 {
        let p = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(Welch {
            t: if diff == 0.0 {
                0.0
            } else {
                diff.signum() * f64::INFINITY
            },
            df: (a.n + b.n - 2) as f64,
            p_value: p,
        });
    }
    let t = diff / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    Some(Welch {
        t,
        df,
        p_value: (2.0 * dist.sf(t.abs())).min(1.0),
    })
}

/// Relative lift of B's mean over A's, mean_B / mean_A - 1, with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanLift {
    /// mean_B / mean_A - 1.
    pub relative: f64,
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The delta method on the ratio of two independent means:
/// Var(m_B / m_A) ≈ Var(m_B) / m_A² + m_B² Var(m_A) / m_A⁴. `None` when A's mean is 0.
pub fn mean_lift(a: &Moments, b: &Moments) -> Option<MeanLift> {
    if a.n == 0 || b.n == 0 || a.mean == 0.0 {
        return None;
    }
    let ratio = b.mean / a.mean;
    let var = b.var_of_mean() / a.mean.powi(2) + b.mean.powi(2) * a.var_of_mean() / a.mean.powi(4);
    let half = Z95 * var.sqrt();
    Some(MeanLift {
        relative: ratio - 1.0,
        low: ratio - 1.0 - half,
        high: ratio - 1.0 + half,
    })
}

/// The `q`-th percentile (0 < q < 100) by linear interpolation between order statistics
/// (numpy's default, Hyndman and Fan's type 7); `None` for no values.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=100.0).contains(&q) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Values capped at `limit` (winsorised from above).
pub fn cap(values: &[f64], limit: f64) -> Vec<f64> {
    values.iter().map(|&x| x.min(limit)).collect()
}

/// Always-valid p-value (mSPRT, see the module above) for a difference of means, with the
/// mixture's τ = `mde` × the pooled mean; `None` when either side has no visitors.
pub fn msprt_means_p_value(a: &Moments, b: &Moments, mde: f64) -> Option<f64> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let var = a.var_of_mean() + b.var_of_mean();
    let pooled = (a.mean * a.n as f64 + b.mean * b.n as f64) / (a.n + b.n) as f64;
    Some(super::msprt_from_estimate(
        b.mean - a.mean,
        var,
        (mde * pooled).powi(2).max(1e-12),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_count_the_zeros() {
        let m = Moments::from_values(4, &[4.0]);
        assert_eq!(m.mean, 1.0);
        // deviations: 3², and three times 1²
        assert!((m.variance - 12.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 50.0), Some(2.5));
        assert_eq!(percentile(&v, 100.0), Some(4.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(cap(&v, 2.5), [1.0, 2.0, 2.5, 2.5]);
    }

    #[test]
    fn degenerate_samples() {
        let a = Moments::from_values(10, &[]);
        assert_eq!(welch(&a, &a).unwrap().p_value, 1.0);
        assert!(mean_lift(&a, &Moments::from_values(10, &[5.0])).is_none());
        assert!(welch(&Moments::from_values(1, &[]), &a).is_none());
    }
}
