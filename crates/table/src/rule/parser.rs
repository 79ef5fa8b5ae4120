//! Recursive-descent parser from tokens to the syntax tree (see `docs/rules.md` for the
//! grammar).

use super::RuleError;
use super::ast::{BinOp, Expr, ExprKind, Func};
use super::lexer::{Keyword, Token, TokenKind, tokenize};
use crate::date::Date;

/// The most tokens a rule may have; this bounds the depth of the syntax tree, which later
/// passes walk recursively.
pub(crate) const MAX_TOKENS: usize = 1000;

/// How deeply parentheses, function calls, `not` and unary `-` may nest.
pub(crate) const MAX_NESTING: usize = 64;

/// How deeply operations may nest in the syntax tree (the checker and the evaluator recurse
/// over it, and debug builds have large stack frames).
pub(crate) const MAX_DEPTH: usize = 100;

/// Parses a whole rule.
pub(crate) fn parse(source: &str) -> Result<Expr, RuleError> {
    let tokens = tokenize(source)?;
    if let Some(t) = tokens.get(MAX_TOKENS) {
        return Err(RuleError {
            position: t.pos,
            message: format!("the rule is too long (more than {MAX_TOKENS} tokens); split it into several rules"),
        });
    }
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    if p.peek() == &TokenKind::End {
        return Err(RuleError {
            position: 1,
            message: "the rule is empty".into(),
        });
    }
    let e = p.implication()?;
    match p.peek() {
        TokenKind::End => check_depth(&e).map(|()| e),
        TokenKind::RParen => Err(p.error("unmatched ')'")),
        other => {
            let message = format!("expected an operator or end of rule but found {other}");
            Err(p.error(message))
        }
    }
}

/// Refuses trees with operations nested deeper than [`MAX_DEPTH`], pointing at the operator that goes too deep. Walks
/// the tree with an explicit stack, so it cannot itself overflow.
fn check_depth(root: &Expr) -> Result<(), RuleError> {
    let mut stack = vec![(root, 1)];
    while let Some((e, depth)) = stack.pop() {
        let children = e.children();
        if depth > MAX_DEPTH && !children.is_empty() {
            return Err(RuleError {
                position: e.pos,
                message: format!(
                    "the rule has more than {MAX_DEPTH} levels of operations; split it into several rules"
                ),
            });
        }
        stack.extend(children.into_iter().map(|c| (c, depth + 1)));
    }
    Ok(())
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Current nesting of parentheses, calls, `not` and unary `-`.
    depth: usize,
}

impl Parser {
    fn token(&self) -> &Token {
        // `tokenize` always ends with `End`, and the parser never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek(&self) -> &TokenKind {
        &self.token().kind
    }

    fn peek_second(&self) -> &TokenKind {
        let i = (self.at + 1).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    fn pos(&self) -> usize {
        self.token().pos
    }

    fn bump(&mut self) -> Token {
        let t = self.token().clone();
        if t.kind != TokenKind::End {
            self.at += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>) -> RuleError {
        RuleError {
            position: self.pos(),
            message: message.into(),
        }
    }

    /// Enters one level of nesting, failing past [`MAX_NESTING`].
    fn nest(&mut self, pos: usize) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(RuleError {
                position: pos,
                message: format!(
                    "the rule nests parentheses, function calls, 'not' and '-' more than {MAX_NESTING} deep"
                ),
            });
        }
        Ok(())
    }

    fn is_keyword(&self, k: Keyword) -> bool {
        self.peek() == &TokenKind::Keyword(k)
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<Token, RuleError> {
        if self.peek() == &kind {
            Ok(self.bump())
        } else {
            Err(self.error(format!("expected {what} but found {}", self.peek())))
        }
    }

    /// implication := disjunction ('=>' implication)?
    fn implication(&mut self) -> Result<Expr, RuleError> {
        let lhs = self.disjunction()?;
        if self.peek() == &TokenKind::Implies {
            let pos = self.bump().pos;
            let rhs = self.implication()?;
            return Ok(Expr::new(
                pos,
                ExprKind::Binary(BinOp::Implies, Box::new(lhs), Box::new(rhs)),
            ));
        }
        Ok(lhs)
    }

    /// disjunction := conjunction ('or' conjunction)*
    fn disjunction(&mut self) -> Result<Expr, RuleError> {
        let mut lhs = self.conjunction()?;
        while self.is_keyword(Keyword::Or) {
            let pos = self.bump().pos;
            let rhs = self.conjunction()?;
            lhs = Expr::new(pos, ExprKind::Binary(BinOp::Or, Box::new(lhs), Box::new(rhs)));
        }
        Ok(lhs)
    }

    /// conjunction := negation ('and' negation)*
    fn conjunction(&mut self) -> Result<Expr, RuleError> {
        let mut lhs = self.negation()?;
        while self.is_keyword(Keyword::And) {
            let pos = self.bump().pos;
            let rhs = self.negation()?;
            lhs = Expr::new(pos, ExprKind::Binary(BinOp::And, Box::new(lhs), Box::new(rhs)));
        }
        Ok(lhs)
    }

    /// negation := 'not' negation | comparison
    fn negation(&mut self) -> Result<Expr, RuleError> {
        if self.is_keyword(Keyword::Not) {
            let pos = self.bump().pos;
            self.nest(pos)?;
            let e = self.negation()?;
            self.depth -= 1;
            return Ok(Expr::new(pos, ExprKind::Not(Box::new(e))));
        }
        self.comparison()
    }

    /// comparison := sum (cmp sum | 'not'? 'in' list | 'is' 'not'? 'missing')?
    fn comparison(&mut self) -> Result<Expr, RuleError> {
        let lhs = self.sum()?;
        let op = match self.peek() {
            TokenKind::EqEq => Some(BinOp::Eq),
            TokenKind::NotEq => Some(BinOp::Ne),
            TokenKind::Lt => Some(BinOp::Lt),
            TokenKind::Le => Some(BinOp::Le),
            TokenKind::Gt => Some(BinOp::Gt),
            TokenKind::Ge => Some(BinOp::Ge),
            _ => None,
        };
        let e = if let Some(op) = op {
            let pos = self.bump().pos;
            let rhs = self.sum()?;
            Expr::new(pos, ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)))
        } else if self.is_keyword(Keyword::In)
            || (self.is_keyword(Keyword::Not) && self.peek_second() == &TokenKind::Keyword(Keyword::In))
        {
            let pos = self.pos();
            let negated = self.is_keyword(Keyword::Not);
            if negated {
                self.bump();
            }
            self.bump();
            let list = self.list()?;
            Expr::new(
                pos,
                ExprKind::In {
                    value: Box::new(lhs),
                    list,
                    negated,
                },
            )
        } else if self.is_keyword(Keyword::Is) {
            let pos = self.bump().pos;
            let negated = self.is_keyword(Keyword::Not);
            if negated {
                self.bump();
            }
            self.expect(TokenKind::Keyword(Keyword::Missing), "'missing'")?;
            Expr::new(
                pos,
                ExprKind::IsMissing {
                    column: Box::new(lhs),
                    negated,
                },
            )
        } else {
            return Ok(lhs);
        };
        let chained = matches!(
            self.peek(),
            TokenKind::EqEq | TokenKind::NotEq | TokenKind::Lt | TokenKind::Le | TokenKind::Gt | TokenKind::Ge
        ) || self.is_keyword(Keyword::In)
            || self.is_keyword(Keyword::Is);
        if chained {
            return Err(self.error(format!(
                "comparisons do not chain: {} cannot follow another comparison (write `a < b and b < c`, or use parentheses)",
                self.peek()
            )));
        }
        Ok(e)
    }

    /// list := '[' sum (',' sum)* ']'
    fn list(&mut self) -> Result<Vec<Expr>, RuleError> {
        self.expect(TokenKind::LBracket, "'[' to open the list of values")?;
        if self.peek() == &TokenKind::RBracket {
            return Err(self.error("a list needs at least one value"));
        }
        let mut items = vec![self.sum()?];
        while self.peek() == &TokenKind::Comma {
            self.bump();
            items.push(self.sum()?);
        }
        self.expect(TokenKind::RBracket, "',' or ']'")?;
        Ok(items)
    }

    /// sum := product (('+' | '-') product)*
    fn sum(&mut self) -> Result<Expr, RuleError> {
        let mut lhs = self.product()?;
        loop {
            let op = match self.peek() {
                TokenKind::Plus => BinOp::Add,
                TokenKind::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let pos = self.bump().pos;
            let rhs = self.product()?;
            lhs = Expr::new(pos, ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)));
        }
    }

    /// product := unary (('*' | '/') unary)*
    fn product(&mut self) -> Result<Expr, RuleError> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                TokenKind::Star => BinOp::Mul,
                TokenKind::Slash => BinOp::Div,
                _ => return Ok(lhs),
            };
            let pos = self.bump().pos;
            let rhs = self.unary()?;
            lhs = Expr::new(pos, ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)));
        }
    }

    /// unary := '-' unary | atom
    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.peek() == &TokenKind::Minus {
            let pos = self.bump().pos;
            self.nest(pos)?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::new(pos, ExprKind::Neg(Box::new(e))));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, RuleError> {
        let token = self.bump();
        let pos = token.pos;
        let kind = match token.kind {
            TokenKind::Int(i) => ExprKind::Int(i),
            TokenKind::Real(r) => ExprKind::Real(r),
            TokenKind::Str(s) => ExprKind::Str(s),
            TokenKind::Keyword(Keyword::True) => ExprKind::Bool(true),
            TokenKind::Keyword(Keyword::False) => ExprKind::Bool(false),
            TokenKind::QuotedName(name) => ExprKind::Column(name),
            TokenKind::Name(name) if self.peek() == &TokenKind::LParen => return self.call(pos, &name),
            TokenKind::Name(name) => ExprKind::Column(name),
            TokenKind::LParen => {
                self.nest(pos)?;
                let e = self.implication()?;
                self.expect(TokenKind::RParen, "')'")?;
                self.depth -= 1;
                return Ok(e);
            }
            TokenKind::Keyword(Keyword::Not) => {
                return Err(RuleError {
                    position: pos,
                    message: "'not' cannot stand here: put the negated condition in parentheses, `(not …)`".into(),
                });
            }
            TokenKind::Keyword(k @ (Keyword::And | Keyword::Or | Keyword::In | Keyword::Is | Keyword::Missing)) => {
                return Err(RuleError {
                    position: pos,
                    message: format!(
                        "expected a value but found the keyword '{}' (a column with this name must be written in backquotes)",
                        k.as_str()
                    ),
                });
            }
            other => {
                return Err(RuleError {
                    position: pos,
                    message: format!("expected a value but found {other}"),
                });
            }
        };
        Ok(Expr::new(pos, kind))
    }

    /// A function call or a date literal; the name has been read, the next token is '('.
    fn call(&mut self, pos: usize, name: &str) -> Result<Expr, RuleError> {
        self.bump();
        if name.eq_ignore_ascii_case("date") {
            let arg_pos = self.pos();
            let text = match self.bump().kind {
                TokenKind::Str(s) => s,
                other => {
                    return Err(RuleError {
                        position: arg_pos,
                        message: format!("date(…) takes a string \"YYYY-MM-DD\", found {other}"),
                    });
                }
            };
            let date = Date::parse(&text, "%Y-%m-%d").map_err(|m| RuleError {
                position: arg_pos,
                message: format!("bad date literal: {m} (write date(\"YYYY-MM-DD\"))"),
            })?;
            self.expect(TokenKind::RParen, "')'")?;
            return Ok(Expr::new(pos, ExprKind::Date(date)));
        }
        let Some(func) = Func::from_name(name) else {
            return Err(RuleError {
                position: pos,
                message: format!("unknown function '{name}' (functions are abs, min, max and date)"),
            });
        };
        self.nest(pos)?;
        let mut args = vec![self.implication()?];
        while self.peek() == &TokenKind::Comma {
            self.bump();
            args.push(self.implication()?);
        }
        self.expect(TokenKind::RParen, "',' or ')'")?;
        self.depth -= 1;
        let arity_ok = match func {
            Func::Abs => args.len() == 1,
            Func::Min | Func::Max => args.len() >= 2,
        };
        if !arity_ok {
            let wanted = if func == Func::Abs {
                "one argument"
            } else {
                "at least two arguments"
            };
            return Err(RuleError {
                position: pos,
                message: format!("{}() takes {wanted}, found {}", func.name(), args.len()),
            });
        }
        Ok(Expr::new(pos, ExprKind::Call(func, args)))
    }
}
