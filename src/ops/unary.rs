//! Elementwise functions of one input. Each row of the table below is one op: its name, the
//! forward rule `y = f(x)`, and the local derivative `dy/dx` written with `x` and `y`; the reverse
//! sweep multiplies that derivative by the incoming gradient.

use crate::tape::{Back, Var};
use crate::tensor::Float;

macro_rules! unary_ops {
    ($( $(#[$doc:meta])* $variant:ident, $method:ident, $name:literal:
        |$x:ident| $fwd:expr, |$dx:ident, $dy:ident| $der:expr; )*) => {
        /// The elementwise unary ops.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Unary { $($variant),* }

        impl Unary {
            pub fn name(self) -> &'static str {
                match self { $(Unary::$variant => $name),* }
            }
            /// `out[i] = f(x[i])`: the op is chosen once, outside the loop.
            #[inline]
            fn map<T: Float>(self, xs: &[T], out: &mut [T]) {
                match self {
                    $(Unary::$variant => out.iter_mut().zip(xs).for_each(|(o, &$x)| *o = $fwd)),*
                }
            }
            /// `gx[i] += g[i] * dy/dx(x[i], y[i])`, the op chosen once; a `fresh` buffer (stale
            /// contents) is written as if it held zeros, without reading it.
            #[inline]
            #[allow(unused_variables)]
            fn accumulate<T: Float>(self, xs: &[T], ys: &[T], g: &[T], gx: &mut [T], fresh: bool) {
                match self {
                    $(Unary::$variant => {
                        let it = gx.iter_mut().zip(g).zip(xs.iter().zip(ys));
                        if fresh {
                            it.for_each(|((o, &gi), (&$dx, &$dy))| *o = T::ZERO + gi * $der)
                        } else {
                            it.for_each(|((o, &gi), (&$dx, &$dy))| *o += gi * $der)
                        }
                    }),*
                }
            }
        }

        // `neg` is also reachable as the `-` operator (implemented in binary.rs).
        #[allow(clippy::should_implement_trait)]
        impl<'t, T: Float> Var<'t, T> {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $method(self) -> Var<'t, T> { self.unary(Unary::$variant) }
            )*
        }
    };
}

fn c<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

/// Logistic function, computed without overflow on either side.
#[inline(always)]
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::ONE + e)
    }
}

unary_ops! {
    /// Negation, `-x` (also the unary `-` operator).
    Neg, neg, "neg":            |x| -x,            |x, y| -T::ONE;
    /// `x^2`.
    Square, square, "square":   |x| x * x,         |x, y| c::<T>(2.0) * x;
    /// Square root; its derivative `1 / (2 sqrt x)` is infinite at 0.
    Sqrt, sqrt, "sqrt":         |x| x.sqrt(),      |x, y| c::<T>(0.5) / y;
    /// `e^x`.
    Exp, exp, "exp":            |x| x.exp(),       |x, y| y;
    /// Natural logarithm.
    Log, log, "log":            |x| x.ln(),        |x, y| T::ONE / x;
    /// `ln(1 + x)`, accurate for small `x`.
    Log1p, log1p, "log1p":      |x| x.ln_1p(),     |x, y| T::ONE / (T::ONE + x);
    /// `|x|`; the derivative at 0 is 0 (as PyTorch and TensorFlow).
    Abs, abs, "abs":            |x| x.abs(),       |x, y| if x > T::ZERO { T::ONE } else if x < T::ZERO { -T::ONE } else { T::ZERO };
    /// `max(x, 0)`; the derivative at 0 is 0.
    Relu, relu, "relu":         |x| if x > T::ZERO { x } else { T::ZERO },  |x, y| if x > T::ZERO { T::ONE } else { T::ZERO };
    /// Logistic `1 / (1 + e^-x)`, stable for large `|x|`.
    Sigmoid, sigmoid, "sigmoid": |x| sigmoid(x),   |x, y| y * (T::ONE - y);
    /// Hyperbolic tangent.
    Tanh, tanh, "tanh":         |x| x.tanh(),      |x, y| T::ONE - y * y;
    /// `ln(1 + e^x)` as `max(x, 0) + ln(1 + e^-|x|)`, finite for any `x`.
    Softplus, softplus, "softplus": |x| x.max(T::ZERO) + (-x.abs()).exp().ln_1p(), |x, y| sigmoid(x);
}

impl<'t, T: Float> Var<'t, T> {
    #[track_caller]
    #[inline]
    fn unary(self, kind: Unary) -> Var<'t, T> {
        let x = self.id();
        self.tape().record_full(crate::ops::Op::Unary(kind, x), self.shape(), self.requires_grad(), |f, out| {
            kind.map(f.x(x), out)
        })
    }
}

/// `dL/dx += dL/dy * dy/dx`, element by element.
pub(crate) fn backward<T: Float>(kind: Unary, x: u32, b: &mut Back<'_, T>) {
    let (xv, y, g) = (b.x(x), b.y, b.g);
    let (gx, fresh) = b.grad_for_write(x);
    kind.accumulate(xv, y, g, gx, fresh);
}
