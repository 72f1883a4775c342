//! Losses typed as formulas over `t` (targets) and `p` (predictions), parsed into ops on the tape so
//! their gradients are automatic.
//!
//! The language: numbers, `t`, `p`, `+ - * / ^` (`^` binds tightest and to the right; `-x^2` is
//! `-(x^2)`, as in Python), unary minus, comparisons `< <= > >= == !=` (giving 1 or 0, with no
//! gradient), parentheses, and the functions
//!
//! | function | meaning |
//! | --- | --- |
//! | `log exp abs sqrt square log1p relu sigmoid tanh softplus` | elementwise |
//! | `sin cos` | elementwise |
//! | `min(a, b)`, `max(a, b)` | elementwise minimum / maximum (ties as TensorFlow: the gradient goes to `a`) |
//! | `min(x)`, `max(x)`, with an optional axis `max(x, axis=1)` | reductions |
//! | `clip(x, lo, hi)` | clamp to `[lo, hi]` (numbers) |
//! | `where(cond, a, b)` | `a` where `cond` is non-zero, else `b` |
//! | `mean(x)`, `sum(x)`, optional axis: `mean(x, 1)` or `mean(x, axis=-1)` | reductions |
//!
//! A loss with more than one element is averaged, as Keras reduces a loss.
//!
//! ```
//! use tapegrad::formula::Formula;
//! use tapegrad::{Tape, Tensor};
//! let f = Formula::parse("mean(where(t > p, 0.9, 0.1) * abs(t - p))").unwrap();
//! let tape = Tape::<f64>::new();
//! let t = tape.constant(Tensor::from_vec(vec![1.0, 0.0], &[2, 1]));
//! let p = tape.var(Tensor::from_vec(vec![0.5, 0.5], &[2, 1]));
//! f.check_shapes(&[2, 1], &[2, 1]).unwrap();
//! let loss = f.eval(t, p);
//! assert!((loss.item() - (0.9 * 0.5 + 0.1 * 0.5) / 2.0).abs() < 1e-12);
//!
//! let err = Formula::parse("mean(lg(t - p))").unwrap_err();
//! assert_eq!(err.to_string(), "unknown function \"lg\"; expected one of: log exp abs sqrt square log1p relu \
//! sigmoid tanh softplus sin cos min max clip where mean sum\n  mean(lg(t - p))\n       ^^");
//! ```

mod eval;
mod parse;

use std::fmt;

/// A function a formula may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// Natural logarithm.
    Log,
    /// `e^x`.
    Exp,
    /// `|x|`.
    Abs,
    /// Square root.
    Sqrt,
    /// `x^2`.
    Square,
    /// `log(1 + x)`.
    Log1p,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `log(1 + e^x)`.
    Softplus,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Elementwise minimum of two, or a reduction of one.
    Min,
    /// Elementwise maximum of two, or a reduction of one.
    Max,
    /// `clip(x, lo, hi)`.
    Clip,
    /// `where(cond, a, b)`.
    Where,
    /// Mean, of all elements or along an axis.
    Mean,
    /// Sum, of all elements or along an axis.
    Sum,
}

/// Every function by name, and whether the tape has its op yet.
pub const FUNCTIONS: &[(&str, Func, bool)] = &[
    ("log", Func::Log, true),
    ("exp", Func::Exp, true),
    ("abs", Func::Abs, true),
    ("sqrt", Func::Sqrt, true),
    ("square", Func::Square, true),
    ("log1p", Func::Log1p, true),
    ("relu", Func::Relu, true),
    ("sigmoid", Func::Sigmoid, true),
    ("tanh", Func::Tanh, true),
    ("softplus", Func::Softplus, true),
    ("sin", Func::Sin, true),
    ("cos", Func::Cos, true),
    ("min", Func::Min, true),
    ("max", Func::Max, true),
    ("clip", Func::Clip, true),
    ("where", Func::Where, true),
    ("mean", Func::Mean, true),
    ("sum", Func::Sum, true),
];

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
        }
    }

    fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne)
    }
}

/// A node of a parsed formula with its place in the text (character offsets, end exclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is: `start..end` in characters.
    pub span: (usize, usize),
}

/// The kinds of formula nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number.
    Num(f64),
    /// The targets.
    T,
    /// The predictions.
    P,
    /// `-x`.
    Neg(Box<Expr>),
    /// `a op b`.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args)`, with an axis for reductions.
    Call(Func, Vec<Expr>, Option<isize>),
}

/// A formula that could not be parsed, checked or evaluated: what was wrong, and where (shown as
/// the formula with a caret under the place).
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaError {
    /// The formula as given.
    pub formula: String,
    /// Character offsets of the offending part (`start..end`, end exclusive).
    pub span: (usize, usize),
    /// What went wrong, and what was expected.
    pub message: String,
}

impl FormulaError {
    pub(crate) fn new(formula: &str, span: (usize, usize), message: impl Into<String>) -> Self {
        FormulaError { formula: formula.to_string(), span, message: message.into() }
    }
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = (self.span.1.saturating_sub(self.span.0)).max(1);
        // The formula on one line: line breaks and tabs shown as spaces keep the caret aligned.
        let shown: String = self.formula.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
        write!(f, "{}\n  {shown}\n  {}{}", self.message, " ".repeat(self.span.0), "^".repeat(width))
    }
}

impl std::error::Error for FormulaError {}

/// A parsed loss formula over `t` and `p`.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    text: String,
    root: Expr,
}

impl Formula {
    /// Parses `text`.
    ///
    /// # Errors
    /// A [`FormulaError`] for a syntax error, an unknown name, a wrong number of arguments, an axis
    /// or clip bound that is not a number, or a function the tape does not have yet (`sin`, `cos`).
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let root = parse::parse(text)?;
        Ok(Formula { text: text.to_string(), root })
    }

    /// The formula as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed tree.
    pub fn root(&self) -> &Expr {
        &self.root
    }

    /// Whether a text looks like a formula rather than a loss name (it is `t` or `p`, uses an
    /// operator or a parenthesis, or starts with a number, which no loss name does).
    ///
    /// ```
    /// use tapegrad::formula::Formula;
    /// assert!(Formula::looks_like_formula("mean(abs(t - p))") && Formula::looks_like_formula("0.5"));
    /// assert!(!Formula::looks_like_formula("huber"));
    /// ```
    pub fn looks_like_formula(text: &str) -> bool {
        let text = text.trim();
        text.contains(|c: char| "()+-*/^<>=!".contains(c)) || text == "t" || text == "p" || text.starts_with(|c: char| c.is_ascii_digit() || c == '.')
    }

    pub(crate) fn error(&self, span: (usize, usize), message: impl Into<String>) -> FormulaError {
        FormulaError::new(&self.text, span, message)
    }
}
