//! Elementwise functions of one input: one op unit per table row.
//!
//! A row holds the op's whole math: its name, the forward rule `y = f(x)`, and its derivative as a
//! vector-Jacobian product `g * dy/dx`, written with `x`, `y` and `g` over [`Elem`](crate::ops::elem::Elem). From that one
//! derivative come
//! - the reverse sweep's rule (evaluated on numbers: `dx += g * f'(x)`),
//! - the recorded rule that `Var::grad` differentiates again (evaluated on `Var`s),
//! - the JVP of forward mode (the same rule with the tangent in place of `g`, as it is linear in `g`).

use crate::ops::elem::{sign, sigmoid};
use crate::ops::{Contribs, Op};
use crate::tape::{Back, Jvp, Var};
use crate::tensor::kernels::simd;
use crate::tensor::parallel::{split_in_two, SPLIT_LEN};
use crate::tensor::Float;

/// `1 / sqrt(2 pi)`: the standard normal density at 0.
const GELU_PHI: f64 = 0.398_942_280_401_432_7;
/// `sqrt(2 / pi)`, the tanh approximation's scale.
const GELU_C: f64 = 0.797_884_560_802_865_4;

macro_rules! unary_table {
    ($( $variant:ident, $name:literal: y = |$x:ident| $fwd:expr, vjp = |$dx:ident, $dy:ident, $g:ident| $vjp:expr; )*) => {
        /// The elementwise unary ops.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Unary { $($variant),* }

        impl Unary {
            pub fn name(self) -> &'static str {
                match self { $(Unary::$variant => $name),* }
            }
            /// `out[i] = f(x[i])`, the op chosen once outside the loop, compiled for the CPU's
            /// widest vectors ([`simd::dispatch`]).
            #[inline]
            fn map<T: Float>(self, xs: &[T], out: &mut [T]) {
                simd::dispatch_for(out.len(), #[inline(always)] || match self {
                    $(Unary::$variant => out.iter_mut().zip(xs).for_each(|(o, &$x)| *o = $fwd)),*
                })
            }
            /// `g * dy/dx` at `(x, y)`, over numbers or recorded values.
            #[inline(always)]
            #[allow(unused_variables)]
            fn vjp<T: Float, E: crate::ops::elem::Elem<T>>(self, x: E, y: E, g: E) -> E {
                match self { $(Unary::$variant => { let ($dx, $dy, $g) = (x, y, g); $vjp }),* }
            }
            /// `out[i] (+)= rule(x[i], y[i], g[i])` over whole buffers, the op chosen once.
            #[inline]
            fn apply<T: Float>(self, xs: &[T], ys: &[T], g: &[T], out: &mut [T], add: bool) {
                simd::dispatch_for(out.len(), #[inline(always)] || match self {
                    $(Unary::$variant => {
                        let it = out.iter_mut().zip(g).zip(xs.iter().zip(ys));
                        if add {
                            it.for_each(|((o, &gi), (&xi, &yi))| *o += Unary::$variant.vjp(xi, yi, gi))
                        } else {
                            it.for_each(|((o, &gi), (&xi, &yi))| *o = Unary::$variant.vjp(xi, yi, gi))
                        }
                    }),*
                })
            }
        }
    };
}

unary_table! {
    Neg, "neg":           y = |x| -x,          vjp = |x, y, g| -g;
    Square, "square":     y = |x| x * x,       vjp = |x, y, g| g * x * T::from_f64(2.0);
    // d sqrt(x) = 1 / (2 sqrt x): infinite at 0.
    Sqrt, "sqrt":         y = |x| x.sqrt(),    vjp = |x, y, g| g * T::from_f64(0.5) / y;
    Exp, "exp":           y = |x| x.exp(),     vjp = |x, y, g| g * y;
    Log, "log":           y = |x| x.ln(),      vjp = |x, y, g| g / x;
    Log1p, "log1p":       y = |x| x.ln_1p(),   vjp = |x, y, g| g / (x + T::ONE);
    // |x|' = sign(x): 0 at 0 (PyTorch and TensorFlow agree).
    Abs, "abs":           y = |x| x.abs(),     vjp = |x, y, g| g * x.sign();
    // relu' = 1 where x > 0, 0 at and below the kink (PyTorch and TensorFlow agree).
    Relu, "relu":         y = |x| if x > T::ZERO { x } else { T::ZERO }, vjp = |x, y, g| g * x.step();
    // sigma' = sigma (1 - sigma).
    Sigmoid, "sigmoid":   y = |x| sigmoid(x),  vjp = |x, y, g| g * y * y.rsub(T::ONE);
    // tanh' = 1 - tanh^2.
    Tanh, "tanh":         y = |x| x.tanh(),    vjp = |x, y, g| g * y.square().rsub(T::ONE);
    // ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), finite for any x; its derivative is sigma(x).
    Softplus, "softplus": y = |x| x.max(T::ZERO) + (-x.abs()).exp_nonpositive().ln_1p(), vjp = |x, y, g| g * x.sigmoid();
    Sin, "sin":           y = |x| x.sin(),     vjp = |x, y, g| g * x.cos();
    Cos, "cos":           y = |x| x.cos(),     vjp = |x, y, g| -(g * x.sin());
    // tan' = 1 + tan^2.
    Tan, "tan":           y = |x| x.tan(),     vjp = |x, y, g| g * (y.square() + T::ONE);
    // erf' = 2/sqrt(pi) e^(-x^2).
    Erf, "erf":           y = |x| x.erf(),     vjp = |x, y, g| g * (-x.square()).exp() * T::from_f64(std::f64::consts::FRAC_2_SQRT_PI);
    // gelu = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2; gelu' = Phi(x) + x phi(x).
    Gelu, "gelu":         y = |x| x * T::from_f64(0.5) * ((x * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf() + T::ONE),
                          vjp = |x, y, g| g * ((x * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf() * T::from_f64(0.5) + T::from_f64(0.5)
                              + x * (x.square() * T::from_f64(-0.5)).exp() * T::from_f64(GELU_PHI));
    // gelu_tanh = x (1 + tanh u) / 2, u = sqrt(2/pi) (x + 0.044715 x^3);
    // its derivative (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2, t = tanh u.
    GeluTanh, "gelu_tanh": y = |x| x * T::from_f64(0.5) * ((x + x * x * x * T::from_f64(0.044715)) * T::from_f64(GELU_C)).tanh() + x * T::from_f64(0.5),
                          vjp = |x, y, g| {
                              let t = ((x + x.square() * x * T::from_f64(0.044715)) * T::from_f64(GELU_C)).tanh();
                              g * (t * T::from_f64(0.5) + T::from_f64(0.5)
                                  + x * t.square().rsub(T::ONE) * (x.square() * T::from_f64(3.0 * 0.044715) + T::ONE) * T::from_f64(0.5 * GELU_C))
                          };
    // silu = x sigma(x); silu' = s (1 + x (1 - s)), s = sigma(x).
    Silu, "silu":         y = |x| x * sigmoid(x), vjp = |x, y, g| { let s = x.sigmoid(); g * s * (x * s.rsub(T::ONE) + T::ONE) };
    // sign has no gradient: it is recorded untracked, so this rule never runs.
    Sign, "sign":         y = |x| sign(x), vjp = |x, y, g| g * T::ZERO;
}

// `neg` is also the unary `-` operator (implemented in binary.rs).
#[allow(clippy::should_implement_trait)]
impl<'t, T: Float> Var<'t, T> {
    /// Negation, `-x` (also the unary `-` operator).
    #[track_caller]
    pub fn neg(self) -> Var<'t, T> {
        self.unary(Unary::Neg)
    }
    /// `x^2`.
    #[track_caller]
    pub fn square(self) -> Var<'t, T> {
        self.unary(Unary::Square)
    }
    /// Square root; its derivative `1 / (2 sqrt x)` is infinite at 0.
    #[track_caller]
    pub fn sqrt(self) -> Var<'t, T> {
        self.unary(Unary::Sqrt)
    }
    /// `e^x`.
    #[track_caller]
    pub fn exp(self) -> Var<'t, T> {
        self.unary(Unary::Exp)
    }
    /// Natural logarithm.
    #[track_caller]
    pub fn log(self) -> Var<'t, T> {
        self.unary(Unary::Log)
    }
    /// `ln(1 + x)`, accurate for small `x`.
    #[track_caller]
    pub fn log1p(self) -> Var<'t, T> {
        self.unary(Unary::Log1p)
    }
    /// `|x|`; the derivative at 0 is 0 (as PyTorch and TensorFlow).
    #[track_caller]
    pub fn abs(self) -> Var<'t, T> {
        self.unary(Unary::Abs)
    }
    /// `max(x, 0)`; the derivative at 0 is 0 (as PyTorch and TensorFlow).
    #[track_caller]
    pub fn relu(self) -> Var<'t, T> {
        self.unary(Unary::Relu)
    }
    /// Logistic `1 / (1 + e^-x)`, stable for large `|x|`.
    #[track_caller]
    pub fn sigmoid(self) -> Var<'t, T> {
        self.unary(Unary::Sigmoid)
    }
    /// Hyperbolic tangent.
    #[track_caller]
    pub fn tanh(self) -> Var<'t, T> {
        self.unary(Unary::Tanh)
    }
    /// `ln(1 + e^x)`, computed as `max(x, 0) + ln(1 + e^-|x|)` so it is finite for any `x`.
    #[track_caller]
    pub fn softplus(self) -> Var<'t, T> {
        self.unary(Unary::Softplus)
    }
    /// Sine (`torch.sin`).
    #[track_caller]
    pub fn sin(self) -> Var<'t, T> {
        self.unary(Unary::Sin)
    }
    /// Cosine (`torch.cos`).
    #[track_caller]
    pub fn cos(self) -> Var<'t, T> {
        self.unary(Unary::Cos)
    }
    /// Tangent (`torch.tan`); its derivative `1 + tan^2` grows without bound near `pi/2 + k pi`.
    #[track_caller]
    pub fn tan(self) -> Var<'t, T> {
        self.unary(Unary::Tan)
    }
    /// The error function (`torch.erf`), to full `f32`/`f64` accuracy (`libm`).
    ///
    /// ```
    /// use tapegrad::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(Tensor::from_vec(vec![0.0, 1.0], &[2]));
    /// let y = x.erf();
    /// assert_eq!(y.value().data(), &[0.0, 0.842_700_792_949_714_9]);
    /// ```
    #[track_caller]
    pub fn erf(self) -> Var<'t, T> {
        self.unary(Unary::Erf)
    }
    /// GELU, exact: `x Φ(x)` with `Φ` the standard normal CDF, `x (1 + erf(x / √2)) / 2` (PyTorch's
    /// `F.gelu(x)`, Keras' `gelu(x, approximate=False)`).
    #[track_caller]
    pub fn gelu(self) -> Var<'t, T> {
        self.unary(Unary::Gelu)
    }
    /// GELU, tanh approximation: `x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2` (PyTorch's
    /// `F.gelu(x, approximate="tanh")`, Keras' `gelu(x, approximate=True)`).
    #[track_caller]
    pub fn gelu_tanh(self) -> Var<'t, T> {
        self.unary(Unary::GeluTanh)
    }
    /// SiLU (swish): `x σ(x)` (PyTorch's `F.silu`, Keras' `silu`/`swish`).
    #[track_caller]
    pub fn silu(self) -> Var<'t, T> {
        self.unary(Unary::Silu)
    }
    /// -1, 0 or 1 by the sign of each element (`torch.sign`); no gradient flows through it.
    #[track_caller]
    pub fn sign(self) -> Var<'t, T> {
        let x = self.id();
        self.tape().record(Op::Unary(Unary::Sign, x), self.shape(), false, |f, out| Unary::Sign.map(f.x(x), out))
    }

    #[track_caller]
    #[inline]
    fn unary(self, kind: Unary) -> Var<'t, T> {
        let x = self.id();
        self.tape().record(Op::Unary(kind, x), self.shape(), self.requires_grad(), |f, out| {
            let xs = f.x(x);
            split_in_two(out, SPLIT_LEN, |s, part| kind.map(&xs[s..s + part.len()], part));
        })
    }
}

/// Reverse sweep: `dx += g * dy/dx`, element by element; the first contribution to `dx` is
/// written rather than added to a cleared buffer (one pass over it instead of three: 1.5% of the
/// 784-1024-1024-10 MLP step, where this is the relu's gradient). Like the forward rule, a large
/// buffer is done in two halves on two threads (another 2% of that step).
pub(crate) fn vjp<T: Float>(kind: Unary, x: u32, b: &mut Back<'_, T>) {
    let (xv, y, g) = (b.x(x), b.y, b.g);
    let (gx, beta) = b.grad_or_overwrite(x);
    split_in_two(gx, SPLIT_LEN, |s, part| {
        let r = s..s + part.len();
        kind.apply(&xv[r.clone()], &y[r.clone()], &g[r], part, beta == T::ONE);
    });
}

/// Recorded rule: the same derivative evaluated on `Var`s.
pub(crate) fn vjp_recorded<'t, T: Float>(kind: Unary, x: Var<'t, T>, y: Var<'t, T>, g: Var<'t, T>, out: &mut Contribs<'t, T>) {
    out.push((x.id(), kind.vjp(x, y, g)));
}

/// Forward mode: `ty = tx * dy/dx`, the rule with the tangent in place of `g`.
pub(crate) fn jvp<T: Float>(kind: Unary, x: u32, j: &Jvp<'_, T>, d: usize, out: &mut [T]) {
    kind.apply(j.x(x), j.y, j.t(x, d), out, false);
}
