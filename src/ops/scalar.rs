//! Ops between a tensor and one scalar constant `c`, and clipping. As in `unary.rs`, each row gives
//! the forward rule and the local derivative `dy/dx` side by side.

use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::Float;
use std::ops::{Add, Div, Mul, Sub};

macro_rules! scalar_table {
    ($( $variant:ident, $name:literal: y = |$x:ident, $c:ident| $fwd:expr, vjp = |$dx:ident, $dc:ident, $g:ident| $vjp:expr; )*) => {
        /// The tensor-scalar ops.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum ScalarOp { $($variant),* }

        impl ScalarOp {
            pub fn name(self) -> &'static str {
                match self { $(ScalarOp::$variant => $name),* }
            }
            /// `out[i] = f(x[i]; c)`, the op chosen once outside the loop.
            #[inline]
            fn map<T: Float>(self, xs: &[T], c: T, out: &mut [T]) {
                match self {
                    $(ScalarOp::$variant => { let $c = c; out.iter_mut().zip(xs).for_each(|(o, &$x)| *o = $fwd) }),*
                }
            }
            /// `g * dy/dx` at `x` for the constant `c`, over numbers or recorded values.
            #[inline(always)]
            #[allow(unused_variables)]
            fn vjp<T: Float, E: crate::ops::elem::Elem<T>>(self, x: E, c: T, g: E) -> E {
                match self { $(ScalarOp::$variant => { let ($dx, $dc, $g) = (x, c, g); $vjp }),* }
            }
            /// `out[i] (+)= rule(x[i], g[i])` over whole buffers, the op chosen once.
            #[inline]
            fn apply<T: Float>(self, xs: &[T], c: T, g: &[T], out: &mut [T], add: bool) {
                match self {
                    $(ScalarOp::$variant => {
                        let it = out.iter_mut().zip(g.iter().zip(xs));
                        if add {
                            it.for_each(|(o, (&gi, &xi))| *o += ScalarOp::$variant.vjp(xi, c, gi))
                        } else {
                            it.for_each(|(o, (&gi, &xi))| *o = ScalarOp::$variant.vjp(xi, c, gi))
                        }
                    }),*
                }
            }
        }
    };
}

scalar_table! {
    AddScalar, "add_scalar": y = |x, c| x + c,     vjp = |x, c, g| g;
    MulScalar, "mul_scalar": y = |x, c| x * c,     vjp = |x, c, g| g * c;
    DivScalar, "div_scalar": y = |x, c| x / c,     vjp = |x, c, g| g / c;
    RSub,      "rsub":       y = |x, c| c - x,     vjp = |x, c, g| -g;
    // d(c / x) = -c / x^2.
    RDiv,      "rdiv":       y = |x, c| c / x,     vjp = |x, c, g| -(g * c) / x.square();
    // d x^c = c x^(c - 1); 0 for c = 0 (x^0 = 1 everywhere, also at x = 0).
    Pow,       "pow":        y = |x, c| x.powf(c), vjp = |x, c, g| if c == T::ZERO { g * T::ZERO } else { g * x.powf(c - T::ONE) * c };
}

impl<'t, T: Float> Var<'t, T> {
    #[track_caller]
    #[inline]
    pub(crate) fn scalar_op(self, kind: ScalarOp, c: T) -> Var<'t, T> {
        let x = self.id();
        self.tape().record(Op::Scalar(kind, c, x), self.shape(), self.requires_grad(), |f, out| {
            kind.map(f.x(x), c, out)
        })
    }

    /// `x^p` for a constant exponent (PyTorch's `pow` with a number).
    #[track_caller]
    pub fn powf(self, p: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::Pow, p)
    }

    /// `c - x` (PyTorch's `rsub`); for `f32` and `f64` also written `c - x`.
    #[track_caller]
    pub fn rsub(self, c: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::RSub, c)
    }

    /// `c / x`; for `f32` and `f64` also written `c / x`.
    #[track_caller]
    pub fn rdiv(self, c: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::RDiv, c)
    }

    /// `1 / x` (PyTorch's `reciprocal`).
    #[track_caller]
    pub fn recip(self) -> Var<'t, T> {
        self.scalar_op(ScalarOp::RDiv, T::ONE)
    }

    /// Clamps every element into `[lo, hi]`. The gradient passes where `lo <= x <= hi` (the closed
    /// interval) and is 0 outside it. That is TensorFlow's convention, which tapegrad follows;
    /// PyTorch's `clamp` gives 0 at the bounds themselves.
    #[track_caller]
    pub fn clip(self, lo: T, hi: T) -> Var<'t, T> {
        assert!(lo <= hi, "clip: lower bound {lo} is above upper bound {hi}");
        let x = self.id();
        self.tape().record(Op::Clip { lo, hi, x }, self.shape(), self.requires_grad(), |f, out| {
            for (o, &v) in out.iter_mut().zip(f.x(x)) {
                // y = min(max(x, lo), hi)
                *o = if v < lo { lo } else if v > hi { hi } else { v };
            }
        })
    }

    /// Same as [`clip`](Self::clip) (PyTorch's name).
    #[track_caller]
    pub fn clamp(self, lo: T, hi: T) -> Var<'t, T> {
        self.clip(lo, hi)
    }
}

/// Reverse sweep: `dx += g * dy/dx`.
pub(crate) fn vjp<T: Float>(kind: ScalarOp, c: T, x: u32, b: &mut Back<'_, T>) {
    let (xv, g) = (b.x(x), b.g);
    kind.apply(xv, c, g, b.grad(x), true);
}

/// Recorded rule: the same derivative on `Var`s.
pub(crate) fn vjp_recorded<'t, T: Float>(kind: ScalarOp, c: T, x: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((x.id(), kind.vjp(x, c, g)));
}

/// Forward mode: `ty = tx * dy/dx`.
pub(crate) fn jvp<T: Float>(kind: ScalarOp, c: T, x: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    kind.apply(j.x(x), c, j.t(x, d), out, false);
}

/// clip's one derivative: `g` passes on the closed interval `[lo, hi]` and is 0 outside it, as in
/// TensorFlow (whose references tapegrad matches; PyTorch's clamp differs at the bounds).
#[inline(always)]
fn clip_vjp<T: Float, E: crate::ops::elem::Elem<T>>(x: E, lo: T, hi: T, g: E) -> E {
    g * x.inside(lo, hi)
}

/// clip, reverse sweep.
pub(crate) fn vjp_clip<T: Float>(lo: T, hi: T, x: u32, b: &mut Back<'_, T>) {
    let (xv, g) = (b.x(x), b.g);
    b.grad(x).iter_mut().zip(g.iter().zip(xv)).for_each(|(o, (&gi, &v))| *o += clip_vjp(v, lo, hi, gi));
}

/// clip, recorded rule.
pub(crate) fn vjp_recorded_clip<'t, T: Float>(lo: T, hi: T, x: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((x.id(), clip_vjp(x, lo, hi, g)));
}

/// clip, forward mode.
pub(crate) fn jvp_clip<T: Float>(lo: T, hi: T, x: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    let (xv, t) = (j.x(x), j.t(x, d));
    out.iter_mut().zip(t.iter().zip(xv)).for_each(|(o, (&ti, &v))| *o = clip_vjp(v, lo, hi, ti));
}

// Operators between a Var and a scalar of its element type, on both sides.
impl<'t, T: Float> Add<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    #[track_caller]
    fn add(self, c: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::AddScalar, c)
    }
}
impl<'t, T: Float> Sub<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    #[track_caller]
    fn sub(self, c: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::AddScalar, -c)
    }
}
impl<'t, T: Float> Mul<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    #[track_caller]
    fn mul(self, c: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::MulScalar, c)
    }
}
impl<'t, T: Float> Div<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    #[track_caller]
    fn div(self, c: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::DivScalar, c)
    }
}

macro_rules! scalar_on_left {
    ($($t:ty),*) => {$(
        impl<'t> Add<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            #[track_caller]
            fn add(self, x: Var<'t, $t>) -> Var<'t, $t> { x.scalar_op(ScalarOp::AddScalar, self) }
        }
        impl<'t> Sub<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            #[track_caller]
            fn sub(self, x: Var<'t, $t>) -> Var<'t, $t> { x.scalar_op(ScalarOp::RSub, self) }
        }
        impl<'t> Mul<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            #[track_caller]
            fn mul(self, x: Var<'t, $t>) -> Var<'t, $t> { x.scalar_op(ScalarOp::MulScalar, self) }
        }
        impl<'t> Div<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            #[track_caller]
            fn div(self, x: Var<'t, $t>) -> Var<'t, $t> { x.scalar_op(ScalarOp::RDiv, self) }
        }
    )*};
}
scalar_on_left!(f32, f64);
