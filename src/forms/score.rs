//! Lead scoring: points from answers, qualified past a threshold.

use super::validate::ValidLead;
use super::FormSpec;
use serde_json::Value;

/// A lead's score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score {
    /// Sum of points.
    pub points: i64,
    /// Points reached the form's threshold (false when the form has no qualification).
    pub qualified: bool,
}

impl FormSpec {
    /// Scores a valid lead with the form's qualification rules.
    pub fn score(&self, lead: &ValidLead) -> Score {
        let Some(q) = &self.qualification else {
            return Score {
                points: 0,
                qualified: false,
            };
        };
        let mut points = 0;
        for rule in &q.rules {
            let Some(answer) = lead.answers.get(&rule.field) else {
                continue;
            };
            let values: Vec<&Value> = match answer {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            for v in values {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                points += rule.points.get(&text).copied().unwrap_or(0);
                if let Some(n) = v.as_f64().or_else(|| text.parse().ok()) {
                    if let Some(r) = rule
                        .ranges
                        .iter()
                        .find(|r| r.min.is_none_or(|m| n >= m) && r.max.is_none_or(|m| n <= m))
                    {
                        points += r.points;
                    }
                }
            }
        }
        Score {
            points,
            qualified: points >= q.threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::demo;
    use super::super::validate::Answers;

    fn score(size: &str, budget: &str) -> super::Score {
        let mut a = Answers::new();
        for (k, v) in [
            ("email", "a@b.co"),
            ("company_size", size),
            ("budget", budget),
            ("consent", "on"),
        ] {
            a.insert(k.into(), vec![v.into()]);
        }
        let spec = demo();
        spec.score(&spec.validate(&a).unwrap())
    }

    #[test]
    fn points_per_option_and_range_against_threshold() {
        assert_eq!(score("1-10", "0").points, 0);
        assert_eq!(score("51-200", "5000").points, 40);
        assert!(!score("51-200", "5000").qualified, "40 < 50");
        assert_eq!(score("201+", "0").points, 50);
        assert!(score("201+", "0").qualified, "threshold is inclusive");
        assert_eq!(score("11-50", "10000").points, 40);
        assert_eq!(score("51-200", "20000").points, 70);
    }
}
