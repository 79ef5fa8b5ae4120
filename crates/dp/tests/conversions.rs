//! zCDP ↔ (ε, δ) conversions against golden values computed by OpenDP
//! (`golden/make_golden.py` → `golden/conversions.json`). No Python is needed to run this.

use dp::{Delta, Epsilon, Rho, eps_from_rho_delta, rho_from_eps_delta};

const GOLDEN: &str = include_str!("../golden/conversions.json");

/// The flat `{"key": number, ...}` objects of the JSON array named `section`.
fn records(section: &str) -> Vec<Vec<(String, f64)>> {
    let start = GOLDEN
        .find(&format!("\"{section}\""))
        .expect("section present in golden file");
    let body = &GOLDEN[start..];
    let open = body.find('[').expect("array opens");
    let close = body.find(']').expect("array closes");
    body[open + 1..close]
        .split('}')
        .filter(|chunk| chunk.contains(':'))
        .map(|object| {
            object
                .trim_start_matches([',', ' ', '\n', '{'])
                .split(',')
                .map(|pair| {
                    let (key, value) = pair.split_once(':').expect("key: value");
                    let key = key.trim().trim_matches(|c| c == '"' || c == '{').to_owned();
                    let value: f64 = value.trim().parse().expect("number");
                    (key, value)
                })
                .collect()
        })
        .collect()
}

fn field(record: &[(String, f64)], key: &str) -> f64 {
    record
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .expect("field present")
}

#[test]
fn epsilon_matches_opendp_and_is_never_below_it() {
    let rows = records("eps_from_rho_delta");
    assert_eq!(rows.len(), 18);
    for row in rows {
        let (rho, delta, reference) = (field(&row, "rho"), field(&row, "delta"), field(&row, "epsilon"));
        let ours = eps_from_rho_delta(Rho::new(rho).unwrap(), Delta::new(delta).unwrap())
            .unwrap()
            .get();
        assert!(ours >= reference, "ρ={rho} δ={delta}: ours {ours} < OpenDP {reference}");
        assert!(
            (ours - reference) / reference <= 1e-6,
            "ρ={rho} δ={delta}: ours {ours}, OpenDP {reference}"
        );
    }
}

#[test]
fn rho_matches_opendp_and_is_never_above_it() {
    let rows = records("rho_from_eps_delta");
    assert_eq!(rows.len(), 18);
    for row in rows {
        let (eps, delta, reference) = (field(&row, "epsilon"), field(&row, "delta"), field(&row, "rho"));
        let ours = rho_from_eps_delta(Epsilon::new(eps).unwrap(), Delta::new(delta).unwrap())
            .unwrap()
            .get();
        assert!(ours <= reference, "ε={eps} δ={delta}: ours {ours} > OpenDP {reference}");
        assert!(
            (reference - ours) / reference <= 1e-6,
            "ε={eps} δ={delta}: ours {ours}, OpenDP {reference}"
        );
    }
}

#[test]
fn conversions_are_consistent_and_beat_the_simple_bound() {
    for rho in [1e-4, 0.02, 0.3, 2.0] {
        for delta in [1e-10, 1e-7, 1e-3] {
            let (r, d) = (Rho::new(rho).unwrap(), Delta::new(delta).unwrap());
            let eps = eps_from_rho_delta(r, d).unwrap();
            // Bun & Steinke 2016, Prop. 1.3: ε ≤ ρ + 2√(ρ ln(1/δ)); CKS20 is tighter.
            assert!(eps.get() <= rho + 2.0 * (rho * (1.0 / delta).ln()).sqrt());
            let back = rho_from_eps_delta(eps, d).unwrap();
            assert!(eps_from_rho_delta(back, d).unwrap().get() <= eps.get());
            assert!(
                (back.get() - rho).abs() <= 1e-9 * rho,
                "ρ={rho} δ={delta}: round trip {}",
                back.get()
            );
        }
    }
}

#[test]
fn epsilon_grows_with_rho_and_shrinks_with_delta() {
    let d = Delta::new(1e-6).unwrap();
    let mut last = 0.0;
    for rho in [0.001, 0.01, 0.1, 1.0, 10.0] {
        let eps = eps_from_rho_delta(Rho::new(rho).unwrap(), d).unwrap().get();
        assert!(eps > last);
        last = eps;
    }
    let r = Rho::new(0.5).unwrap();
    let loose = eps_from_rho_delta(r, Delta::new(1e-3).unwrap()).unwrap().get();
    let strict = eps_from_rho_delta(r, Delta::new(1e-9).unwrap()).unwrap().get();
    assert!(loose < strict);
}
