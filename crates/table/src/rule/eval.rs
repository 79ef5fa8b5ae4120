//! The compiled form of a rule, with column indices and categorical levels resolved, and its
//! three-valued evaluation. Evaluating allocates nothing and looks up no names.

use super::Truth;
use crate::date::Date;
use crate::value::Value;
use std::cmp::Ordering;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Ne => o != Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        }
    }
}

/// A condition: evaluates to a [`Truth`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Const(Truth),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Implies(Box<Cond>, Box<Cond>),
    /// A boolean column used as a condition.
    BoolColumn(usize),
    IsMissing {
        column: usize,
        negated: bool,
    },
    /// `a == b` (or `!=` when negated) between two conditions.
    Same {
        lhs: Box<Cond>,
        rhs: Box<Cond>,
        negated: bool,
    },
    CompareNum {
        op: Cmp,
        lhs: Num,
        rhs: Num,
    },
    CompareDate {
        op: Cmp,
        lhs: DateOperand,
        rhs: DateOperand,
    },
    /// A categorical, text or identifier column equal to one of `texts` (`==` is a list of one).
    TextIn {
        column: usize,
        texts: Box<[Box<str>]>,
        negated: bool,
    },
    NumIn {
        value: Num,
        set: Box<[Number]>,
        negated: bool,
    },
    DateIn {
        value: DateOperand,
        set: Box<[Date]>,
        negated: bool,
    },
}

/// A numeric expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Num {
    /// An integer, real or boolean (0/1) column.
    Column(usize),
    Const(Number),
    Neg(Box<Num>),
    Add(Box<Num>, Box<Num>),
    Sub(Box<Num>, Box<Num>),
    Mul(Box<Num>, Box<Num>),
    Div(Box<Num>, Box<Num>),
    Abs(Box<Num>),
    Min(Box<[Num]>),
    Max(Box<[Num]>),
    /// `later - earlier` in days.
    DaysBetween(DateOperand, DateOperand),
}

/// A date operand: a date column or a date literal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DateOperand {
    Column(usize),
    Literal(Date),
}

/// A number computed from a row: exact integers while every operand is an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Real(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Real(r) => r,
        }
    }

    /// Orders two numbers exactly when both are integers, else as reals (`None` for NaN).
    fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn real(x: f64) -> Option<Number> {
        x.is_finite().then_some(Number::Real(x))
    }

    /// Applies checked integer arithmetic, or real arithmetic when either side is real;
    /// `None` on overflow or a non-finite result.
    fn arith(self, other: Number, int: fn(i64, i64) -> Option<i64>, real: fn(f64, f64) -> f64) -> Option<Number> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => int(a, b).map(Number::Int),
            (a, b) => Number::real(real(a.as_f64(), b.as_f64())),
        }
    }
}

fn known(b: Option<bool>) -> Truth {
    b.map_or(Truth::Unknown, Truth::from_bool)
}

fn cell(row: &[Value], column: usize) -> &Value {
    row.get(column).unwrap_or(&Value::Missing)
}

impl Cond {
    pub(crate) fn eval(&self, row: &[Value]) -> Truth {
        match self {
            Cond::Const(t) => *t,
            Cond::Not(c) => !c.eval(row),
            Cond::And(a, b) => match a.eval(row) {
                Truth::False => Truth::False,
                Truth::True => b.eval(row),
                Truth::Unknown => match b.eval(row) {
                    Truth::False => Truth::False,
                    _ => Truth::Unknown,
                },
            },
            Cond::Or(a, b) => match a.eval(row) {
                Truth::True => Truth::True,
                Truth::False => b.eval(row),
                Truth::Unknown => match b.eval(row) {
                    Truth::True => Truth::True,
                    _ => Truth::Unknown,
                },
            },
            Cond::Implies(a, b) => match a.eval(row) {
                Truth::False => Truth::True,
                Truth::True => b.eval(row),
                Truth::Unknown => match b.eval(row) {
                    Truth::True => Truth::True,
                    _ => Truth::Unknown,
                },
            },
            Cond::BoolColumn(c) => match cell(row, *c) {
                Value::Bool(b) => Truth::from_bool(*b),
                _ => Truth::Unknown,
            },
            Cond::IsMissing { column, negated } => Truth::from_bool(cell(row, *column).is_missing() != *negated),
            Cond::Same { lhs, rhs, negated } => match (lhs.eval(row), rhs.eval(row)) {
                (Truth::Unknown, _) | (_, Truth::Unknown) => Truth::Unknown,
                (a, b) => Truth::from_bool((a == b) != *negated),
            },
            Cond::CompareNum { op, lhs, rhs } => match (lhs.eval(row), rhs.eval(row)) {
                (Some(a), Some(b)) => known(a.compare(b).map(|o| op.holds(o))),
                _ => Truth::Unknown,
            },
            Cond::CompareDate { op, lhs, rhs } => match (lhs.eval(row), rhs.eval(row)) {
                (Some(a), Some(b)) => Truth::from_bool(op.holds(a.cmp(&b))),
                _ => Truth::Unknown,
            },
            Cond::TextIn { column, texts, negated } => match cell(row, *column) {
                Value::Text(s) => Truth::from_bool(texts.iter().any(|t| **t == **s) != *negated),
                _ => Truth::Unknown,
            },
            Cond::NumIn { value, set, negated } => match value.eval(row) {
                Some(x) => {
                    let found = set.iter().any(|y| x.compare(*y) == Some(Ordering::Equal));
                    Truth::from_bool(found != *negated)
                }
                None => Truth::Unknown,
            },
            Cond::DateIn { value, set, negated } => match value.eval(row) {
                Some(d) => Truth::from_bool(set.contains(&d) != *negated),
                None => Truth::Unknown,
            },
        }
    }

    /// Adds every column index the condition reads to `out`.
    pub(crate) fn collect_columns(&self, out: &mut Vec<usize>) {
        match self {
            Cond::Const(_) => {}
            Cond::Not(c) => c.collect_columns(out),
            Cond::And(a, b) | Cond::Or(a, b) | Cond::Implies(a, b) => {
                a.collect_columns(out);
                b.collect_columns(out);
            }
            Cond::Same { lhs, rhs, .. } => {
                lhs.collect_columns(out);
                rhs.collect_columns(out);
            }
            Cond::BoolColumn(c) | Cond::IsMissing { column: c, .. } | Cond::TextIn { column: c, .. } => out.push(*c),
            Cond::CompareNum { lhs, rhs, .. } => {
                lhs.collect_columns(out);
                rhs.collect_columns(out);
            }
            Cond::CompareDate { lhs, rhs, .. } => {
                lhs.collect_columns(out);
                rhs.collect_columns(out);
            }
            Cond::NumIn { value, .. } => value.collect_columns(out),
            Cond::DateIn { value, .. } => value.collect_columns(out),
        }
    }
}

impl DateOperand {
    fn eval(self, row: &[Value]) -> Option<Date> {
        match self {
            DateOperand::Literal(d) => Some(d),
            DateOperand::Column(c) => match cell(row, c) {
                Value::Date(d) => Some(*d),
                _ => None,
            },
        }
    }

    fn collect_columns(self, out: &mut Vec<usize>) {
        if let DateOperand::Column(c) = self {
            out.push(c);
        }
    }
}

impl Num {
    /// The value, or `None` when it is unknown (a missing operand, division by zero, overflow).
    pub(crate) fn eval(&self, row: &[Value]) -> Option<Number> {
        match self {
            Num::Column(c) => match cell(row, *c) {
                Value::Int(i) => Some(Number::Int(*i)),
                Value::Real(r) => Some(Number::Real(*r)),
                Value::Bool(b) => Some(Number::Int(i64::from(*b))),
                _ => None,
            },
            Num::Const(n) => Some(*n),
            Num::Neg(e) => match e.eval(row)? {
                Number::Int(i) => i.checked_neg().map(Number::Int),
                Number::Real(r) => Some(Number::Real(-r)),
            },
            Num::Add(a, b) => a.eval(row)?.arith(b.eval(row)?, i64::checked_add, |x, y| x + y),
            Num::Sub(a, b) => a.eval(row)?.arith(b.eval(row)?, i64::checked_sub, |x, y| x - y),
            Num::Mul(a, b) => a.eval(row)?.arith(b.eval(row)?, i64::checked_mul, |x, y| x * y),
            Num::Div(a, b) => {
                let (x, y) = (a.eval(row)?.as_f64(), b.eval(row)?.as_f64());
                if y == 0.0 { None } else { Number::real(x / y) }
            }
            Num::Abs(e) => match e.eval(row)? {
                Number::Int(i) => i.checked_abs().map(Number::Int),
                Number::Real(r) => Some(Number::Real(r.abs())),
            },
            Num::Min(args) => extreme(args, row, Ordering::Less),
            Num::Max(args) => extreme(args, row, Ordering::Greater),
            Num::DaysBetween(later, earlier) => {
                let (a, b) = (later.eval(row)?, earlier.eval(row)?);
                Some(Number::Int(i64::from(a.days()) - i64::from(b.days())))
            }
        }
    }

    fn collect_columns(&self, out: &mut Vec<usize>) {
        match self {
            Num::Column(c) => out.push(*c),
            Num::Const(_) => {}
            Num::Neg(e) | Num::Abs(e) => e.collect_columns(out),
            Num::Add(a, b) | Num::Sub(a, b) | Num::Mul(a, b) | Num::Div(a, b) => {
                a.collect_columns(out);
                b.collect_columns(out);
            }
            Num::Min(args) | Num::Max(args) => args.iter().for_each(|a| a.collect_columns(out)),
            Num::DaysBetween(a, b) => {
                a.collect_columns(out);
                b.collect_columns(out);
            }
        }
    }
}

/// The smallest (`want` = Less) or largest argument; unknown if any argument is.
fn extreme(args: &[Num], row: &[Value], want: Ordering) -> Option<Number> {
    let mut best: Option<Number> = None;
    for a in args {
        let x = a.eval(row)?;
        best = match best {
            Some(b) if x.compare(b)? != want => Some(b),
            _ => Some(x),
        };
    }
    best
}
