//! Helpers shared by the whole-binary tests.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `synthema` binary with `args` in `dir`.
pub fn synthema(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synthema"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// Lossy text of a captured stream.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `synthema simulate DISEASE --patients N --sites K --seed SEED --out OUT` in `dir`.
pub fn simulate(dir: &Path, disease: &str, patients: u32, sites: u32, seed: &str, out: &str) -> Output {
    let (patients, sites) = (patients.to_string(), sites.to_string());
    synthema(
        &[
            "simulate",
            disease,
            "--patients",
            &patients,
            "--sites",
            &sites,
            "--seed",
            seed,
            "--out",
            out,
        ],
        dir,
    )
}
