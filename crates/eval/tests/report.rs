//! The whole report on simulated AML data: every section present, a time-to-event target gives
//! the Cox C-index utility, a missing holdout or an unknown target is skipped with its reason.

use eval::report::{EvaluateOptions, Light, evaluate};

fn aml(patients: usize, seed: u64) -> table::Table {
    let c = cohort::simulate(
        cohort::Disease::Aml,
        &cohort::Config {
            patients,
            sites: 1,
            heterogeneity: 0.0,
            seed,
        },
    )
    .unwrap();
    c.sites[0].clone()
}

fn options(target: &str) -> EvaluateOptions<'static> {
    EvaluateOptions {
        target: Some(target.into()),
        time_to_event: Vec::new(),
        strata: None,
        sensitive: vec!["TP53".into()],
        shadow: None,
        seed: 1,
    }
}

#[test]
fn survival_target_gives_the_cox_c_index_both_ways() {
    let (real, synthetic, holdout) = (aml(600, 1), aml(600, 2), aml(600, 3));
    let report = evaluate(&real, &synthetic, Some(&holdout), &options("OS")).unwrap();
    let u = &report.json["utility"];
    assert_eq!(u["task"], "survival");
    assert_eq!(u["test_set"], "holdout");
    let scores = u["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2);
    for s in scores {
        let c = s["c_index"].as_f64().unwrap();
        assert!((0.55..0.9).contains(&c), "{s}");
    }
    for key in ["fidelity", "clinical", "privacy", "summary"] {
        assert!(!report.json[key].is_null(), "{key}");
    }
    // Two independent simulations of one population: the privacy lights are not red.
    let summary = eval::report::summarise(&report.json);
    assert!(
        summary
            .iter()
            .filter(|i| i.section == "privacy")
            .all(|i| i.light != Light::Red),
        "{summary:?}"
    );
    let html = report.to_html();
    assert!(html.contains("<svg") && !html.contains("NaN"));
}

#[test]
fn missing_holdout_and_unknown_target_are_skipped_with_reasons() {
    let (real, synthetic) = (aml(300, 4), aml(300, 5));
    let report = evaluate(&real, &synthetic, None, &options("NO_SUCH_COLUMN")).unwrap();
    assert!(report.json["privacy"].is_null());
    assert!(report.json["utility"].is_null());
    let warnings = report.warnings.join("\n");
    assert!(warnings.contains("skipped privacy"), "{warnings}");
    assert!(warnings.contains("skipped utility"), "{warnings}");
    assert!(!report.json["fidelity"].is_null());
}
