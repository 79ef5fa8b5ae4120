//! Helpers shared by the whole-binary tests.

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
