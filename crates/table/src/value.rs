//! One typed cell value.

use crate::date::Date;
use std::fmt;

/// One cell of a table, typed by its dictionary column.
///
/// Categorical cells hold their level label as [`Value::Text`]; identifiers and free text too.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The cell is missing (one of the column's missing tokens).
    Missing,
    Bool(bool),
    Int(i64),
    Real(f64),
    Date(Date),
    Text(String),
}

impl Value {
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }

    /// The value as a number: integers, reals and booleans (`true` = 1); `None` otherwise.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Int(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Missing => f.write_str("<missing>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Text(s) => write!(f, "{s:?}"),
        }
    }
}
