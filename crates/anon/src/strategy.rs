//! A saved generalisation strategy: the chosen lattice node, so the same transformation can be
//! applied to a later batch of the same extract.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Version of the strategy file format.
pub const STRATEGY_FORMAT_VERSION: u32 = 1;

/// The generalisation level of every quasi-identifier, in config order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    /// One entry per quasi-identifier.
    pub generalisation: Vec<Generalisation>,
    /// Whether the node was found by the optimal search (false: greedy heuristic or re-applied).
    pub optimal: bool,
}

/// The level chosen for one quasi-identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generalisation {
    pub column: String,
    /// 0 = original values; `levels - 1` = `*`.
    pub level: usize,
    /// Number of levels of the hierarchy (checked when the strategy is re-applied).
    pub levels: usize,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StrategyDto {
    format_version: u32,
    optimal: bool,
    generalisation: Vec<Generalisation>,
}

impl Strategy {
    /// The strategy as TOML.
    pub fn to_toml(&self) -> String {
        let dto = StrategyDto {
            format_version: STRATEGY_FORMAT_VERSION,
            optimal: self.optimal,
            generalisation: self.generalisation.clone(),
        };
        toml::to_string(&dto).expect("a strategy DTO of strings, integers and booleans always serialises")
    }

    /// Parses a strategy written by [`Strategy::to_toml`].
    pub fn from_toml(text: &str) -> Result<Strategy> {
        let dto: StrategyDto = toml::from_str(text).map_err(|e| Error::Strategy {
            message: e.to_string().trim().to_string(),
        })?;
        if dto.format_version != STRATEGY_FORMAT_VERSION {
            return Err(Error::Strategy {
                message: format!(
                    "format_version {} is not supported (this build reads version {STRATEGY_FORMAT_VERSION})",
                    dto.format_version
                ),
            });
        }
        for g in &dto.generalisation {
            if g.level >= g.levels {
                return Err(Error::Strategy {
                    message: format!("column {:?}: level {} but only {} levels", g.column, g.level, g.levels),
                });
            }
        }
        Ok(Strategy {
            generalisation: dto.generalisation,
            optimal: dto.optimal,
        })
    }
}
