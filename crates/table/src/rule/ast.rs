//! The syntax tree of a rule as written (names not yet resolved), and its printer.
//!
//! The printer writes the fewest parentheses that keep the tree's meaning, so printing and
//! parsing again gives the same tree.

use super::lexer::Keyword;
use crate::date::Date;
use std::fmt;

/// A node of the syntax tree with the 1-based character position of its token (the operator
/// for operations, the first character for names and literals).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub pos: usize,
    pub kind: ExprKind,
}

/// What a syntax node is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Column(String),
    Int(i64),
    Real(f64),
    Str(String),
    Bool(bool),
    Date(Date),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    IsMissing {
        column: Box<Expr>,
        negated: bool,
    },
    Call(Func, Vec<Expr>),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Implies,
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Abs,
    Min,
    Max,
}

impl Func {
    pub(crate) fn from_name(name: &str) -> Option<Func> {
        [("abs", Func::Abs), ("min", Func::Min), ("max", Func::Max)]
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| f)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::Abs => "abs",
            Func::Min => "min",
            Func::Max => "max",
        }
    }
}

/// Binding strength, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Implies,
    Or,
    And,
    Not,
    Compare,
    Sum,
    Product,
    Neg,
    Atom,
}

impl BinOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Implies => "=>",
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    pub(crate) fn level(self) -> Level {
        match self {
            BinOp::Implies => Level::Implies,
            BinOp::Or => Level::Or,
            BinOp::And => Level::And,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Level::Compare,
            BinOp::Add | BinOp::Sub => Level::Sum,
            BinOp::Mul | BinOp::Div => Level::Product,
        }
    }

    pub(crate) fn is_comparison(self) -> bool {
        self.level() == Level::Compare
    }
}

impl Expr {
    pub(crate) fn new(pos: usize, kind: ExprKind) -> Expr {
        Expr { pos, kind }
    }

    /// The node's direct sub-expressions.
    pub(crate) fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Neg(e) | ExprKind::Not(e) => vec![e],
            ExprKind::Binary(_, a, b) => vec![a, b],
            ExprKind::In { value, list, .. } => std::iter::once(&**value).chain(list).collect(),
            ExprKind::IsMissing { column, .. } => vec![column],
            ExprKind::Call(_, args) => args.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// How strongly the node binds, for deciding parentheses.
    pub(crate) fn level(&self) -> Level {
        match &self.kind {
            ExprKind::Binary(op, ..) => op.level(),
            ExprKind::Not(_) => Level::Not,
            ExprKind::In { .. } | ExprKind::IsMissing { .. } => Level::Compare,
            ExprKind::Neg(_) => Level::Neg,
            _ => Level::Atom,
        }
    }
}

/// Writes `name` bare when the lexer would read it back as a bare name, else backquoted.
pub(crate) fn write_column_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let mut chars = name.chars();
    let bare = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !Keyword::is_keyword(name);
    if bare { f.write_str(name) } else { write!(f, "`{name}`") }
}

/// Writes a string literal in single quotes, escaping `'` and `\`.
pub(crate) fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("'")
}

/// Writes `child`, in parentheses when it binds less strongly than `min`.
fn write_operand(f: &mut fmt::Formatter<'_>, child: &Expr, min: Level, strict: bool) -> fmt::Result {
    let level = child.level();
    if level < min || (strict && level == min) {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Column(name) => write_column_name(f, name),
            ExprKind::Int(i) => write!(f, "{i}"),
            ExprKind::Real(r) => {
                // `Display` for f64 never uses an exponent; keep a '.' so it reads back as real.
                let text = r.to_string();
                if text.contains('.') {
                    f.write_str(&text)
                } else {
                    write!(f, "{text}.0")
                }
            }
            ExprKind::Str(s) => write_string(f, s),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Date(d) => write!(f, "date('{d}')"),
            ExprKind::Neg(e) => {
                f.write_str("-")?;
                write_operand(f, e, Level::Neg, false)
            }
            ExprKind::Not(e) => {
                f.write_str("not ")?;
                write_operand(f, e, Level::Not, false)
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let level = op.level();
                // `=>` groups to the right, comparisons do not group, the others to the left.
                let (left_strict, right_strict) = match level {
                    Level::Implies => (true, false),
                    Level::Compare => (true, true),
                    _ => (false, true),
                };
                write_operand(f, lhs, level, left_strict)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, rhs, level, right_strict)
            }
            ExprKind::In { value, list, negated } => {
                write_operand(f, value, Level::Compare, true)?;
                f.write_str(if *negated { " not in [" } else { " in [" })?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_operand(f, item, Level::Sum, false)?;
                }
                f.write_str("]")
            }
            ExprKind::IsMissing { column, negated } => {
                write_operand(f, column, Level::Compare, true)?;
                f.write_str(if *negated { " is not missing" } else { " is missing" })
            }
            ExprKind::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}
