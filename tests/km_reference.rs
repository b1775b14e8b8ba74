//! Time to first contact (Kaplan–Meier, uncontacted leads censored) against reference values
//! computed with lifelines (`scripts/reference_km.py` wrote `tests/data/km_reference.json`).

use splitmark::lifecycle::km::{estimate, Observation};

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => false,
    }
}

#[test]
fn quantiles_and_the_five_minute_share_match_lifelines() {
    let cases: serde_json::Value =
        serde_json::from_str(include_str!("data/km_reference.json")).unwrap();
    let cases = cases.as_object().unwrap();
    assert!(cases.len() >= 5);
    for (name, case) in cases {
        let obs: Vec<Observation> = case["observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| Observation {
                seconds: o[0].as_f64().unwrap(),
                contacted: o[1].as_bool().unwrap(),
            })
            .collect();
        let s = estimate(&obs);
        let p50 = case["p50"].as_f64();
        assert!(
            close(s.quantile(0.5), p50),
            "{name}: p50 {:?} vs {p50:?}",
            s.quantile(0.5)
        );
        assert!(
            close(p50, case["median_lifelines"].as_f64()),
            "{name}: the reference's own median"
        );
        let p90 = case["p90"].as_f64();
        assert!(
            close(s.quantile(0.9), p90),
            "{name}: p90 {:?} vs {p90:?}",
            s.quantile(0.9)
        );
        let within = case["within_5_min"].as_f64().unwrap();
        assert!(
            (s.share_within(300.0) - within).abs() < 1e-12,
            "{name}: within 5 min {} vs {within}",
            s.share_within(300.0)
        );
    }
}
