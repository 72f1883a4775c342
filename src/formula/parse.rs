//! A small Pratt parser for loss formulas. Every error carries the character span it is about.

use super::{BinOp, Expr, ExprKind, Func, FormulaError, FUNCTIONS};

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(BinOp),
    Minus,
    LParen,
    RParen,
    Comma,
    Assign,
    End,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("the number {v}"),
        Tok::Ident(n) => format!("{n:?}"),
        Tok::Op(op) => format!("'{}'", op.symbol()),
        Tok::Minus => "'-'".into(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::Assign => "'='".into(),
        Tok::End => "the end of the formula".into(),
    }
}

/// A token and its character span.
type Spanned = (Tok, (usize, usize));

/// Splits the text into tokens with their character spans.
fn lex(text: &str) -> Result<Vec<Spanned>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: 1e-7, 2.5E3.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let s: String = chars[start..i].iter().collect();
            let v = s
                .parse::<f64>()
                .map_err(|_| FormulaError::new(text, (start, i), format!("{s:?} is not a number")))?;
            Tok::Num(v)
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else {
            let next = chars.get(i + 1).copied();
            let (tok, len) = match (c, next) {
                ('<', Some('=')) => (Tok::Op(BinOp::Le), 2),
                ('>', Some('=')) => (Tok::Op(BinOp::Ge), 2),
                ('=', Some('=')) => (Tok::Op(BinOp::Eq), 2),
                ('!', Some('=')) => (Tok::Op(BinOp::Ne), 2),
                ('*', Some('*')) => (Tok::Op(BinOp::Pow), 2),
                ('<', _) => (Tok::Op(BinOp::Lt), 1),
                ('>', _) => (Tok::Op(BinOp::Gt), 1),
                ('+', _) => (Tok::Op(BinOp::Add), 1),
                ('-', _) => (Tok::Minus, 1),
                ('*', _) => (Tok::Op(BinOp::Mul), 1),
                ('/', _) => (Tok::Op(BinOp::Div), 1),
                ('^', _) => (Tok::Op(BinOp::Pow), 1),
                ('(', _) => (Tok::LParen, 1),
                (')', _) => (Tok::RParen, 1),
                (',', _) => (Tok::Comma, 1),
                ('=', _) => (Tok::Assign, 1),
                _ => {
                    return Err(FormulaError::new(
                        text,
                        (i, i + 1),
                        format!("unexpected character {c:?}; expected a number, t, p, a function, an operator or a parenthesis"),
                    ))
                }
            };
            i += len;
            tok
        };
        out.push((tok, (start, i)));
    }
    out.push((Tok::End, (chars.len(), chars.len())));
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Spanned>,
    pos: usize,
    depth: usize,
}

/// Most nested sub-expressions (parentheses, calls, unary minus, `^` chains) a formula may hold.
pub const MAX_DEPTH: usize = 64;
/// Longest formula accepted, in characters.
pub const MAX_CHARS: usize = 2000;

/// Left and right binding powers of an infix operator.
fn binding(op: BinOp) -> (u8, u8) {
    match op {
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => (1, 2),
        BinOp::Add | BinOp::Sub => (3, 4),
        BinOp::Mul | BinOp::Div => (5, 6),
        BinOp::Pow => (10, 9),
    }
}

/// Binding power of unary minus: below `^` (so `-x^2` is `-(x^2)`), above `*`.
const UNARY: u8 = 7;

/// The value of an expression made of numbers only.
pub(crate) fn constant(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Num(v) => Some(*v),
        ExprKind::Neg(x) => constant(x).map(|v| -v),
        ExprKind::Bin(op, a, b) => {
            let (a, b) = (constant(a)?, constant(b)?);
            Some(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => a.powf(b),
                _ => return None,
            })
        }
        _ => None,
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn span(&self) -> (usize, usize) {
        self.toks[self.pos].1
    }

    fn err(&self, span: (usize, usize), msg: impl Into<String>) -> FormulaError {
        FormulaError::new(self.text, span, msg)
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(usize, usize), FormulaError> {
        if *self.peek() == tok {
            let s = self.span();
            self.pos += 1;
            Ok(s)
        } else {
            Err(self.err(self.span(), format!("expected {what}, found {}", describe(self.peek()))))
        }
    }

    fn expr(&mut self, min_bp: u8) -> Result<Expr, FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(self.span(), format!("the formula is nested more than {MAX_DEPTH} levels deep")));
        }
        let e = self.expr_inner(min_bp);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, min_bp: u8) -> Result<Expr, FormulaError> {
        let mut lhs = self.prefix()?;
        loop {
            let op = match self.peek() {
                Tok::Op(op) => *op,
                Tok::Minus => BinOp::Sub,
                _ => break,
            };
            let (l, r) = binding(op);
            if l < min_bp {
                break;
            }
            self.pos += 1;
            let rhs = self.expr(r)?;
            let span = (lhs.span.0, rhs.span.1);
            lhs = Expr { kind: ExprKind::Bin(op, Box::new(lhs), Box::new(rhs)), span };
        }
        Ok(lhs)
    }

    fn prefix(&mut self) -> Result<Expr, FormulaError> {
        let (tok, span) = self.toks[self.pos].clone();
        self.pos += 1;
        match tok {
            Tok::Num(v) => Ok(Expr { kind: ExprKind::Num(v), span }),
            Tok::Minus => {
                let x = self.expr(UNARY)?;
                let span = (span.0, x.span.1);
                Ok(Expr { kind: ExprKind::Neg(Box::new(x)), span })
            }
            Tok::LParen => {
                let inner = self.expr(0)?;
                let close = self.expect(Tok::RParen, "')' to close the '(' here")
                    .map_err(|e| if e.span.0 >= self.text.chars().count() { self.err(span, e.message) } else { e })?;
                Ok(Expr { kind: inner.kind, span: (span.0, close.1) })
            }
            Tok::Ident(name) if *self.peek() == Tok::LParen => self.call(&name, span),
            Tok::Ident(name) => match name.as_str() {
                "t" | "y_true" => Ok(Expr { kind: ExprKind::T, span }),
                "p" | "y_pred" => Ok(Expr { kind: ExprKind::P, span }),
                _ if FUNCTIONS.iter().any(|(n, _, _)| *n == name) => {
                    Err(self.err(span, format!("{name} is a function; expected '(' after it")))
                }
                _ => Err(self.err(span, format!("unknown name {name:?}; expected t (targets), p (predictions), a number or a function"))),
            },
            other => {
                self.pos -= 1;
                Err(self.err(span, format!("expected a number, t, p, a function or '(', found {}", describe(&other))))
            }
        }
    }

    /// `name(args)` with the optional `axis=N`.
    fn call(&mut self, name: &str, name_span: (usize, usize)) -> Result<Expr, FormulaError> {
        let Some(&(_, func, available)) = FUNCTIONS.iter().find(|(n, _, _)| *n == name) else {
            let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _, _)| *n).collect();
            return Err(self.err(name_span, format!("unknown function {name:?}; expected one of: {}", names.join(" "))));
        };
        if !available {
            return Err(self.err(name_span, format!("{name} is not yet available: the tape has no {name} op yet")));
        }
        self.expect(Tok::LParen, "'('")?;
        let mut args = Vec::new();
        let mut axis: Option<(isize, (usize, usize))> = None;
        if *self.peek() != Tok::RParen {
            loop {
                if matches!(self.peek(), Tok::Ident(n) if n == "axis") && self.toks[self.pos + 1].0 == Tok::Assign {
                    let start = self.span().0;
                    self.pos += 2;
                    let e = self.expr(0)?;
                    axis = Some((self.integer(&e)?, (start, e.span.1)));
                } else {
                    args.push(self.expr(0)?);
                }
                match self.peek() {
                    Tok::Comma => self.pos += 1,
                    Tok::RParen => break,
                    _ => return Err(self.err(self.span(), format!("expected ',' or ')' in the arguments of {name}, found {}", describe(self.peek())))),
                }
            }
        }
        let close = self.expect(Tok::RParen, "')'")?;
        let span = (name_span.0, close.1);
        let reduction = matches!(func, Func::Mean | Func::Sum);
        // mean(x, 1): a second positional argument of a reduction is its axis.
        if reduction && args.len() == 2 && axis.is_none() {
            let a = args.pop().expect("two arguments");
            axis = Some((self.integer(&a)?, a.span));
        }
        let expected = match func {
            Func::Clip | Func::Where => 3,
            Func::Min | Func::Max if args.len() == 2 => 2,
            _ => 1,
        };
        if args.len() != expected {
            let usage = match func {
                Func::Clip => "clip(x, lo, hi)",
                Func::Where => "where(cond, a, b)",
                Func::Min | Func::Max => "one argument (a reduction, with an optional axis=N) or two (elementwise)",
                Func::Mean | Func::Sum => "one argument and an optional axis",
                _ => "one argument",
            };
            return Err(self.err(span, format!("{name} takes {usage}; got {} argument(s)", args.len())));
        }
        if let Some((_, aspan)) = axis {
            let takes_axis = reduction || (matches!(func, Func::Min | Func::Max) && args.len() == 1);
            if !takes_axis {
                return Err(self.err(aspan, format!("{name} takes no axis")));
            }
        }
        if func == Func::Clip {
            for b in &args[1..] {
                if constant(b).is_none() {
                    return Err(self.err(b.span, "a clip bound must be a number"));
                }
            }
            let (lo, hi) = (constant(&args[1]).unwrap_or(0.0), constant(&args[2]).unwrap_or(0.0));
            if lo.is_nan() || hi.is_nan() || lo > hi {
                return Err(self.err(span, format!("clip: the lower bound {lo} is above the upper bound {hi}")));
            }
        }
        Ok(Expr { kind: ExprKind::Call(func, args, axis.map(|a| a.0)), span })
    }

    fn integer(&self, e: &Expr) -> Result<isize, FormulaError> {
        match constant(e) {
            Some(v) if v.fract() == 0.0 && v.abs() < 64.0 => Ok(v as isize),
            _ => Err(self.err(e.span, "an axis must be a whole number such as 1 or -1")),
        }
    }
}

/// Parses a formula into its tree.
pub(crate) fn parse(text: &str) -> Result<Expr, FormulaError> {
    let n = text.chars().count();
    if n > MAX_CHARS {
        return Err(FormulaError::new(text, (MAX_CHARS, n), format!("the formula is longer than {MAX_CHARS} characters")));
    }
    let toks = lex(text)?;
    if toks.len() == 1 {
        return Err(FormulaError::new(text, (0, 0), "empty formula; expected an expression over t and p such as mean(square(t - p))"));
    }
    let mut p = Parser { text, toks, pos: 0, depth: 0 };
    let e = p.expr(0)?;
    if *p.peek() != Tok::End {
        return Err(p.err(p.span(), format!("expected an operator or the end of the formula, found {}", describe(p.peek()))));
    }
    Ok(e)
}
