//! Statistics against reference values computed with scipy and statsmodels
//! (`scripts/reference_stats.py` wrote `tests/data/stats_reference.json`).

use splitmark::stats::*;

fn data() -> serde_json::Value {
    serde_json::from_str(include_str!("data/stats_reference.json")).unwrap()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

fn counts(c: &serde_json::Value) -> (u64, u64, u64, u64) {
    (
        c["c1"].as_u64().unwrap(),
        c["n1"].as_u64().unwrap(),
        c["c2"].as_u64().unwrap(),
        c["n2"].as_u64().unwrap(),
    )
}

#[test]
fn wilson_intervals_match_statsmodels() {
    for c in data()["pairs"].as_array().unwrap() {
        let (c1, n1, c2, n2) = counts(c);
        for (conv, n, key) in [(c1, n1, "wilson1"), (c2, n2, "wilson2")] {
            let r = wilson(conv, n).unwrap();
            close(
                r.low,
                c[key][0].as_f64().unwrap(),
                1e-9,
                &format!("{} {key} low", c["name"]),
            );
            close(
                r.high,
                c[key][1].as_f64().unwrap(),
                1e-9,
                &format!("{} {key} high", c["name"]),
            );
        }
    }
    assert!(wilson(0, 0).is_none());
}

#[test]
fn z_test_p_values_match_statsmodels() {
    for c in data()["pairs"].as_array().unwrap() {
        let (c1, n1, c2, n2) = counts(c);
        close(
            z_test_p(c1, n1, c2, n2).unwrap(),
            c["p_value"].as_f64().unwrap(),
            1e-9,
            c["name"].as_str().unwrap(),
        );
    }
    assert!(z_test_p(1, 0, 1, 10).is_none());
}

#[test]
fn chance_to_beat_and_expected_loss_match_numerical_integration() {
    for c in data()["pairs"].as_array().unwrap() {
        let (c1, n1, c2, n2) = counts(c);
        let b = bayes(c1, n1, c2, n2);
        let name = c["name"].as_str().unwrap();
        close(
            b.chance_to_beat,
            c["chance_to_beat"].as_f64().unwrap(),
            1e-6,
            name,
        );
        close(
            b.expected_loss,
            c["expected_loss"].as_f64().unwrap(),
            1e-7,
            name,
        );
    }
}

#[test]
fn srm_p_values_match_scipy_chisquare() {
    for c in data()["srm"].as_array().unwrap() {
        let observed: Vec<u64> = serde_json::from_value(c["observed"].clone()).unwrap();
        let weights: Vec<f64> = serde_json::from_value(c["weights"].clone()).unwrap();
        close(
            srm_p_value(&observed, &weights).unwrap(),
            c["p_value"].as_f64().unwrap(),
            1e-9,
            &format!("{observed:?}"),
        );
    }
    assert!(
        srm_warning(&[5200, 4800], &[0.5, 0.5]),
        "p = 6e-5 with 10,000 visitors"
    );
    assert!(
        !srm_warning(&[10, 2], &[0.5, 0.5]),
        "too few visitors in one variant to warn"
    );
    assert!(!srm_warning(&[5000, 5000], &[0.5, 0.5]));
}

#[test]
fn sample_size_matches_statsmodels() {
    for c in data()["sample_size"].as_array().unwrap() {
        let n =
            sample_size_per_variant(c["baseline"].as_f64().unwrap(), c["mde"].as_f64().unwrap())
                .unwrap();
        let want = c["n"].as_f64().unwrap();
        assert!((n as f64 - want).abs() <= 0.01 * want + 1.0, "{c}: got {n}");
    }
    assert!(
        sample_size_per_variant(0.0, 0.1).is_none(),
        "no baseline, no estimate"
    );
}

#[test]
fn lift_and_its_interval() {
    let l = lift(100, 1000, 120, 1000).unwrap();
    close(l.absolute, 0.02, 1e-12, "absolute");
    close(l.relative, 0.2, 1e-12, "relative");
    // Delta method: Var = 1.2² (0.88/120 + 0.9/100) = 0.023520; half-width 1.96 × 0.15336.
    close(
        l.high - l.relative,
        Z95 * 0.023_520_f64.sqrt(),
        1e-6,
        "half width",
    );
    assert!(
        lift(0, 100, 5, 100).is_none(),
        "undefined without control conversions"
    );
}

#[test]
fn msprt_is_more_conservative_than_the_fixed_horizon_p_and_never_rises_over_looks() {
    let fixed = z_test_p(500, 10_000, 600, 10_000).unwrap();
    let seq = msprt_p_value(500, 10_000, 600, 10_000, 0.1).unwrap();
    assert!(seq > fixed && seq < 1.0, "fixed {fixed}, sequential {seq}");
    assert!(
        msprt_p_value(50, 1000, 50, 1000, 0.1).unwrap() > 0.9,
        "no difference, no evidence"
    );
    let looks = [
        (50, 1000, 70, 1000),
        (100, 2000, 150, 2000),
        (150, 3000, 190, 3000),
    ];
    let running = msprt_running(&looks, 0.1).unwrap();
    let each: Vec<f64> = looks
        .iter()
        .map(|&(a, b, c, d)| msprt_p_value(a, b, c, d, 0.1).unwrap())
        .collect();
    assert_eq!(running, each.iter().copied().fold(1.0, f64::min));
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

/// Checks the mean, interval, Welch test and delta-method lift of one pair against `want`.
fn check_means(name: &str, a: &Moments, b: &Moments, want: &serde_json::Value) {
    for (m, key) in [(a, "a"), (b, "b")] {
        let ci = mean_ci(m).unwrap();
        let w = &want[key];
        close(
            ci.mean,
            w["mean"].as_f64().unwrap(),
            1e-9,
            &format!("{name} {key} mean"),
        );
        close(
            ci.low,
            w["ci"][0].as_f64().unwrap(),
            1e-9,
            &format!("{name} {key} ci low"),
        );
        close(
            ci.high,
            w["ci"][1].as_f64().unwrap(),
            1e-9,
            &format!("{name} {key} ci high"),
        );
    }
    let t = welch(a, b).unwrap();
    let w = &want["welch"];
    close(t.t, w["t"].as_f64().unwrap(), 1e-9, &format!("{name} t"));
    close(t.df, w["df"].as_f64().unwrap(), 1e-6, &format!("{name} df"));
    close(
        t.p_value,
        w["p_value"].as_f64().unwrap(),
        1e-9,
        &format!("{name} Welch p"),
    );
    let l = mean_lift(a, b).unwrap();
    let w = floats(&want["lift"]);
    close(l.relative, w[0], 1e-9, &format!("{name} lift"));
    close(l.low, w[1], 1e-9, &format!("{name} lift low"));
    close(l.high, w[2], 1e-9, &format!("{name} lift high"));
}

#[test]
fn means_welch_and_delta_method_lift_match_scipy_and_numpy() {
    for c in data()["means"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (n1, n2) = (c["n1"].as_u64().unwrap(), c["n2"].as_u64().unwrap());
        let (v1, v2) = (floats(&c["values1"]), floats(&c["values2"]));
        let (a, b) = (Moments::from_values(n1, &v1), Moments::from_values(n2, &v2));
        check_means(name, &a, &b, &c["plain"]);
        let pooled: Vec<f64> = v1.iter().chain(&v2).copied().collect();
        let limit = percentile(&pooled, c["cap_percentile"].as_f64().unwrap()).unwrap();
        close(
            limit,
            c["cap"].as_f64().unwrap(),
            1e-9,
            &format!("{name} cap"),
        );
        let (a, b) = (
            Moments::from_values(n1, &cap(&v1, limit)),
            Moments::from_values(n2, &cap(&v2, limit)),
        );
        check_means(&format!("{name} capped"), &a, &b, &c["capped"]);
    }
}

#[test]
fn the_always_valid_p_for_means_uses_the_same_mixture_as_for_rates() {
    // A rate is the mean of 0/1 values: the same counts give the same mSPRT up to the
    // n - 1 of the sample variance.
    let ones = vec![1.0; 500];
    let more = vec![1.0; 600];
    let (a, b) = (
        Moments::from_values(10_000, &ones),
        Moments::from_values(10_000, &more),
    );
    let means = msprt_means_p_value(&a, &b, 0.1).unwrap();
    let rates = msprt_p_value(500, 10_000, 600, 10_000, 0.1).unwrap();
    assert!((means - rates).abs() < 1e-3 * rates, "{means} vs {rates}");
    let fixed = welch(&a, &b).unwrap().p_value;
    assert!(means > fixed, "the sequential p is the more cautious one");
}
