//! Clinical rules: a small, typed expression language over the columns of a dictionary, such
//! as `` EFS_TIME <= OS_TIME `` or `` TP53 == 1 => `ELN 2022` != 'favorable' ``.
//!
//! A rule is parsed and type-checked once against the dictionary ([`Rule::parse`]), with column
//! names resolved to indices and categorical literals checked against the declared levels; it
//! is then evaluated on every row ([`Rule::eval`]) without name lookups or allocation. Logic is
//! three-valued (Kleene): a row breaks a rule only when the rule is [`Truth::False`] on it, as
//! an SQL `CHECK` constraint. The language is documented in `docs/rules.md`.

mod ast;
mod check;
mod eval;
mod lexer;
mod parser;

#[cfg(test)]
mod roundtrip;
#[cfg(test)]
mod tests;

use crate::schema::Dictionary;
use crate::value::Value;
use std::fmt;

/// A parsed, checked clinical rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule's name in the dictionary.
    pub name: String,
    /// The rule as written in the dictionary.
    pub source: String,
    /// What the rule means, in words.
    pub description: String,
    /// The compiled condition.
    condition: eval::Cond,
    /// Dictionary indices of the columns the rule reads, ascending, without repeats.
    columns: Vec<usize>,
}

/// A rule that does not parse or does not type-check, with the 1-based character position of
/// the offending token in the rule's text.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// 1-based character (not byte) position in the rule; one past the end for "end of rule".
    pub position: usize,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "character {}: {}", self.position, self.message)
    }
}

impl std::error::Error for RuleError {}

/// The outcome of a rule on one row (SQL CHECK semantics: `Unknown` does not break the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    /// A value the rule needs is missing (or arithmetic on it is undefined).
    Unknown,
}

impl Truth {
    /// `True` or `False` from a known boolean.
    pub fn from_bool(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;

    /// Kleene negation: `not Unknown` is `Unknown`.
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl Rule {
    /// Parses `source` and type-checks it against `dict`.
    ///
    /// Errors carry the 1-based character position of the offending token: a lexical error
    /// (unterminated string, unexpected character), a syntax error, an unknown column (with a
    /// suggestion), a literal that is not a level of its categorical column, or a type error.
    pub fn parse(name: &str, source: &str, description: &str, dict: &Dictionary) -> Result<Rule, RuleError> {
        let expr = parser::parse(source)?;
        let condition = check::compile(&expr, dict)?;
        let mut columns = Vec::new();
        condition.collect_columns(&mut columns);
        columns.sort_unstable();
        columns.dedup();
        Ok(Rule {
            name: name.into(),
            source: source.into(),
            description: description.into(),
            condition,
            columns,
        })
    }

    /// Evaluates on a row whose values are in dictionary column order.
    ///
    /// A cell whose value does not have its column's type (or a row too short) counts as
    /// missing.
    pub fn eval(&self, row: &[Value]) -> Truth {
        self.condition.eval(row)
    }

    /// Whether the row satisfies the rule: anything but [`Truth::False`] (SQL CHECK semantics).
    pub fn holds(&self, row: &[Value]) -> bool {
        self.eval(row) != Truth::False
    }

    /// Dictionary indices of the columns the rule reads, ascending, without repeats.
    pub fn columns(&self) -> &[usize] {
        &self.columns
    }

    /// The rule rewritten in canonical form (normalised spacing, keyword case and
    /// parentheses); it parses back to the same rule.
    pub fn canonical(&self) -> String {
        // `source` parsed when the rule was built, so this cannot fail; fall back to it anyway.
        parser::parse(&self.source).map_or_else(|_| self.source.clone(), |e| e.to_string())
    }
}
