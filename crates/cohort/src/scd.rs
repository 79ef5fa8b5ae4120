//! SCD cohort simulator (being written).

use crate::{Cohort, Config};
use std::sync::Arc;
use table::Dictionary;

pub fn dictionary() -> Arc<Dictionary> {
    unimplemented!("scd dictionary")
}

pub fn simulate(_config: &Config) -> Cohort {
    unimplemented!("scd simulator")
}
