//! AML cohort simulator (being written).

use crate::{Cohort, Config};
use std::sync::Arc;
use table::Dictionary;

pub fn dictionary() -> Arc<Dictionary> {
    unimplemented!("aml dictionary")
}

pub fn simulate(_config: &Config) -> Cohort {
    unimplemented!("aml simulator")
}
