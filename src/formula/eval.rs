//! Checking a formula's shapes and recording it on a tape.

use super::parse::constant;
use super::{BinOp, Expr, ExprKind, Formula, FormulaError, Func};
use crate::tensor::shape::broadcast_shapes;
use crate::{Float, Tape, Tensor, Var};
use std::collections::HashMap;

/// A value while recording: a folded number or a node on the tape.
#[derive(Clone, Copy)]
enum Val<'t, T: Float> {
    C(f64),
    V(Var<'t, T>),
}

/// Called with every recorded node and the formula part it came from.
type Visit<'a, 't, T> = &'a mut dyn FnMut(&Expr, Var<'t, T>) -> Result<(), FormulaError>;

fn unary_f64(f: Func, x: f64) -> f64 {
    match f {
        Func::Log => x.ln(),
        Func::Exp => x.exp(),
        Func::Abs => x.abs(),
        Func::Sqrt => x.sqrt(),
        Func::Square => x * x,
        Func::Log1p => x.ln_1p(),
        Func::Relu => x.max(0.0),
        Func::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Func::Tanh => x.tanh(),
        Func::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        // Reductions of a number are the number.
        _ => x,
    }
}

fn name_of(f: Func) -> &'static str {
    super::FUNCTIONS.iter().find(|(_, g, _)| *g == f).map_or("?", |(n, _, _)| n)
}

impl Formula {
    /// Checks that the formula can be recorded for targets of shape `t` and predictions of shape
    /// `p` (broadcasting, axes) and that it depends on `p`; returns the result's shape.
    ///
    /// # Errors
    /// A [`FormulaError`] pointing at the part whose shapes do not fit, or at the whole formula
    /// when it does not use `p`.
    pub fn check_shapes(&self, t: &[usize], p: &[usize]) -> Result<Vec<usize>, FormulaError> {
        if !uses_p(&self.root) {
            return Err(self.error((0, self.text.chars().count()), "the formula does not use p (the predictions), so it cannot train a model"));
        }
        self.shape_of(&self.root, t, p)
    }

    fn shape_of(&self, e: &Expr, t: &[usize], p: &[usize]) -> Result<Vec<usize>, FormulaError> {
        let bcast = |a: &[usize], b: &[usize], what: &str| {
            broadcast_shapes(a, b)
                .map(|s| s.to_vec())
                .ok_or_else(|| self.error(e.span, format!("{what} cannot combine shapes {a:?} and {b:?} (t is {t:?}, p is {p:?})")))
        };
        Ok(match &e.kind {
            ExprKind::Num(_) => vec![],
            ExprKind::T => t.to_vec(),
            ExprKind::P => p.to_vec(),
            ExprKind::Neg(x) => self.shape_of(x, t, p)?,
            ExprKind::Bin(op, a, b) => {
                let (sa, sb) = (self.shape_of(a, t, p)?, self.shape_of(b, t, p)?);
                bcast(&sa, &sb, &format!("'{}'", op.symbol()))?
            }
            ExprKind::Call(f, args, axis) => {
                let shapes = args.iter().map(|a| self.shape_of(a, t, p)).collect::<Result<Vec<_>, _>>()?;
                match (f, shapes.len()) {
                    (Func::Where, _) => {
                        let s = bcast(&shapes[0], &shapes[1], "where")?;
                        bcast(&s, &shapes[2], "where")?
                    }
                    (Func::Min | Func::Max, 2) => bcast(&shapes[0], &shapes[1], name_of(*f))?,
                    (Func::Mean | Func::Sum | Func::Min | Func::Max, _) => match axis {
                        None => vec![],
                        Some(a) => {
                            let rank = shapes[0].len() as isize;
                            if *a < -rank || *a >= rank || rank == 0 {
                                return Err(self.error(
                                    e.span,
                                    format!("{}: axis {a} is out of range for shape {:?} (t is {t:?}, p is {p:?})", name_of(*f), shapes[0]),
                                ));
                            }
                            let a = if *a < 0 { a + rank } else { *a } as usize;
                            let mut s = shapes[0].clone();
                            s.remove(a);
                            s
                        }
                    },
                    _ => shapes[0].clone(),
                }
            }
        })
    }

    /// Records the formula on `p`'s tape and returns its value (of the shape
    /// [`check_shapes`](Self::check_shapes) gives).
    ///
    /// # Panics
    /// When the shapes do not fit: call [`check_shapes`](Self::check_shapes) first.
    #[track_caller]
    pub fn eval<'t, T: Float>(&self, t: Var<'t, T>, p: Var<'t, T>) -> Var<'t, T> {
        let mut none = |_: &Expr, _: Var<'t, T>| Ok(());
        match self.record(&self.root, t, p, &mut none) {
            Ok(Val::V(v)) => v,
            Ok(Val::C(c)) => p.tape().scalar(T::from_f64(c)),
            Err(e) => panic!("{e}"),
        }
    }

    /// Records the formula on a fresh tape for `t` and `p` and returns the first part whose value
    /// is not finite (named, with a caret under it), or, when every value is finite, a non-finite
    /// gradient with respect to `p`. `None` when all is finite.
    pub fn first_non_finite(&self, t: &Tensor<f64>, p: &Tensor<f64>) -> Option<FormulaError> {
        if let Err(e) = self.check_shapes(t.shape(), p.shape()) {
            return Some(e);
        }
        let tape = Tape::<f64>::new();
        let (tv, pv) = (tape.constant(t.clone()), tape.var(p.clone()));
        let mut recorded: HashMap<*const Expr, Var<'_, f64>> = HashMap::new();
        let mut check = |e: &Expr, v| {
            let _: &Var<'_, f64> = &v;
            recorded.insert(e as *const Expr, v);
            let value = v.value();
            match value.data().iter().position(|x| !x.is_finite()) {
                None => Ok(()),
                Some(i) => Err(self.error(
                    e.span,
                    format!("{} gives {} on the first batch (element {i} of its output of shape {:?})", describe(e), value.data()[i], value.shape()),
                )),
            }
        };
        let out = match self.record(&self.root, tv, pv, &mut check) {
            Err(e) => return Some(e),
            Ok(Val::C(_)) => return None,
            Ok(Val::V(v)) => v,
        };
        let loss = if out.len() == 1 { out } else { out.mean() };
        let grads = loss.backward();
        let bad = |v: Var<'_, f64>| grads.reached(v) && grads[v].iter().any(|x| !x.is_finite());
        if !bad(pv) {
            return None;
        }
        // The op whose output gradient is finite but which passes a non-finite one to an input.
        let var_of = |e: &Expr| match e.kind {
            ExprKind::P => Some(pv),
            _ => recorded.get(&(e as *const Expr)).copied(),
        };
        // What an op passes to p directly: backward from the op alone, seeded with its gradient.
        let passes_bad = |v: Var<'_, f64>| {
            let seeded = (v * tape.constant(grads.wrt(v))).sum();
            let g = seeded.backward();
            g.reached(pv) && g[pv].iter().any(|x| !x.is_finite())
        };
        let culprit = find_culprit(&self.root, &var_of, &bad, &passes_bad);
        let g = &grads[pv];
        let i = g.iter().position(|x| !x.is_finite()).unwrap_or(0);
        Some(match culprit {
            Some(e) => self.error(e.span, format!("the gradient through {} is not finite on the first batch (p's gradient is {} at element {i})", describe(e), g[i])),
            None => self.error((0, self.text.chars().count()), format!("the gradient with respect to p is {} on the first batch (element {i})", g[i])),
        })
    }

    fn record<'t, T: Float>(&self, e: &Expr, t: Var<'t, T>, p: Var<'t, T>, visit: Visit<'_, 't, T>) -> Result<Val<'t, T>, FormulaError> {
        if let Some(c) = constant(e) {
            return Ok(Val::C(c));
        }
        let tape = p.tape();
        let var = |v: Val<'t, T>| match v {
            Val::V(v) => v,
            Val::C(c) => tape.scalar(T::from_f64(c)),
        };
        let out: Val<'t, T> = match &e.kind {
            ExprKind::Num(c) => Val::C(*c),
            ExprKind::T => return Ok(Val::V(t)),
            ExprKind::P => return Ok(Val::V(p)),
            ExprKind::Neg(x) => match self.record(x, t, p, visit)? {
                Val::C(c) => Val::C(-c),
                Val::V(v) => Val::V(-v),
            },
            ExprKind::Bin(op, a, b) => {
                let (a, b) = (self.record(a, t, p, visit)?, self.record(b, t, p, visit)?);
                let f = T::from_f64;
                match (op, a, b) {
                    (BinOp::Add, Val::V(a), Val::C(c)) | (BinOp::Add, Val::C(c), Val::V(a)) => Val::V(a + f(c)),
                    (BinOp::Sub, Val::V(a), Val::C(c)) => Val::V(a - f(c)),
                    (BinOp::Sub, Val::C(c), Val::V(b)) => Val::V(-b + f(c)),
                    (BinOp::Mul, Val::V(a), Val::C(c)) | (BinOp::Mul, Val::C(c), Val::V(a)) => Val::V(a * f(c)),
                    (BinOp::Div, Val::V(a), Val::C(c)) => Val::V(a / f(c)),
                    (BinOp::Pow, Val::V(a), Val::C(c)) => Val::V(a.powf(f(c))),
                    // c^x = exp(x ln c); x^y = exp(y ln x).
                    (BinOp::Pow, Val::C(c), Val::V(b)) => Val::V((b * f(c.ln())).exp()),
                    (BinOp::Pow, a, b) => Val::V((var(b) * var(a).log()).exp()),
                    (BinOp::Add, a, b) => Val::V(var(a) + var(b)),
                    (BinOp::Sub, a, b) => Val::V(var(a) - var(b)),
                    (BinOp::Mul, a, b) => Val::V(var(a) * var(b)),
                    (BinOp::Div, a, b) => Val::V(var(a) / var(b)),
                    (cmp, a, b) => {
                        // A comparison is a 0/1 mask without gradient.
                        let d = tape.no_grad(|| (var(a).detach() - var(b).detach()).value());
                        let test: fn(f64) -> bool = match cmp {
                            BinOp::Lt => |d| d < 0.0,
                            BinOp::Le => |d| d <= 0.0,
                            BinOp::Gt => |d| d > 0.0,
                            BinOp::Ge => |d| d >= 0.0,
                            BinOp::Eq => |d| d == 0.0,
                            _ => |d| d != 0.0,
                        };
                        Val::V(tape.constant(d.map(|v| if test(v.to_f64()) { T::ONE } else { T::ZERO })))
                    }
                }
            }
            ExprKind::Call(func, args, axis) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.record(a, t, p, visit)?);
                }
                match (func, vals.as_slice()) {
                    (Func::Where, [Val::C(m), a, _]) if *m != 0.0 => *a,
                    (Func::Where, [Val::C(_), _, b]) => *b,
                    (Func::Where, [m, a, b]) => Val::V(Var::where_(var(*m), var(*a), var(*b))),
                    (Func::Min, [a, b]) => Val::V(var(*a).minimum(var(*b))),
                    (Func::Max, [a, b]) => Val::V(var(*a).maximum(var(*b))),
                    (Func::Clip, [x, lo, hi]) => {
                        let (Val::C(lo), Val::C(hi)) = (lo, hi) else { unreachable!("clip bounds are numbers (checked by the parser)") };
                        Val::V(var(*x).clip(T::from_f64(*lo), T::from_f64(*hi)))
                    }
                    (Func::Mean | Func::Sum | Func::Min | Func::Max, [x]) => {
                        let x = var(*x);
                        Val::V(match (func, axis) {
                            (Func::Mean, None) => x.mean(),
                            (Func::Mean, Some(a)) => x.mean_axis(*a, false),
                            (Func::Sum, None) => x.sum(),
                            (Func::Sum, Some(a)) => x.sum_axis(*a, false),
                            (Func::Max, None) => x.max(),
                            (Func::Max, Some(a)) => x.max_axis(*a, false),
                            (_, None) => -((-x).max()),
                            (_, Some(a)) => -((-x).max_axis(*a, false)),
                        })
                    }
                    (f, [Val::C(c)]) => Val::C(unary_f64(*f, *c)),
                    (f, [Val::V(x)]) => Val::V(match f {
                        Func::Log => x.log(),
                        Func::Exp => x.exp(),
                        Func::Abs => x.abs(),
                        Func::Sqrt => x.sqrt(),
                        Func::Square => x.square(),
                        Func::Log1p => x.log1p(),
                        Func::Relu => x.relu(),
                        Func::Sigmoid => x.sigmoid(),
                        Func::Tanh => x.tanh(),
                        Func::Softplus => x.softplus(),
                        Func::Sin => x.sin(),
                        Func::Cos => x.cos(),
                        _ => return Err(self.error(e.span, format!("{} is not yet available: the tape has no {} op yet", name_of(*f), name_of(*f)))),
                    }),
                    _ => return Err(self.error(e.span, "wrong number of arguments")),
                }
            }
        };
        if let Val::V(v) = out {
            visit(e, v)?;
        }
        Ok(out)
    }
}

/// "log", "'/'", ...: the part of a formula an error is about.
fn describe(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Call(f, _, _) => name_of(*f).to_string(),
        ExprKind::Bin(op, _, _) => format!("'{}'", op.symbol()),
        ExprKind::Neg(_) => "unary '-'".into(),
        _ => "this value".into(),
    }
}

/// The first node, children before parents, whose own gradient is finite while it passes a
/// non-finite one on: to an inner node (whose gradient is its alone), or to `p` (checked by
/// `passes_bad`, since `p`'s gradient sums every use).
fn find_culprit<'e, 't>(
    e: &'e Expr,
    var_of: &dyn Fn(&Expr) -> Option<Var<'t, f64>>,
    bad: &dyn Fn(Var<'t, f64>) -> bool,
    passes_bad: &dyn Fn(Var<'t, f64>) -> bool,
) -> Option<&'e Expr> {
    let children: Vec<&Expr> = match &e.kind {
        ExprKind::Neg(x) => vec![x],
        ExprKind::Bin(_, a, b) => vec![a, b],
        ExprKind::Call(_, args, _) => args.iter().collect(),
        _ => vec![],
    };
    for c in &children {
        if let Some(found) = find_culprit(c, var_of, bad, passes_bad) {
            return Some(found);
        }
    }
    let v = var_of(e)?;
    if bad(v) {
        return None;
    }
    let inner_bad = children.iter().any(|c| !matches!(c.kind, ExprKind::P) && var_of(c).is_some_and(bad));
    let p_bad = children.iter().any(|c| matches!(c.kind, ExprKind::P)) && passes_bad(v);
    (inner_bad || p_bad).then_some(e)
}

fn uses_p(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::P => true,
        ExprKind::Num(_) | ExprKind::T => false,
        ExprKind::Neg(x) => uses_p(x),
        // A comparison has no gradient: it does not make the loss depend on p.
        ExprKind::Bin(op, a, b) => !op.is_comparison() && (uses_p(a) || uses_p(b)),
        ExprKind::Call(Func::Where, args, _) => uses_p(&args[1]) || uses_p(&args[2]),
        ExprKind::Call(_, args, _) => args.iter().any(uses_p),
    }
}
