//! Type-checks a syntax tree against a dictionary and compiles it to the evaluable form, with
//! column names resolved to indices and categorical literals resolved to declared levels.

use super::RuleError;
use super::Truth;
use super::ast::{BinOp, Expr, ExprKind, Func};
use super::eval::{Cmp, Cond, DateOperand, Num, Number};
use crate::schema::{Dictionary, Kind};

/// Compiles a whole rule, which must be a condition.
pub(crate) fn compile(expr: &Expr, dict: &Dictionary) -> Result<Cond, RuleError> {
    let checker = Checker { dict };
    match checker.check(expr)? {
        Typed::Cond { cond, .. } => Ok(cond),
        other => Err(RuleError {
            position: start(expr),
            message: format!(
                "a rule must be a condition (true or false), but `{expr}` is {}",
                other.describe()
            ),
        }),
    }
}

/// The static type of a sub-expression together with its compiled form.
enum Typed<'d> {
    /// A condition; `column` is set for a bare boolean column, which also counts as 0/1.
    Cond {
        cond: Cond,
        column: Option<(usize, &'d str)>,
    },
    Num(Num),
    Date(DateOperand),
    Category {
        column: usize,
        name: &'d str,
        levels: &'d [String],
    },
    /// A text or identifier column.
    Text {
        column: usize,
        name: &'d str,
        kind: &'static str,
    },
    Str(String),
}

impl Typed<'_> {
    fn describe(&self) -> String {
        match self {
            Typed::Cond {
                column: Some((_, n)), ..
            } => format!("the boolean column {n:?}"),
            Typed::Cond { column: None, .. } => "a condition".into(),
            Typed::Num(_) => "a number".into(),
            Typed::Date(_) => "a date".into(),
            Typed::Category { name, .. } => format!("the categorical column {name:?}"),
            Typed::Text { name, kind, .. } => format!("the {kind} column {name:?}"),
            Typed::Str(_) => "a string".into(),
        }
    }
}

/// The position of the first character of `e` (for errors about a whole operand).
fn start(e: &Expr) -> usize {
    match &e.kind {
        ExprKind::Binary(_, lhs, _) => start(lhs),
        ExprKind::In { value, .. } => start(value),
        ExprKind::IsMissing { column, .. } => start(column),
        _ => e.pos,
    }
}

fn error(position: usize, message: impl Into<String>) -> RuleError {
    RuleError {
        position,
        message: message.into(),
    }
}

struct Checker<'d> {
    dict: &'d Dictionary,
}

impl<'d> Checker<'d> {
    fn check(&self, e: &Expr) -> Result<Typed<'d>, RuleError> {
        Ok(match &e.kind {
            ExprKind::Column(name) => self.column(name, e.pos)?,
            ExprKind::Int(i) => Typed::Num(Num::Const(Number::Int(*i))),
            ExprKind::Real(r) => Typed::Num(Num::Const(Number::Real(*r))),
            ExprKind::Str(s) => Typed::Str(s.clone()),
            ExprKind::Bool(b) => Typed::Cond {
                cond: Cond::Const(Truth::from_bool(*b)),
                column: None,
            },
            ExprKind::Date(d) => Typed::Date(DateOperand::Literal(*d)),
            ExprKind::Neg(x) => Typed::Num(match self.num(x, "'-'")? {
                Num::Const(Number::Int(i)) if i != i64::MIN => Num::Const(Number::Int(-i)),
                Num::Const(Number::Real(r)) => Num::Const(Number::Real(-r)),
                n => Num::Neg(Box::new(n)),
            }),
            ExprKind::Not(x) => Typed::Cond {
                cond: Cond::Not(Box::new(self.cond(x, "'not'")?)),
                column: None,
            },
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or | BinOp::Implies), lhs, rhs) => {
                let what = format!("'{}'", op.symbol());
                let (a, b) = (Box::new(self.cond(lhs, &what)?), Box::new(self.cond(rhs, &what)?));
                let cond = match op {
                    BinOp::And => Cond::And(a, b),
                    BinOp::Or => Cond::Or(a, b),
                    _ => Cond::Implies(a, b),
                };
                Typed::Cond { cond, column: None }
            }
            ExprKind::Binary(op, lhs, rhs) if op.is_comparison() => Typed::Cond {
                cond: self.compare(*op, e.pos, lhs, rhs)?,
                column: None,
            },
            ExprKind::Binary(op, lhs, rhs) => self.arithmetic(*op, e.pos, lhs, rhs)?,
            ExprKind::In { value, list, negated } => Typed::Cond {
                cond: self.membership(e.pos, value, list, *negated)?,
                column: None,
            },
            ExprKind::IsMissing { column, negated } => {
                let ExprKind::Column(name) = &column.kind else {
                    return Err(error(
                        start(column),
                        format!("'is missing' applies to a column, not to the expression `{column}`"),
                    ));
                };
                Typed::Cond {
                    cond: Cond::IsMissing {
                        column: self.index(name, column.pos)?,
                        negated: *negated,
                    },
                    column: None,
                }
            }
            ExprKind::Call(func, args) => {
                let what = format!("{}()", func.name());
                let mut nums = args.iter().map(|a| self.num(a, &what)).collect::<Result<Vec<_>, _>>()?;
                Typed::Num(match func {
                    Func::Abs => match nums.pop() {
                        Some(n) if nums.is_empty() => Num::Abs(Box::new(n)),
                        _ => return Err(error(e.pos, "abs() takes one argument")),
                    },
                    Func::Min => Num::Min(nums.into()),
                    Func::Max => Num::Max(nums.into()),
                })
            }
        })
    }

    /// Resolves a column name to its index, suggesting a near name when there is none.
    fn index(&self, name: &str, pos: usize) -> Result<usize, RuleError> {
        if let Some(i) = self.dict.index_of(name) {
            return Ok(i);
        }
        let hint = match self.suggest(name) {
            Some(s) if s.eq_ignore_ascii_case(name) => {
                format!(" (did you mean {s:?}? column names are case-sensitive)")
            }
            Some(s) => format!(" (did you mean {s:?}?)"),
            None => String::new(),
        };
        Err(error(pos, format!("unknown column {name:?}{hint}")))
    }

    /// The dictionary column closest to `name` in edit distance, ignoring letter case, if close.
    fn suggest(&self, name: &str) -> Option<&'d str> {
        let lower = name.to_lowercase();
        let (best, distance) = self
            .dict
            .columns
            .iter()
            .map(|c| (c.name.as_str(), edit_distance(&lower, &c.name.to_lowercase())))
            .min_by_key(|(_, d)| *d)?;
        (distance <= (name.chars().count() / 3).max(1)).then_some(best)
    }

    fn column(&self, name: &str, pos: usize) -> Result<Typed<'d>, RuleError> {
        let i = self.index(name, pos)?;
        let col = &self.dict.columns[i];
        let name = col.name.as_str();
        Ok(match &col.kind {
            Kind::Categorical { levels, .. } => Typed::Category {
                column: i,
                name,
                levels,
            },
            Kind::Integer { .. } | Kind::Real { .. } => Typed::Num(Num::Column(i)),
            Kind::Date { .. } => Typed::Date(DateOperand::Column(i)),
            Kind::Boolean { .. } => Typed::Cond {
                cond: Cond::BoolColumn(i),
                column: Some((i, name)),
            },
            Kind::Identifier => Typed::Text {
                column: i,
                name,
                kind: "identifier",
            },
            Kind::Text => Typed::Text {
                column: i,
                name,
                kind: "text",
            },
        })
    }

    /// Checks that `e` is a condition; `what` names the operator that needs it.
    fn cond(&self, e: &Expr, what: &str) -> Result<Cond, RuleError> {
        match self.check(e)? {
            Typed::Cond { cond, .. } => Ok(cond),
            other => Err(error(
                start(e),
                format!(
                    "{what} needs a condition (true or false), but `{e}` is {}",
                    other.describe()
                ),
            )),
        }
    }

    /// Checks that `e` is a number (a boolean column counts as 0/1).
    fn num(&self, e: &Expr, what: &str) -> Result<Num, RuleError> {
        match self.check(e)? {
            Typed::Num(n) => Ok(n),
            Typed::Cond {
                column: Some((i, _)), ..
            } => Ok(Num::Column(i)),
            other => Err(error(
                start(e),
                format!("{what} needs a number, but `{e}` is {}", other.describe()),
            )),
        }
    }

    fn arithmetic(&self, op: BinOp, pos: usize, lhs: &Expr, rhs: &Expr) -> Result<Typed<'d>, RuleError> {
        let (a, b) = (self.check(lhs)?, self.check(rhs)?);
        let numeric = |t: Typed<'d>| match t {
            Typed::Num(n) => Ok(n),
            Typed::Cond {
                column: Some((i, _)), ..
            } => Ok(Num::Column(i)),
            other => Err(other),
        };
        if let (Typed::Date(x), Typed::Date(y)) = (&a, &b)
            && op == BinOp::Sub
        {
            return Ok(Typed::Num(Num::DaysBetween(*x, *y)));
        }
        let dates = matches!(a, Typed::Date(_)) || matches!(b, Typed::Date(_));
        let (da, db) = (a.describe(), b.describe());
        let mismatch = || {
            let needs = if op == BinOp::Sub {
                "two numbers or two dates"
            } else {
                "numbers"
            };
            let hint = if dates {
                " (the only arithmetic on dates is date - date, which gives days)"
            } else {
                ""
            };
            error(
                pos,
                format!("'{}' needs {needs}, found {da} and {db}{hint}", op.symbol()),
            )
        };
        let (Ok(x), Ok(y)) = (numeric(a), numeric(b)) else {
            return Err(mismatch());
        };
        let (x, y) = (Box::new(x), Box::new(y));
        Ok(Typed::Num(match op {
            BinOp::Add => Num::Add(x, y),
            BinOp::Sub => Num::Sub(x, y),
            BinOp::Mul => Num::Mul(x, y),
            _ => Num::Div(x, y),
        }))
    }

    fn compare(&self, op: BinOp, pos: usize, lhs: &Expr, rhs: &Expr) -> Result<Cond, RuleError> {
        let cmp = match op {
            BinOp::Eq => Cmp::Eq,
            BinOp::Ne => Cmp::Ne,
            BinOp::Lt => Cmp::Lt,
            BinOp::Le => Cmp::Le,
            BinOp::Gt => Cmp::Gt,
            _ => Cmp::Ge,
        };
        let equality = matches!(cmp, Cmp::Eq | Cmp::Ne);
        let negated = cmp == Cmp::Ne;
        let (a, b) = (self.check(lhs)?, self.check(rhs)?);
        let symbol = op.symbol();
        // Put a literal operand on the right, so `'x' == COL` is handled like `COL == 'x'`.
        let literal_left = matches!(a, Typed::Str(_))
            || matches!(
                (&a, &b),
                (Typed::Num(Num::Const(_)), Typed::Cond { column: Some(_), .. })
            );
        let ((a, _), (b, b_expr)) = if literal_left {
            ((b, rhs), (a, lhs))
        } else {
            ((a, lhs), (b, rhs))
        };
        let unordered = |what: String| {
            error(
                pos,
                format!("'{symbol}' needs numbers or dates, but {what} has no order (use ==, != or in)"),
            )
        };
        Ok(match (a, b) {
            (Typed::Num(x), Typed::Num(y)) => Cond::CompareNum {
                op: cmp,
                lhs: x,
                rhs: y,
            },
            (Typed::Date(x), Typed::Date(y)) => Cond::CompareDate {
                op: cmp,
                lhs: x,
                rhs: y,
            },
            (Typed::Cond { cond: x, column: cx }, Typed::Cond { cond: y, column: cy }) => {
                if !equality {
                    let what = cx.or(cy).map_or_else(
                        || "a condition".to_string(),
                        |(_, n)| format!("the boolean column {n:?}"),
                    );
                    return Err(unordered(what));
                }
                Cond::Same {
                    lhs: Box::new(x),
                    rhs: Box::new(y),
                    negated,
                }
            }
            (
                Typed::Cond {
                    column: Some((i, name)),
                    ..
                },
                Typed::Num(y),
            ) => {
                let value = match y {
                    Num::Const(Number::Int(0)) => Truth::False,
                    Num::Const(Number::Int(1)) => Truth::True,
                    _ => {
                        return Err(error(
                            start(b_expr),
                            format!(
                                "the boolean column {name:?} compares only with true, false, 0 or 1, not `{b_expr}`"
                            ),
                        ));
                    }
                };
                if !equality {
                    return Err(unordered(format!("the boolean column {name:?}")));
                }
                Cond::Same {
                    lhs: Box::new(Cond::BoolColumn(i)),
                    rhs: Box::new(Cond::Const(value)),
                    negated,
                }
            }
            (Typed::Category { column, name, levels }, Typed::Str(s)) => {
                if !equality {
                    return Err(unordered(format!("the categorical column {name:?}")));
                }
                let level = resolve_level(&s, name, levels, start(b_expr))?;
                Cond::TextIn {
                    column,
                    texts: Box::new([level.into()]),
                    negated,
                }
            }
            (Typed::Text { column, name, kind }, Typed::Str(s)) => {
                if !equality {
                    return Err(unordered(format!("the {kind} column {name:?}")));
                }
                Cond::TextIn {
                    column,
                    texts: Box::new([s.into()]),
                    negated,
                }
            }
            (x, y) => {
                let hint = match (&x, &y) {
                    (Typed::Category { .. }, _) | (_, Typed::Category { .. }) => {
                        " (a categorical column compares only with quoted level names)"
                    }
                    (Typed::Text { .. }, _) | (_, Typed::Text { .. }) => {
                        " (a text or identifier column compares only with quoted strings)"
                    }
                    _ => "",
                };
                return Err(error(
                    pos,
                    format!("cannot compare {} with {}{hint}", x.describe(), y.describe()),
                ));
            }
        })
    }

    fn membership(&self, pos: usize, value: &Expr, list: &[Expr], negated: bool) -> Result<Cond, RuleError> {
        let item_error = |item: &Expr, what: &str| error(start(item), format!("{what}, found `{item}`"));
        Ok(match self.check(value)? {
            Typed::Category { column, name, levels } => {
                let mut texts = Vec::with_capacity(list.len());
                for item in list {
                    let ExprKind::Str(s) = &item.kind else {
                        let what = format!("the list for the categorical column {name:?} must hold quoted level names");
                        return Err(item_error(item, &what));
                    };
                    texts.push(resolve_level(s, name, levels, item.pos)?.into());
                }
                Cond::TextIn {
                    column,
                    texts: texts.into(),
                    negated,
                }
            }
            Typed::Text { column, name, kind } => {
                let mut texts = Vec::with_capacity(list.len());
                for item in list {
                    let ExprKind::Str(s) = &item.kind else {
                        let what = format!("the list for the {kind} column {name:?} must hold quoted strings");
                        return Err(item_error(item, &what));
                    };
                    texts.push(s.as_str().into());
                }
                Cond::TextIn {
                    column,
                    texts: texts.into(),
                    negated,
                }
            }
            Typed::Num(n) => {
                let mut set = Vec::with_capacity(list.len());
                for item in list {
                    match self.check(item)? {
                        Typed::Num(Num::Const(c)) => set.push(c),
                        _ => return Err(item_error(item, "a list of numbers must hold number literals")),
                    }
                }
                Cond::NumIn {
                    value: n,
                    set: set.into(),
                    negated,
                }
            }
            Typed::Date(d) => {
                let mut set = Vec::with_capacity(list.len());
                for item in list {
                    let ExprKind::Date(lit) = &item.kind else {
                        return Err(item_error(
                            item,
                            "a list of dates must hold date literals, date(\"YYYY-MM-DD\")",
                        ));
                    };
                    set.push(*lit);
                }
                Cond::DateIn {
                    value: d,
                    set: set.into(),
                    negated,
                }
            }
            other => {
                return Err(error(
                    pos,
                    format!(
                        "'in' applies to categorical, text, identifier, number and date values, not to {}",
                        other.describe()
                    ),
                ));
            }
        })
    }
}

/// Checks that `literal` is a declared level of the categorical column `name`, returning the
/// level as declared.
fn resolve_level<'d>(literal: &str, name: &str, levels: &'d [String], pos: usize) -> Result<&'d str, RuleError> {
    if let Some(level) = levels.iter().find(|l| *l == literal) {
        return Ok(level);
    }
    const SHOWN: usize = 20;
    let mut list = levels
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if levels.len() > SHOWN {
        list.push_str(&format!(", … ({} levels in all)", levels.len()));
    }
    Err(error(
        pos,
        format!("'{literal}' is not a level of {name:?} (levels: {list})"),
    ))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
