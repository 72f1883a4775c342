//! Ops between a tensor and one scalar constant `c`, and clipping. As in `unary.rs`, each row gives
//! the forward rule and the local derivative `dy/dx` side by side.

use crate::ops::Op;
use crate::tape::{Back, Var};
use crate::tensor::Float;
use std::ops::{Add, Div, Mul, Sub};

macro_rules! scalar_ops {
    ($( $variant:ident, $name:literal: |$x:ident, $c:ident| $fwd:expr, |$dx:ident, $dc:ident| $der:expr; )*) => {
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
            /// `gx[i] += g[i] * dy/dx(x[i]; c)`, the op chosen once.
            #[inline]
            #[allow(unused_variables)]
            fn accumulate<T: Float>(self, xs: &[T], c: T, g: &[T], gx: &mut [T]) {
                match self {
                    $(ScalarOp::$variant => {
                        let $dc = c;
                        gx.iter_mut().zip(g.iter().zip(xs)).for_each(|(o, (&gi, &$dx))| *o += gi * $der)
                    }),*
                }
            }
        }
    };
}

scalar_ops! {
    AddScalar, "add_scalar": |x, c| x + c,     |x, c| T::ONE;
    MulScalar, "mul_scalar": |x, c| x * c,     |x, c| c;
    DivScalar, "div_scalar": |x, c| x / c,     |x, c| T::ONE / c;
    RSub,      "rsub":       |x, c| c - x,     |x, c| -T::ONE;
    RDiv,      "rdiv":       |x, c| c / x,     |x, c| -c / (x * x);
    Pow,       "pow":        |x, c| x.powf(c), |x, c| if c == T::ZERO { T::ZERO } else { c * x.powf(c - T::ONE) };
}

impl<'t, T: Float> Var<'t, T> {
    #[track_caller]
    #[inline]
    pub(crate) fn scalar_op(self, kind: ScalarOp, c: T) -> Var<'t, T> {
        let x = self.id();
        self.tape().record_full(Op::Scalar(kind, c, x), self.shape(), self.requires_grad(), |f, out| {
            kind.map(f.x(x), c, out)
        })
    }

    /// `x^p` for a constant exponent (PyTorch's `pow` with a number).
    #[track_caller]
    pub fn powf(self, p: T) -> Var<'t, T> {
        self.scalar_op(ScalarOp::Pow, p)
    }

    /// Clamps every element into `[lo, hi]`. The gradient passes where `lo <= x <= hi` (the closed
    /// interval) and is 0 outside it, as in TensorFlow.
    #[track_caller]
    pub fn clip(self, lo: T, hi: T) -> Var<'t, T> {
        assert!(lo <= hi, "clip: lower bound {lo} is above upper bound {hi}");
        let x = self.id();
        self.tape().record_full(Op::Clip { lo, hi, x }, self.shape(), self.requires_grad(), |f, out| {
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

/// `dL/dx += dL/dy * dy/dx` for a tensor-scalar op.
pub(crate) fn backward<T: Float>(kind: ScalarOp, c: T, x: u32, b: &mut Back<'_, T>) {
    let (xv, g) = (b.x(x), b.g);
    kind.accumulate(xv, c, g, b.grad(x));
}

/// clip: `dy/dx = 1` on `[lo, hi]`, 0 outside.
pub(crate) fn backward_clip<T: Float>(lo: T, hi: T, x: u32, b: &mut Back<'_, T>) {
    let (xv, g) = (b.x(x), b.g);
    for (o, (&gi, &v)) in b.grad(x).iter_mut().zip(g.iter().zip(xv)) {
        if v >= lo && v <= hi {
            *o += gi;
        }
    }
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
