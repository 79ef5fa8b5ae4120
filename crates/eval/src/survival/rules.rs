//! Violations of the dictionary's clinical rules in the real and the synthetic table.
//!
//! A row violates a rule when the rule is [`Truth::False`] on it (SQL `CHECK` semantics: a rule
//! that cannot be decided because a value is missing is not violated, but is counted apart).

use serde_json::{Value as Json, json};
use table::{Rule, Table, Truth};

/// How many violating row indices are kept per rule and table.
pub const FIRST_ROWS: usize = 5;

/// The outcome of one rule on one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Violations {
    /// Rows checked (all rows of the table).
    pub rows: usize,
    /// Rows where the rule is False.
    pub violations: usize,
    /// Rows where the rule is Unknown (a value it needs is missing).
    pub unknown: usize,
    /// The first (at most [`FIRST_ROWS`]) violating rows, as 0-based table row indices.
    pub first_rows: Vec<usize>,
}

impl Violations {
    /// Checks `rule` (compiled against `table`'s dictionary) on every row.
    pub fn count(rule: &Rule, table: &Table) -> Violations {
        let mut v = Violations {
            rows: table.n_rows(),
            violations: 0,
            unknown: 0,
            first_rows: Vec::new(),
        };
        for row in 0..table.n_rows() {
            match rule.eval(&table.row(row)) {
                Truth::False => {
                    v.violations += 1;
                    if v.first_rows.len() < FIRST_ROWS {
                        v.first_rows.push(row);
                    }
                }
                Truth::Unknown => v.unknown += 1,
                Truth::True => {}
            }
        }
        v
    }

    /// Violations as a fraction of the rows; `None` for an empty table.
    pub fn rate(&self) -> Option<f64> {
        (self.rows > 0).then(|| self.violations as f64 / self.rows as f64)
    }

    /// JSON: `{"rows", "violations", "unknown", "rate", "first_rows"}` (`rate` is `null` for
    /// an empty table; `first_rows` are 0-based row indices).
    pub fn to_json(&self) -> Json {
        json!({
            "rows": self.rows,
            "violations": self.violations,
            "unknown": self.unknown,
            "rate": self.rate().and_then(serde_json::Number::from_f64).map_or(Json::Null, Json::Number),
            "first_rows": self.first_rows,
        })
    }
}

/// One dictionary rule checked on both tables.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCheck {
    pub name: String,
    /// The rule as written.
    pub source: String,
    pub description: String,
    /// `None` when the rule cannot be evaluated on that table (see `problem`).
    pub real: Option<Violations>,
    pub synthetic: Option<Violations>,
    /// Why a side is missing: the rule does not compile against that table's dictionary (a
    /// column it reads was left out).
    pub problem: Option<String>,
}

impl RuleCheck {
    /// JSON: `{"name", "source", "description", "real": Violations|null, "synthetic":
    /// Violations|null, "problem"}`.
    pub fn to_json(&self) -> Json {
        json!({
            "name": self.name,
            "source": self.source,
            "description": self.description,
            "real": self.real.as_ref().map_or(Json::Null, Violations::to_json),
            "synthetic": self.synthetic.as_ref().map_or(Json::Null, Violations::to_json),
            "problem": self.problem,
        })
    }
}

/// Checks every rule of `real`'s dictionary on `real` and on `synthetic`. Each rule is
/// recompiled against each table's own dictionary, so the tables need not share a column
/// order; a rule reading a column that one table lacks is reported, not an error.
pub fn check_rules(real: &Table, synthetic: &Table) -> Vec<RuleCheck> {
    real.dictionary()
        .rules
        .iter()
        .map(|rule| {
            let mut problems = Vec::new();
            let mut side = |t: &Table, what: &str| match Rule::parse(
                &rule.name,
                &rule.source,
                &rule.description,
                t.dictionary(),
            ) {
                Ok(r) => Some(Violations::count(&r, t)),
                Err(e) => {
                    problems.push(format!("not checkable on the {what} table: {e}"));
                    None
                }
            };
            let (r, s) = (side(real, "real"), side(synthetic, "synthetic"));
            RuleCheck {
                name: rule.name.clone(),
                source: rule.source.clone(),
                description: rule.description.clone(),
                real: r,
                synthetic: s,
                problem: (!problems.is_empty()).then(|| problems.join("; ")),
            }
        })
        .collect()
}
