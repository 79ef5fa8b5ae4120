//! Times the full validation report on 50,000 × 15 simulated AML rows (benchmark, not a test):
//! `cargo run --release -p eval --example full_evaluation [ROWS]`.
//! Real = one simulation, synthetic = another seed of the same simulator, holdout = a third.

use std::sync::Arc;
use std::time::Instant;

const COLUMNS: &[&str] = &[
    "AGE",
    "SEX",
    "ECOG",
    "AML_TYPE",
    "WBC",
    "HB",
    "PLT",
    "NPM1",
    "FLT3_ITD",
    "TP53",
    "ELN 2022",
    "RESPONSE TO INDUCTION",
    "Allogeneic HSCT",
    "Overall survival",
    "STATUS_OS",
];

fn simulate(rows: usize, seed: u64) -> table::Table {
    let c = cohort::simulate(
        cohort::Disease::Aml,
        &cohort::Config {
            patients: rows,
            sites: 1,
            heterogeneity: 0.0,
            seed,
        },
    )
    .expect("valid configuration");
    let dict = Arc::new(c.dictionary.restrict(|col| COLUMNS.contains(&col.name.as_str())));
    c.sites[0].project(dict).expect("restricted columns exist")
}

fn main() {
    let rows: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let (real, synthetic, holdout) = (simulate(rows, 1), simulate(rows, 2), simulate(rows, 3));
    let aligned = eval::align::align(&real, &synthetic, Some(&holdout)).expect("same dictionary");
    let time = |name: &str, f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        println!("{name:<40} {:>8.2} s", t.elapsed().as_secs_f64());
    };
    println!(
        "{rows} rows × {} columns (real, synthetic, holdout each)",
        COLUMNS.len()
    );
    time("fidelity (no detection)", &mut || {
        let o = eval::fidelity::FidelityOptions {
            detection: false,
            ..Default::default()
        };
        eval::fidelity::fidelity(&aligned, &o).expect("fidelity");
    });
    time("fidelity (with detection, 5,000 rows)", &mut || {
        eval::fidelity::fidelity(&aligned, &Default::default()).expect("fidelity");
    });
    time("utility (ELN 2022, 5,000 training rows)", &mut || {
        eval::utility::utility(&aligned, "ELN 2022", 0).expect("utility");
    });
    time("clinical (KM, log-rank, Cox, strata, rules)", &mut || {
        let o = eval::survival::ClinicalOptions::defaults(aligned.real.dictionary());
        let _ = eval::survival::evaluate(&aligned.real, &aligned.synthetic, &o);
    });
    time("privacy (DCR, NNDR, MIA, attribute inference)", &mut || {
        eval::privacy::assess(&aligned, &["TP53"], None, &Default::default()).expect("privacy");
    });
    time("whole report (evaluate + JSON + HTML)", &mut || {
        let o = eval::report::EvaluateOptions {
            target: Some("ELN 2022".into()),
            time_to_event: Vec::new(),
            strata: None,
            sensitive: vec!["TP53".into()],
            shadow: None,
            seed: 0,
        };
        let r = eval::report::evaluate(&real, &synthetic, Some(&holdout), &o).expect("report");
        let _ = r.to_html();
    });
}
