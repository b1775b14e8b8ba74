//! A lead's derived columns from its stage history: the current stage, the first time each
//! funnel step was reached, and the values of the opportunity and the deal.

use super::{Stage, StageState};
use chrono::DateTime;

/// One event as [`derive`] needs it, in history order (by `at`, then as recorded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryItem {
    /// Stage.
    pub stage: Stage,
    /// `at` in Unix milliseconds.
    pub at_ms: i64,
    /// Value in minor units.
    pub value_minor: Option<i64>,
    /// Its currency.
    pub currency: Option<String>,
}

/// The lead's derived columns, in milliseconds, as the stores write them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derived {
    /// Current stage.
    pub stage: Stage,
    /// Its time.
    pub stage_ms: Option<i64>,
    /// First reached contacted, sales_qualified, opportunity, customer (funnel order).
    pub reached_ms: [Option<i64>; 4],
    /// First disqualified.
    pub disqualified_ms: Option<i64>,
    /// Opportunity value.
    pub pipeline_minor: Option<i64>,
    /// Deal value.
    pub revenue_minor: Option<i64>,
    /// Currency of the values.
    pub currency: Option<String>,
}

fn min_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Derives a lead's columns from its history, given in order (by `at`, ties as recorded).
///
/// Values: the latest valued event fixes the currency; the pipeline is the latest valued
/// opportunity event in that currency and the revenue the latest valued customer event.
pub fn derive(history: &[HistoryItem]) -> Derived {
    let mut d = Derived::default();
    for e in history {
        d.stage = e.stage;
        d.stage_ms = Some(e.at_ms);
        match e.stage.step() {
            Some(step) => {
                for reached in &mut d.reached_ms[..step] {
                    *reached = min_opt(*reached, e.at_ms);
                }
            }
            None => d.disqualified_ms = min_opt(d.disqualified_ms, e.at_ms),
        }
        if e.value_minor.is_some() {
            d.currency = e.currency.clone();
        }
    }
    let latest = |stage: Stage| {
        history
            .iter()
            .rev()
            .find(|e| e.stage == stage && e.value_minor.is_some() && e.currency == d.currency)
            .and_then(|e| e.value_minor)
    };
    d.pipeline_minor = latest(Stage::Opportunity);
    d.revenue_minor = latest(Stage::Customer);
    d
}

impl Derived {
    /// The state as the lead carries it.
    pub fn state(&self) -> StageState {
        let t = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
        StageState {
            stage: self.stage,
            stage_at: t(self.stage_ms),
            contacted_at: t(self.reached_ms[0]),
            sales_qualified_at: t(self.reached_ms[1]),
            opportunity_at: t(self.reached_ms[2]),
            customer_at: t(self.reached_ms[3]),
            disqualified_at: t(self.disqualified_ms),
            pipeline_minor: self.pipeline_minor,
            revenue_minor: self.revenue_minor,
            currency: self.currency.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(stage: Stage, at_ms: i64) -> HistoryItem {
        HistoryItem {
            stage,
            at_ms,
            value_minor: None,
            currency: None,
        }
    }

    #[test]
    fn a_later_step_implies_the_earlier_ones_and_moving_back_keeps_them() {
        let d = derive(&[
            item(Stage::Contacted, 100),
            item(Stage::Customer, 300),
            item(Stage::New, 400),
        ]);
        assert_eq!(d.stage, Stage::New, "moved back");
        assert_eq!(d.stage_ms, Some(400));
        assert_eq!(d.reached_ms, [Some(100), Some(300), Some(300), Some(300)]);
        assert_eq!(d.disqualified_ms, None);
    }

    #[test]
    fn an_earlier_event_lowers_reached_times_but_not_the_current_stage() {
        // History is in `at` order: a backdated opportunity sits before the contact.
        let d = derive(&[item(Stage::Opportunity, 50), item(Stage::Contacted, 100)]);
        assert_eq!(d.stage, Stage::Contacted);
        assert_eq!(d.reached_ms, [Some(50), Some(50), Some(50), None]);
    }

    #[test]
    fn disqualified_is_off_the_path() {
        let d = derive(&[item(Stage::Disqualified, 10), item(Stage::Contacted, 20)]);
        assert_eq!(d.disqualified_ms, Some(10));
        assert_eq!(d.reached_ms[0], Some(20));
        assert_eq!(d.stage, Stage::Contacted);
    }

    #[test]
    fn values_follow_the_latest_valued_event_of_each_stage() {
        let valued = |stage, at_ms, v, c: &str| HistoryItem {
            stage,
            at_ms,
            value_minor: Some(v),
            currency: Some(c.into()),
        };
        let d = derive(&[
            valued(Stage::Opportunity, 1, 1000, "EUR"),
            valued(Stage::Opportunity, 2, 1500, "EUR"),
            item(Stage::Customer, 3),
        ]);
        assert_eq!(
            (d.pipeline_minor, d.revenue_minor, d.currency.as_deref()),
            (Some(1500), None, Some("EUR"))
        );
        let d = derive(&[
            valued(Stage::Opportunity, 1, 1000, "EUR"),
            valued(Stage::Customer, 2, 900, "USD"),
        ]);
        assert_eq!(
            (d.pipeline_minor, d.revenue_minor, d.currency.as_deref()),
            (None, Some(900), Some("USD")),
            "values in another currency than the latest are not mixed in"
        );
    }
}
