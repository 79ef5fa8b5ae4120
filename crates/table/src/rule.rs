//! Clinical rules: a small expression language over the columns of a dictionary.
//! (Being written; the public API below is fixed.)

use crate::schema::Dictionary;
use crate::value::Value;

/// A parsed, checked clinical rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    /// The rule as written in the dictionary.
    pub source: String,
    pub description: String,
}

/// A rule that does not parse or does not type-check, with the 1-based character position.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub position: usize,
    pub message: String,
}

/// The outcome of a rule on one row (SQL CHECK semantics: `Unknown` does not break the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Rule {
    pub fn parse(name: &str, source: &str, description: &str, _dict: &Dictionary) -> Result<Rule, RuleError> {
        Ok(Rule {
            name: name.into(),
            source: source.into(),
            description: description.into(),
        })
    }

    /// Evaluates on a row whose values are in dictionary column order.
    pub fn eval(&self, _row: &[Value]) -> Truth {
        Truth::Unknown
    }
}
