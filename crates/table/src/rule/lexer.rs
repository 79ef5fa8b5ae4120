//! Splits a rule into tokens, each with its 1-based character position.

use super::RuleError;
use std::fmt;

/// A reserved word. Keywords are matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    In,
    Is,
    Missing,
    True,
    False,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        const ALL: [(&str, Keyword); 8] = [
            ("and", Keyword::And),
            ("or", Keyword::Or),
            ("not", Keyword::Not),
            ("in", Keyword::In),
            ("is", Keyword::Is),
            ("missing", Keyword::Missing),
            ("true", Keyword::True),
            ("false", Keyword::False),
        ];
        ALL.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|(_, k)| *k)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::And => "and",
            Keyword::Or => "or",
            Keyword::Not => "not",
            Keyword::In => "in",
            Keyword::Is => "is",
            Keyword::Missing => "missing",
            Keyword::True => "true",
            Keyword::False => "false",
        }
    }

    /// Whether `word` is a keyword (in any letter case), so a column of that name needs
    /// backquotes.
    pub(crate) fn is_keyword(word: &str) -> bool {
        Keyword::from_word(word).is_some()
    }
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A bare name: a column, or a function when followed by `(`.
    Name(String),
    /// A backquoted column name (always a column).
    QuotedName(String),
    Keyword(Keyword),
    Int(i64),
    Real(f64),
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Implies,
    End,
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sym = match self {
            TokenKind::Name(n) => return write!(f, "'{n}'"),
            TokenKind::QuotedName(n) => return write!(f, "`{n}`"),
            TokenKind::Keyword(k) => return write!(f, "'{}'", k.as_str()),
            TokenKind::Int(i) => return write!(f, "the number {i}"),
            TokenKind::Real(r) => return write!(f, "the number {r}"),
            TokenKind::Str(s) => return write!(f, "the string {s:?}"),
            TokenKind::End => return f.write_str("end of rule"),
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::Comma => ",",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::EqEq => "==",
            TokenKind::NotEq => "!=",
            TokenKind::Lt => "<",
            TokenKind::Le => "<=",
            TokenKind::Gt => ">",
            TokenKind::Ge => ">=",
            TokenKind::Implies => "=>",
        };
        write!(f, "'{sym}'")
    }
}

/// One token and the 1-based character position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub pos: usize,
}

/// Splits `source` into tokens; the last one is always [`TokenKind::End`], positioned one
/// character past the end of the rule.
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        let peek = chars.get(i + 1).copied();
        let err = |message: String| Err(RuleError { position: pos, message });
        let (kind, width) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (TokenKind::LParen, 1),
            ')' => (TokenKind::RParen, 1),
            '[' => (TokenKind::LBracket, 1),
            ']' => (TokenKind::RBracket, 1),
            ',' => (TokenKind::Comma, 1),
            '+' => (TokenKind::Plus, 1),
            '-' => (TokenKind::Minus, 1),
            '*' => (TokenKind::Star, 1),
            '/' => (TokenKind::Slash, 1),
            '=' if peek == Some('=') => (TokenKind::EqEq, 2),
            '=' if peek == Some('>') => (TokenKind::Implies, 2),
            '=' => return err("unexpected '=' (write '==' for equality or '=>' for implication)".into()),
            '!' if peek == Some('=') => (TokenKind::NotEq, 2),
            '!' => return err("unexpected '!' (write '!=' for inequality or 'not' for negation)".into()),
            '<' if peek == Some('=') => (TokenKind::Le, 2),
            '<' if peek == Some('>') => return err("unexpected '<>' (write '!=' for inequality)".into()),
            '<' => (TokenKind::Lt, 1),
            '>' if peek == Some('=') => (TokenKind::Ge, 2),
            '>' => (TokenKind::Gt, 1),
            '&' => return err("unexpected '&' (write 'and')".into()),
            '|' => return err("unexpected '|' (write 'or')".into()),
            '\'' | '"' => {
                let (text, width) = string_literal(&chars, i)?;
                (TokenKind::Str(text), width)
            }
            '`' => {
                let Some(len) = chars[i + 1..].iter().position(|&c| c == '`') else {
                    return err("unterminated column name: the opening ` has no closing `".into());
                };
                let name: String = chars[i + 1..i + 1 + len].iter().collect();
                if name.trim().is_empty() {
                    return err("empty column name between backquotes".into());
                }
                (TokenKind::QuotedName(name), len + 2)
            }
            c if c.is_ascii_digit() => number(&chars, i)?,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                let kind = match Keyword::from_word(&word) {
                    Some(k) => TokenKind::Keyword(k),
                    None => TokenKind::Name(word),
                };
                (kind, len)
            }
            other => {
                return err(format!(
                    "unexpected character {other:?} (column names with spaces or punctuation go between backquotes: `like this`)"
                ));
            }
        };
        tokens.push(Token { kind, pos });
        i += width;
    }
    tokens.push(Token {
        kind: TokenKind::End,
        pos: chars.len() + 1,
    });
    Ok(tokens)
}

/// Reads a quoted string starting at `chars[start]` (the quote); returns its text and width.
fn string_literal(chars: &[char], start: usize) -> Result<(String, usize), RuleError> {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c == quote => return Ok((text, i + 1 - start)),
            '\\' => match chars.get(i + 1) {
                Some(&e @ ('\'' | '"' | '\\')) => {
                    text.push(e);
                    i += 2;
                }
                Some(other) => {
                    return Err(RuleError {
                        position: i + 1,
                        message: format!("unknown escape '\\{other}' in a string (only \\', \\\" and \\\\ exist)"),
                    });
                }
                None => break,
            },
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(RuleError {
        position: start + 1,
        message: format!("unterminated string: the opening {quote} has no closing {quote}"),
    })
}

/// Reads an integer or a decimal number starting at `chars[start]`.
fn number(chars: &[char], start: usize) -> Result<(TokenKind, usize), RuleError> {
    let digits = |from: usize| chars[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits(start);
    let mut len = int_len;
    let is_real = chars.get(start + len) == Some(&'.');
    if is_real {
        let frac = digits(start + len + 1);
        if frac == 0 {
            return Err(RuleError {
                position: start + len + 1,
                message: "a decimal point must be followed by digits (write 5.0, not 5.)".into(),
            });
        }
        len += 1 + frac;
    }
    let text: String = chars[start..start + len].iter().collect();
    let bad = |what: &str| RuleError {
        position: start + 1,
        message: format!("{what} {text} is out of range"),
    };
    let kind = if is_real {
        let x: f64 = text.parse().map_err(|_| bad("number"))?;
        if !x.is_finite() {
            return Err(bad("number"));
        }
        TokenKind::Real(x)
    } else {
        TokenKind::Int(text.parse().map_err(|_| bad("integer"))?)
    };
    Ok((kind, len))
}
