//! Property test: a random well-typed syntax tree, printed, parses back to the same tree, and
//! the compiled rule agrees on random rows with a naive reference interpreter of the tree
//! written independently of the compiler.

use super::ast::{BinOp, Expr, ExprKind, Func};
use super::tests::{dict, sexpr};
use super::{Rule, Truth, parser};
use crate::date::Date;
use crate::schema::{Dictionary, Kind};
use crate::value::Value;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn node(kind: ExprKind) -> Expr {
    Expr::new(0, kind)
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    node(ExprKind::Binary(op, Box::new(a), Box::new(b)))
}

/// Generates well-typed trees over the test dictionary.
struct Generator<'d> {
    rng: ChaCha8Rng,
    dict: &'d Dictionary,
}

const BIG: i64 = 4_611_686_018_427_387_904;
/// 2^53: integers just above it are not exactly representable as f64.
const EXACT: i64 = 9_007_199_254_740_992;
const DATES: [(i32, u32, u32); 3] = [(1950, 6, 1), (2020, 1, 31), (2020, 3, 1)];

impl Generator<'_> {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn columns_of(&self, want: fn(&Kind) -> bool) -> Vec<String> {
        self.dict
            .columns
            .iter()
            .filter(|c| want(&c.kind))
            .map(|c| c.name.clone())
            .collect()
    }

    fn column(&mut self, want: fn(&Kind) -> bool) -> Expr {
        let names = self.columns_of(want);
        node(ExprKind::Column(self.pick(&names).clone()))
    }

    fn date_literal(&mut self) -> Expr {
        let (y, m, d) = *self.pick(&DATES);
        node(ExprKind::Date(Date::from_ymd(y, m, d).unwrap_or(Date::from_days(0))))
    }

    fn date(&mut self) -> Expr {
        if self.rng.random_bool(0.7) {
            self.column(|k| matches!(k, Kind::Date { .. }))
        } else {
            self.date_literal()
        }
    }

    fn number_literal(&mut self) -> Expr {
        match self.rng.random_range(0..4) {
            0 => node(ExprKind::Int(self.rng.random_range(0..4))),
            1 => node(ExprKind::Int(*self.pick(&[BIG, EXACT]))),
            2 => node(ExprKind::Real(*self.pick(&[0.5, 2.25, 100.0, 0.1]))),
            _ => node(ExprKind::Neg(Box::new(node(ExprKind::Int(
                self.rng.random_range(0..3),
            ))))),
        }
    }

    fn num(&mut self, depth: u32) -> Expr {
        let choice = if depth == 0 {
            self.rng.random_range(0..3)
        } else {
            self.rng.random_range(0..10)
        };
        match choice {
            0 => self.column(Kind::is_numeric),
            1 => self.number_literal(),
            2 => self.column(|k| matches!(k, Kind::Boolean { .. })),
            3 => node(ExprKind::Neg(Box::new(self.num(depth - 1)))),
            4 => {
                let op = *self.pick(&[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]);
                bin(op, self.num(depth - 1), self.num(depth - 1))
            }
            5 => node(ExprKind::Call(Func::Abs, vec![self.num(depth - 1)])),
            6 => {
                let f = *self.pick(&[Func::Min, Func::Max]);
                let n = self.rng.random_range(2..4);
                node(ExprKind::Call(f, (0..n).map(|_| self.num(depth - 1)).collect()))
            }
            7 => bin(BinOp::Sub, self.date(), self.date()),
            _ => self.column(Kind::is_numeric),
        }
    }

    /// A number that is not a bare boolean column (those compare only with true, false, 0, 1).
    fn operand(&mut self, depth: u32) -> Expr {
        loop {
            let e = self.num(depth);
            let boolean = matches!(&e.kind, ExprKind::Column(n)
                if matches!(self.dict.column(n).map(|c| &c.kind), Some(Kind::Boolean { .. })));
            if !boolean {
                return e;
            }
        }
    }

    fn cond(&mut self, depth: u32) -> Expr {
        let compare = [BinOp::Eq, BinOp::Ne, BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge];
        let choice = if depth == 0 {
            self.rng.random_range(0..9)
        } else {
            self.rng.random_range(0..14)
        };
        match choice {
            0 => self.column(|k| matches!(k, Kind::Boolean { .. })),
            1 => node(ExprKind::Bool(self.rng.random_bool(0.5))),
            2 => {
                let op = *self.pick(&compare);
                let d = depth.min(2);
                bin(op, self.operand(d), self.operand(d))
            }
            3 => {
                let op = *self.pick(&compare);
                bin(op, self.date(), self.date())
            }
            4 => {
                let (column, levels) = self.categorical();
                let level = node(ExprKind::Str(self.pick(&levels).clone()));
                let op = *self.pick(&[BinOp::Eq, BinOp::Ne]);
                if self.rng.random_bool(0.8) {
                    bin(op, column, level)
                } else {
                    bin(op, level, column)
                }
            }
            5 => {
                let (column, levels) = self.categorical();
                let n = self.rng.random_range(1..4);
                let list = (0..n)
                    .map(|_| node(ExprKind::Str(self.pick(&levels).clone())))
                    .collect();
                node(ExprKind::In {
                    value: Box::new(column),
                    list,
                    negated: self.rng.random_bool(0.5),
                })
            }
            6 => {
                let column = self.column(|_| true);
                node(ExprKind::IsMissing {
                    column: Box::new(column),
                    negated: self.rng.random_bool(0.5),
                })
            }
            7 => {
                let column = self.column(|k| matches!(k, Kind::Identifier | Kind::Text));
                let s = node(ExprKind::Str(self.pick(&["P-1", "it's", "a\\b", "x\"y"]).to_string()));
                bin(*self.pick(&[BinOp::Eq, BinOp::Ne]), column, s)
            }
            8 => {
                let column = self.column(|k| matches!(k, Kind::Boolean { .. }));
                let value = if self.rng.random_bool(0.5) {
                    node(ExprKind::Int(self.rng.random_range(0..2)))
                } else {
                    node(ExprKind::Bool(self.rng.random_bool(0.5)))
                };
                bin(*self.pick(&[BinOp::Eq, BinOp::Ne]), column, value)
            }
            9 => node(ExprKind::Not(Box::new(self.cond(depth - 1)))),
            10 | 11 => {
                let op = *self.pick(&[BinOp::And, BinOp::Or, BinOp::Implies]);
                bin(op, self.cond(depth - 1), self.cond(depth - 1))
            }
            12 => bin(
                *self.pick(&[BinOp::Eq, BinOp::Ne]),
                self.cond(depth - 1),
                self.cond(depth - 1),
            ),
            _ => {
                let value = if self.rng.random_bool(0.7) {
                    self.operand(1)
                } else {
                    self.date()
                };
                let is_date = matches!(&value.kind, ExprKind::Date(_))
                    || matches!(&value.kind, ExprKind::Column(n) if matches!(self.dict.column(n).map(|c| &c.kind), Some(Kind::Date { .. })));
                let n = self.rng.random_range(1..4);
                let list = (0..n)
                    .map(|_| {
                        if is_date {
                            self.date_literal()
                        } else {
                            self.number_literal()
                        }
                    })
                    .collect();
                node(ExprKind::In {
                    value: Box::new(value),
                    list,
                    negated: self.rng.random_bool(0.5),
                })
            }
        }
    }

    fn categorical(&mut self) -> (Expr, Vec<String>) {
        let names = self.columns_of(|k| matches!(k, Kind::Categorical { .. }));
        let name = self.pick(&names).clone();
        let levels = match self.dict.column(&name).map(|c| &c.kind) {
            Some(Kind::Categorical { levels, .. }) => levels.clone(),
            _ => Vec::new(),
        };
        (node(ExprKind::Column(name)), levels)
    }

    fn row(&mut self) -> Vec<Value> {
        let kinds: Vec<Kind> = self.dict.columns.iter().map(|c| c.kind.clone()).collect();
        kinds
            .iter()
            .map(|kind| {
                if self.rng.random_bool(0.15) {
                    return Value::Missing;
                }
                match kind {
                    Kind::Categorical { levels, .. } => Value::Text(self.pick(levels).clone()),
                    Kind::Integer { .. } => Value::Int(*self.pick(&[-2, 0, 1, 2, 3, BIG, -BIG, EXACT + 1])),
                    Kind::Real { .. } => Value::Real(*self.pick(&[0.0, 0.5, -1.5, 2.25, 100.0, 3.0])),
                    Kind::Date { .. } => {
                        let (y, m, d) = *self.pick(&DATES);
                        Date::from_ymd(y, m, d).map_or(Value::Missing, Value::Date)
                    }
                    Kind::Boolean { .. } => Value::Bool(self.rng.random_bool(0.5)),
                    Kind::Identifier | Kind::Text => Value::Text(self.pick(&["P-1", "it's", "zzz"]).to_string()),
                }
            })
            .collect()
    }
}

/// A dynamically typed value of the reference interpreter; `Unknown` is missing or undefined.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Unknown,
    B(bool),
    I(i64),
    R(f64),
    D(Date),
    S(String),
}

fn num(v: &V) -> Option<f64> {
    match v {
        V::I(i) => Some(*i as f64),
        V::R(r) => Some(*r),
        V::B(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn int(v: &V) -> Option<i64> {
    match v {
        V::I(i) => Some(*i),
        V::B(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn real(x: f64) -> V {
    if x.is_finite() { V::R(x) } else { V::Unknown }
}

/// Orders two known values of comparable types.
fn order(a: &V, b: &V) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (V::D(x), V::D(y)) => Some(x.cmp(y)),
        (V::S(x), V::S(y)) => Some(x.cmp(y)),
        _ => match (int(a), int(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => num(a)?.partial_cmp(&num(b)?),
        },
    }
}

fn reference(e: &Expr, dict: &Dictionary, row: &[Value]) -> V {
    let go = |x: &Expr| reference(x, dict, row);
    let truth = |x: &Expr| match go(x) {
        V::B(b) => Some(b),
        _ => None,
    };
    let opt = |b: Option<bool>| b.map_or(V::Unknown, V::B);
    match &e.kind {
        ExprKind::Column(name) => match dict.index_of(name).map(|i| &row[i]) {
            Some(Value::Bool(b)) => V::B(*b),
            Some(Value::Int(i)) => V::I(*i),
            Some(Value::Real(r)) => V::R(*r),
            Some(Value::Date(d)) => V::D(*d),
            Some(Value::Text(s)) => V::S(s.clone()),
            _ => V::Unknown,
        },
        ExprKind::Int(i) => V::I(*i),
        ExprKind::Real(r) => V::R(*r),
        ExprKind::Str(s) => V::S(s.clone()),
        ExprKind::Bool(b) => V::B(*b),
        ExprKind::Date(d) => V::D(*d),
        ExprKind::Neg(x) => match go(x) {
            v @ (V::I(_) | V::B(_)) => int(&v).and_then(i64::checked_neg).map_or(V::Unknown, V::I),
            V::R(r) => V::R(-r),
            _ => V::Unknown,
        },
        ExprKind::Not(x) => opt(truth(x).map(|b| !b)),
        ExprKind::Binary(BinOp::And, a, b) => match (truth(a), truth(b)) {
            (Some(false), _) | (_, Some(false)) => V::B(false),
            (Some(true), Some(true)) => V::B(true),
            _ => V::Unknown,
        },
        ExprKind::Binary(BinOp::Or, a, b) => match (truth(a), truth(b)) {
            (Some(true), _) | (_, Some(true)) => V::B(true),
            (Some(false), Some(false)) => V::B(false),
            _ => V::Unknown,
        },
        ExprKind::Binary(BinOp::Implies, a, b) => match (truth(a), truth(b)) {
            (Some(false), _) | (_, Some(true)) => V::B(true),
            (Some(true), Some(false)) => V::B(false),
            _ => V::Unknown,
        },
        ExprKind::Binary(op, a, b) if op.is_comparison() => {
            let (x, y) = (go(a), go(b));
            if x == V::Unknown || y == V::Unknown {
                return V::Unknown;
            }
            let o = order(&x, &y);
            opt(o.map(|o| match op {
                BinOp::Eq => o.is_eq(),
                BinOp::Ne => o.is_ne(),
                BinOp::Lt => o.is_lt(),
                BinOp::Le => o.is_le(),
                BinOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            }))
        }
        ExprKind::Binary(op, a, b) => match (go(a), go(b)) {
            (V::D(x), V::D(y)) => V::I(i64::from(x.days()) - i64::from(y.days())),
            (x, y) if *op == BinOp::Div => match (num(&x), num(&y)) {
                (Some(_), Some(0.0)) => V::Unknown,
                (Some(n), Some(d)) => real(n / d),
                _ => V::Unknown,
            },
            (x, y) => match (int(&x), int(&y)) {
                (Some(i), Some(j)) => {
                    let r = match op {
                        BinOp::Add => i.checked_add(j),
                        BinOp::Sub => i.checked_sub(j),
                        _ => i.checked_mul(j),
                    };
                    r.map_or(V::Unknown, V::I)
                }
                _ => match (num(&x), num(&y)) {
                    (Some(i), Some(j)) => real(match op {
                        BinOp::Add => i + j,
                        BinOp::Sub => i - j,
                        _ => i * j,
                    }),
                    _ => V::Unknown,
                },
            },
        },
        ExprKind::In { value, list, negated } => {
            let x = go(value);
            if x == V::Unknown {
                return V::Unknown;
            }
            let found = list.iter().any(|item| order(&x, &go(item)).is_some_and(|o| o.is_eq()));
            V::B(found != *negated)
        }
        ExprKind::IsMissing { column, negated } => V::B((go(column) == V::Unknown) != *negated),
        ExprKind::Call(Func::Abs, args) => match go(&args[0]) {
            v @ (V::I(_) | V::B(_)) => int(&v).and_then(i64::checked_abs).map_or(V::Unknown, V::I),
            V::R(r) => V::R(r.abs()),
            _ => V::Unknown,
        },
        ExprKind::Call(f, args) => {
            let want = if *f == Func::Min {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            };
            let mut best: Option<V> = None;
            for a in args {
                let v = match go(a) {
                    V::B(b) => V::I(i64::from(b)),
                    V::Unknown => return V::Unknown,
                    v => v,
                };
                if best.as_ref().is_none_or(|b| order(&v, b) == Some(want)) {
                    best = Some(v);
                }
            }
            best.unwrap_or(V::Unknown)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn printed_trees_parse_back_and_evaluate_like_the_reference(seed in any::<u64>()) {
        let dict = dict();
        let mut g = Generator { rng: ChaCha8Rng::seed_from_u64(seed), dict: &dict };
        let tree = g.cond(4);
        let text = tree.to_string();
        let parsed = parser::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(sexpr(&parsed), sexpr(&tree), "{}", text);
        let rule = Rule::parse("p", &text, "", &dict).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(rule.canonical(), text.clone());
        for _ in 0..20 {
            let row = g.row();
            let expected = match reference(&tree, &dict, &row) {
                V::B(b) => Truth::from_bool(b),
                V::Unknown => Truth::Unknown,
                other => return Err(TestCaseError::fail(format!("{text} gave a non-truth {other:?}"))),
            };
            prop_assert_eq!(rule.eval(&row), expected, "{} on {:?}", text, row);
        }
    }
}
