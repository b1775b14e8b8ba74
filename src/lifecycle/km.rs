//! The Kaplan–Meier estimate of time to first contact, with leads not yet contacted as
//! censored observations: a median over contacted leads only would drop exactly the leads
//! nobody called and flatter the team.
//!
//! `S(t)` is the share still uncontacted after `t`; at each contact time `t_i` with `d_i`
//! contacts among `n_i` leads still at risk, `S` drops by the factor `1 - d_i / n_i`. A lead
//! censored at the same time as a contact is still at risk at that time (the usual
//! convention, and lifelines'). Quantiles are the first time `S` falls to or below the level,
//! as lifelines' `median_survival_time_`; `None` while it has not.

/// One lead: how long it waited, and whether that wait ended in a contact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// Seconds from the lead's arrival to its contact, or to the end of observation.
    pub seconds: f64,
    /// True when contacted; false when censored (not contacted yet, or disqualified first).
    pub contacted: bool,
}

/// The step function `S(t)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Survival {
    /// `(t_i, S(t_i))` at each contact time, ascending.
    pub steps: Vec<(f64, f64)>,
    /// Leads observed.
    pub leads: usize,
    /// Of those, contacted.
    pub contacted: usize,
}

/// Estimates `S(t)` from `observations` (in any order).
pub fn estimate(observations: &[Observation]) -> Survival {
    let mut obs: Vec<Observation> = observations
        .iter()
        .copied()
        .filter(|o| o.seconds.is_finite())
        .map(|o| Observation {
            seconds: o.seconds.max(0.0),
            ..o
        })
        .collect();
    // Contacts before censorings at equal times: the censored lead was at risk then.
    obs.sort_by(|a, b| {
        a.seconds
            .total_cmp(&b.seconds)
            .then(b.contacted.cmp(&a.contacted))
    });
    let mut at_risk = obs.len();
    let mut s = 1.0;
    let mut steps = Vec::new();
    let mut i = 0;
    while i < obs.len() {
        let t = obs[i].seconds;
        let (mut events, mut removed) = (0usize, 0usize);
        while i < obs.len() && obs[i].seconds == t {
            events += usize::from(obs[i].contacted);
            removed += 1;
            i += 1;
        }
        if events > 0 {
            s *= 1.0 - events as f64 / at_risk as f64;
            steps.push((t, s));
        }
        at_risk -= removed;
    }
    Survival {
        leads: obs.len(),
        contacted: obs.iter().filter(|o| o.contacted).count(),
        steps,
    }
}

impl Survival {
    /// `S(t)`: the share of leads still uncontacted after `t` seconds.
    pub fn at(&self, t: f64) -> f64 {
        self.steps
            .iter()
            .take_while(|(ti, _)| *ti <= t)
            .last()
            .map_or(1.0, |(_, s)| *s)
    }

    /// The time by which a share `p` of leads was contacted (`S` ≤ 1 − p), if reached.
    pub fn quantile(&self, p: f64) -> Option<f64> {
        let level = 1.0 - p;
        // A small tolerance: 1 - 0.5 must count as reaching 0.5 despite rounding.
        self.steps
            .iter()
            .find(|(_, s)| *s <= level + 1e-12)
            .map(|(t, _)| *t)
    }

    /// The share contacted within `t` seconds: `1 − S(t)`.
    pub fn share_within(&self, t: f64) -> f64 {
        1.0 - self.at(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(seconds: f64, contacted: bool) -> Observation {
        Observation { seconds, contacted }
    }

    #[test]
    fn without_censoring_it_is_the_empirical_distribution() {
        let s = estimate(&[o(10.0, true), o(20.0, true), o(30.0, true), o(40.0, true)]);
        assert_eq!(
            s.steps,
            vec![(10.0, 0.75), (20.0, 0.5), (30.0, 0.25), (40.0, 0.0)]
        );
        assert_eq!(s.quantile(0.5), Some(20.0));
        assert_eq!(s.quantile(0.9), Some(40.0));
        assert_eq!(s.share_within(25.0), 0.5);
    }

    #[test]
    fn censored_leads_keep_the_median_honest() {
        // Two contacted quickly, three never: half are not contacted, so there is no median.
        let s = estimate(&[
            o(60.0, true),
            o(120.0, true),
            o(30.0, false),
            o(3600.0, false),
            o(7200.0, false),
        ]);
        // At 60 s, 4 at risk (the lead censored at 30 s left): S = 3/4; at 120 s: 3/4 * 2/3.
        assert_eq!(s.steps.len(), 2);
        assert!((s.at(60.0) - 0.75).abs() < 1e-12);
        assert!((s.at(120.0) - 0.5).abs() < 1e-12);
        assert_eq!(s.quantile(0.5), Some(120.0));
        assert_eq!(s.quantile(0.9), None, "never reached");
        assert_eq!((s.leads, s.contacted), (5, 2));
    }

    #[test]
    fn a_censoring_tied_with_a_contact_was_at_risk() {
        let s = estimate(&[o(10.0, false), o(10.0, true), o(20.0, true)]);
        assert!((s.at(10.0) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.at(20.0), 0.0);
        assert_eq!(estimate(&[]).quantile(0.5), None);
    }
}
