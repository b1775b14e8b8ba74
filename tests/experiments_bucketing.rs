//! The Rust bucketing against the shared case table (also run by `node --test tests/js`).

use splitmark::experiments::hash::{bucket_ranges, choose, hash_v2};
use splitmark::experiments::ExperimentSpec;

fn cases() -> serde_json::Value {
    serde_json::from_str(include_str!("data/bucketing_cases.json")).unwrap()
}

#[test]
fn growthbook_hash_v2_cases() {
    for c in cases()["hash_v2"].as_array().unwrap() {
        let got = hash_v2(c["seed"].as_str().unwrap(), c["value"].as_str().unwrap());
        assert!(
            (got - c["expected"].as_f64().unwrap()).abs() < 1e-9,
            "{c}: got {got}"
        );
    }
}

#[test]
fn growthbook_bucket_ranges() {
    for c in cases()["bucket_ranges"].as_array().unwrap() {
        let w: Vec<f64> = serde_json::from_value(c["weights"].clone()).unwrap();
        let expected: Vec<(f64, f64)> = serde_json::from_value(c["expected"].clone()).unwrap();
        let got = bucket_ranges(w.len(), &w);
        for (g, e) in got.iter().zip(&expected) {
            assert!(
                (g.0 - e.0).abs() < 1e-9 && (g.1 - e.1).abs() < 1e-9,
                "{c}: {got:?}"
            );
        }
        assert_eq!(choose(0.99999, &got), Some(w.len() - 1));
    }
}

#[test]
fn assignment_table_including_non_ascii_visitors() {
    for c in cases()["assign"].as_array().unwrap() {
        let variants: Vec<serde_json::Value> = c["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| serde_json::json!({"id": p[0], "weight": p[1]}))
            .collect();
        let spec = ExperimentSpec::from_value(
            &serde_json::json!({"id": c["experiment"], "goal": "demo", "status": "running", "variants": variants}),
            &["demo"],
        )
        .unwrap();
        let visitor = c["visitor"].as_str().unwrap();
        assert!(
            (hash_v2(&spec.id, visitor) - c["bucket"].as_f64().unwrap()).abs() < 1e-9,
            "{c}"
        );
        assert_eq!(
            spec.assign(visitor).id,
            c["variant"].as_str().unwrap(),
            "{c}"
        );
    }
}
